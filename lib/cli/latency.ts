/**
 * Response-time percentiles in bounded memory: exact (every value kept) up to a number of values,
 * then a DDSketch (Masson, Rim and Lee, VLDB 2019): values fall into logarithmic buckets whose
 * bounds grow by `GAMMA`, so the value returned for a percentile is within `RELATIVE_ACCURACY` of
 * the exact one, however many values were added, and two sketches merge by adding their counts.
 * Percentiles are nearest-rank in both modes: the value of rank ⌈q·n⌉ in sorted order.
 */

/** A percentile read from the sketch is within 1% of the exact one (relative to the exact value). */
export const RELATIVE_ACCURACY = 0.01
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
const LN_GAMMA = Math.log(GAMMA)
// Response times are written with two decimals: anything below this is a zero.
const MIN_POSITIVE = 1e-6

/** How many values an endpoint's percentiles stay exact for. */
export const EXACT_LIMIT = 10_000

export interface SketchData {
  offset: number
  counts: number[]
  zero: number
}

/** Logarithmic buckets: bucket k counts the values in (GAMMA^(k-1), GAMMA^k]. */
export class DDSketch {
  private offset = 0
  private counts: number[] = []
  private zero = 0

  add (value: number, count = 1): void {
    if (!(value > MIN_POSITIVE)) {
      this.zero += count
      return
    }
    const key = Math.ceil(Math.log(value) / LN_GAMMA)
    if (this.counts.length === 0) {
      this.offset = key
      this.counts.push(0)
    } else if (key < this.offset) {
      this.counts.unshift(...new Array<number>(this.offset - key).fill(0))
      this.offset = key
    } else if (key >= this.offset + this.counts.length) {
      for (let n = key - this.offset - this.counts.length + 1; n > 0; n--) this.counts.push(0)
    }
    this.counts[key - this.offset] += count
  }

  merge (other: DDSketch): void {
    if (other.zero > 0) this.add(0, other.zero)
    for (let i = 0; i < other.counts.length; i++) {
      if (other.counts[i] > 0) this.addKey(other.offset + i, other.counts[i])
    }
  }

  private addKey (key: number, count: number): void {
    // The bucket's own representative value lands back in the same bucket.
    this.add(bucketValue(key), count)
  }

  /** The value of rank `rank` (1-based) among `total` values: its bucket's representative. */
  valueAtRank (rank: number): number {
    let seen = this.zero
    if (rank <= seen) return 0
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]
      if (rank <= seen) return bucketValue(this.offset + i)
    }
    return this.counts.length === 0 ? 0 : bucketValue(this.offset + this.counts.length - 1)
  }

  toData (): SketchData {
    return { offset: this.offset, counts: this.counts, zero: this.zero }
  }

  static fromData (data: SketchData): DDSketch {
    const sketch = new DDSketch()
    sketch.offset = data.offset
    sketch.counts = data.counts
    sketch.zero = data.zero
    return sketch
  }
}

// The point of (GAMMA^(k-1), GAMMA^k] within RELATIVE_ACCURACY of every value in it.
function bucketValue (key: number): number {
  return 2 * Math.pow(GAMMA, key) / (GAMMA + 1)
}

export interface LatencyData {
  count: number
  sum: number
  min: number
  max: number
  exactLimit: number
  exact: number[] | null
  sketch: SketchData | null
}

/** Count, sum, min, max (always exact) and percentiles (exact up to `exactLimit` values). */
export class Latency {
  count = 0
  sum = 0
  min = Infinity
  max = -Infinity
  private readonly exactLimit: number
  private exact: Float64Array | null = new Float64Array(16)
  private sorted = true
  private sketch: DDSketch | null = null

  constructor (exactLimit = EXACT_LIMIT) {
    this.exactLimit = exactLimit
  }

  /** Whether the percentiles come from the sketch (within RELATIVE_ACCURACY) rather than every value. */
  get approximate (): boolean {
    return this.sketch !== null
  }

  add (value: number): void {
    this.count++
    this.sum += value
    if (value < this.min) this.min = value
    if (value > this.max) this.max = value
    if (this.exact !== null) {
      const n = this.count - 1
      if (n < this.exact.length) {
        this.exact[n] = value
        this.sorted = false
        return
      }
      if (n < this.exactLimit) {
        const grown = new Float64Array(Math.min(this.exactLimit, this.exact.length * 2))
        grown.set(this.exact)
        this.exact = grown
        this.exact[n] = value
        this.sorted = false
        return
      }
      this.toSketch(n)
    }
    (this.sketch as DDSketch).add(value)
  }

  private toSketch (kept: number): void {
    const sketch = new DDSketch()
    const exact = this.exact as Float64Array
    for (let i = 0; i < kept; i++) sketch.add(exact[i])
    this.sketch = sketch
    this.exact = null
  }

  merge (other: Latency): void {
    if (other.count === 0) return
    const before = this.count
    this.count += other.count
    this.sum += other.sum
    if (other.min < this.min) this.min = other.min
    if (other.max > this.max) this.max = other.max
    if (this.exact !== null && other.exact !== null && this.count <= this.exactLimit) {
      const merged = new Float64Array(Math.max(16, this.count))
      merged.set(this.exact.subarray(0, before))
      merged.set(other.exact.subarray(0, other.count), before)
      this.exact = merged
      this.sorted = false
      return
    }
    if (this.exact !== null) this.toSketch(before)
    const sketch = this.sketch as DDSketch
    if (other.exact !== null) {
      for (let i = 0; i < other.count; i++) sketch.add(other.exact[i])
    } else {
      sketch.merge(other.sketch as DDSketch)
    }
  }

  /** Nearest-rank percentile, `q` in (0, 1]; NaN when there is no value. */
  quantile (q: number): number {
    if (this.count === 0) return NaN
    const rank = Math.max(1, Math.ceil(q * this.count))
    if (this.exact !== null) {
      if (!this.sorted) {
        this.exact.subarray(0, this.count).sort()
        this.sorted = true
      }
      return this.exact[rank - 1]
    }
    // The extremes are known exactly; the sketch's estimate never leaves them.
    if (rank === this.count) return this.max
    return Math.min(this.max, Math.max(this.min, (this.sketch as DDSketch).valueAtRank(rank)))
  }

  get mean (): number {
    return this.count === 0 ? NaN : this.sum / this.count
  }

  toData (): LatencyData {
    return {
      count: this.count,
      sum: this.sum,
      min: this.min,
      max: this.max,
      exactLimit: this.exactLimit,
      exact: this.exact === null ? null : Array.from(this.exact.subarray(0, this.count)),
      sketch: this.sketch === null ? null : this.sketch.toData()
    }
  }

  static fromData (data: LatencyData): Latency {
    const latency = new Latency(data.exactLimit)
    latency.count = data.count
    latency.sum = data.sum
    latency.min = data.min
    latency.max = data.max
    latency.exact = data.exact === null ? null : Float64Array.from(data.exact.length === 0 ? new Array<number>(16).fill(0) : data.exact)
    latency.sorted = false
    latency.sketch = data.sketch === null ? null : DDSketch.fromData(data.sketch)
    return latency
  }
}
