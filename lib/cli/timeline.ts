import { Tally, type TallyData } from './tally'

// Bin widths in minutes, each a multiple of the one before, so bins merge when they widen.
const WIDTHS = [1, 5, 15, 30, 60, 180, 360, 720, 1440, 2880, 8640]
/** A chart has at most this many bins: the window decides the width. */
export const MAX_BINS = 360
// Each bin keeps this many response times exactly, then sketches them.
const BIN_EXACT = 64

export interface TimelineBin {
  /** Start of the bin, ISO. */
  readonly start: string
  readonly requests: number
  readonly clientErrors: number
  readonly serverErrors: number
  readonly slow: number
  readonly p50: number | null
  readonly p95: number | null
  readonly p99: number | null
}

export interface TimelineData {
  width: number
  bins: Array<[number, TallyData]>
}

/** Requests, errors and latency over time, in at most MAX_BINS bins of a width that grows with the window. */
export class Timeline {
  /** Minutes per bin. */
  width = 1
  private bins = new Map<number, Tally>()
  private low = Infinity
  private high = -Infinity
  private lastPrefix = ''
  private lastMinute = 0

  add (time: string, status: number, ms: number, slow: boolean): void {
    this.bin(this.minuteOf(time)).add(status, ms, slow)
  }

  // The bin of a minute since the epoch, the bins widened first if the span needs it.
  private bin (minute: number): Tally {
    let key = Math.floor(minute / this.width)
    while (Math.max(this.high, key) - Math.min(this.low, key) + 1 > MAX_BINS) {
      this.widen(WIDTHS.find((width) => width > this.width) ?? this.width * 2)
      key = Math.floor(minute / this.width)
    }
    if (key < this.low) this.low = key
    if (key > this.high) this.high = key
    let bin = this.bins.get(key)
    if (bin === undefined) {
      bin = new Tally(BIN_EXACT)
      this.bins.set(key, bin)
    }
    return bin
  }

  // Timestamps arrive mostly in order: one Date.parse per minute of them.
  private minuteOf (time: string): number {
    const prefix = time.slice(0, 16)
    if (prefix !== this.lastPrefix) {
      this.lastPrefix = prefix
      this.lastMinute = Math.floor(Date.parse(prefix + ':00.000Z') / 60_000)
    }
    return this.lastMinute
  }

  private widen (width: number): void {
    const factor = width / this.width
    const bins = new Map<number, Tally>()
    for (const [key, bin] of this.bins) {
      const merged = Math.floor(key / factor)
      const into = bins.get(merged)
      if (into === undefined) bins.set(merged, bin)
      else into.merge(bin)
    }
    this.bins = bins
    this.width = width
    if (this.low !== Infinity) {
      this.low = Math.floor(this.low / factor)
      this.high = Math.floor(this.high / factor)
    }
  }

  /** Adds another timeline's bins (read from other files by another thread). */
  merge (other: Timeline): void {
    if (other.width > this.width) this.widen(other.width)
    for (const [key, bin] of other.bins) {
      // Either width divides the other: a bin of `other` lands in one bin here.
      this.bin(key * other.width).merge(bin)
    }
  }

  toData (): TimelineData {
    return { width: this.width, bins: [...this.bins].map(([key, bin]) => [key, bin.toData()]) }
  }

  static fromData (data: TimelineData): Timeline {
    const timeline = new Timeline()
    timeline.width = data.width
    for (const [key, bin] of data.bins) {
      timeline.bins.set(key, Tally.fromData(bin))
      if (key < timeline.low) timeline.low = key
      if (key > timeline.high) timeline.high = key
    }
    return timeline
  }

  /** Every bin from the first to the last, empty ones included. */
  series (): TimelineBin[] {
    const out: TimelineBin[] = []
    for (let key = this.low; key <= this.high; key++) {
      const bin = this.bins.get(key)
      const start = new Date(key * this.width * 60_000).toISOString()
      if (bin === undefined) {
        out.push({ start, requests: 0, clientErrors: 0, serverErrors: 0, slow: 0, p50: null, p95: null, p99: null })
      } else {
        out.push({
          start,
          requests: bin.requests,
          clientErrors: bin.clientErrors,
          serverErrors: bin.serverErrors,
          slow: bin.slow,
          p50: bin.latency.quantile(0.5),
          p95: bin.latency.quantile(0.95),
          p99: bin.latency.quantile(0.99)
        })
      }
    }
    return out
  }
}
