import { writeFailedWarning } from '../errors'
import { ChunkQueue, type Batch } from './chunks'
import type { Destination, OpenDestination } from './destination'

/** Per-sink counters, as returned by `fastify.apiLogging.stats()`. */
export interface SinkStats {
  /** Whether the sink is on in this configuration. */
  enabled: boolean
  /** Lines handed to the destination and confirmed written. */
  lines: number
  /** Bytes of those lines. */
  bytes: number
  /** Lines refused because the queue was full, or lost to a destination that could not be reopened at close. */
  dropped: number
  /** Lines accepted and not yet written. */
  pending: number
  /** Bytes of those lines: what the sink holds in memory, at most `maxBufferBytes`. */
  pendingBytes: number
  /** Write errors met; each is followed by a reopen of the destination and a retry. */
  errors: number
}

export interface BufferedSinkOptions {
  /** Bytes a sink may hold before it drops lines. */
  maxBufferBytes: number
  /** Largest single write when a backlog has built up. */
  maxWriteBytes?: number
  /** Formats the line written, in this sink's format, once the sink recovers from dropping lines. */
  dropNotice?: (dropped: number) => string
}

// Size of the buffers lines are copied into; a write is at least one of them.
const CHUNK_BYTES = 64 * 1024
const DEFAULT_MAX_WRITE = 1024 * 1024
const FIRST_RETRY_MS = 100
const LAST_RETRY_MS = 30_000

interface FlushWaiter {
  target: number
  resolve: () => void
}

/**
 * Coalescing, bounded writer for one sink. Lines are encoded into buffers as they are logged and
 * written on the next turn of the event loop (or as soon as a buffer is full), one write in
 * flight at a time, because rotating-file-stream awaits each write and would otherwise pile
 * lines up in memory (docs/operations.md). The queue is bounded: past `maxBufferBytes`, lines are
 * counted as dropped. A destination that fails is replaced by a new one and the write retried.
 */
export class BufferedSink {
  readonly name: string
  private readonly openDestination: OpenDestination
  private destination: Destination | null
  private readonly maxBufferBytes: number
  private readonly maxWriteBytes: number
  private readonly dropNotice: ((dropped: number) => string) | undefined
  private readonly queue: ChunkQueue

  private inFlight: Batch | null = null
  private scheduled = false
  private retryTimer: NodeJS.Timeout | null = null
  private retryDelay = FIRST_RETRY_MS
  private closing = false
  private closed = false
  private exiting = false
  private closePromise: Promise<void> | null = null
  private waiters: FlushWaiter[] = []

  private accepted = 0
  private written = 0
  private bytes = 0
  private dropped = 0
  // Lines accepted into the queue and later lost (a destination that failed at close or exit).
  private lostAfterAccept = 0
  private unreportedDrops = 0
  private errors = 0

  /** `first` is the destination already opened (and checked) by the caller; later ones come from `openDestination`. */
  constructor (name: string, openDestination: OpenDestination, options: BufferedSinkOptions, first?: Destination) {
    this.name = name
    this.openDestination = openDestination
    this.destination = first ?? openDestination()
    this.maxBufferBytes = options.maxBufferBytes
    this.maxWriteBytes = options.maxWriteBytes ?? DEFAULT_MAX_WRITE
    this.dropNotice = options.dropNotice
    this.queue = new ChunkQueue(CHUNK_BYTES)
  }

  /** Queues one complete line; returns false when it was dropped. */
  write (line: string): boolean {
    if (this.exiting) return this.writeNow(line)
    if (this.closed || this.heldBytes() + line.length > this.maxBufferBytes) {
      this.dropped++
      this.unreportedDrops++
      return false
    }
    this.enqueue(line)
    return true
  }

  /** Resolves once every line accepted before the call is written (or counted as dropped). */
  flush (): Promise<void> {
    const target = this.accepted
    if (this.written + this.lostAfterAccept >= target) return Promise.resolve()
    return new Promise((resolve) => {
      this.waiters.push({ target, resolve })
      this.drain()
    })
  }

  /** Writes what is queued, then ends the destination. Lines written after it resolves are dropped. */
  close (): Promise<void> {
    if (this.closePromise === null) {
      this.closing = true
      if (this.retryTimer !== null) {
        clearTimeout(this.retryTimer)
        this.retryTimer = null
        this.reopen()
      }
      this.closePromise = this.finish()
    }
    return this.closePromise
  }

  /**
   * For a process that is exiting (`process.exit()`, an uncaught exception): writes everything
   * still held synchronously, and every later line at once. Bounded in time: it never waits on
   * the event loop and never retries a failing disk.
   */
  flushSync (): void {
    if (this.closed || this.exiting) return
    this.exiting = true
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    if (this.unreportedDrops > 0 && this.dropNotice !== undefined) this.reportDrops()
    const inFlight = this.inFlight
    const rest = this.queue.takeAll()
    const lines = (inFlight?.lines ?? 0) + (rest?.lines ?? 0)
    let destination = this.destination
    if (destination === null) {
      try {
        destination = this.openDestination()
      } catch {
        destination = null
      }
    }
    const ok = destination !== null && destination.writeSync(rest?.data ?? Buffer.alloc(0), inFlight?.data ?? null)
    if (ok) {
      this.written += lines
      this.bytes += (inFlight?.data.length ?? 0) + (rest?.data.length ?? 0)
    } else {
      this.dropped += lines
      this.lostAfterAccept += lines
    }
    this.destination = destination
    this.inFlight = null
    this.queue.clear()
  }

  stats (): SinkStats {
    return {
      enabled: true,
      lines: this.written,
      bytes: this.bytes,
      dropped: this.dropped,
      pending: this.accepted - this.written - this.lostAfterAccept,
      pendingBytes: this.heldBytes(),
      errors: this.errors
    }
  }

  private heldBytes (): number {
    return this.queue.bytes + (this.inFlight?.data.length ?? 0)
  }

  private enqueue (line: string): void {
    this.queue.append(line)
    this.accepted++
    if (this.inFlight === null && this.destination !== null) {
      if (this.queue.bytes >= CHUNK_BYTES) this.drain()
      else if (!this.scheduled) {
        this.scheduled = true
        setImmediate(this.onImmediate)
      }
    }
  }

  private async finish (): Promise<void> {
    // Lines may still arrive while the last chunks are written (requests finishing during close).
    while (this.written + this.lostAfterAccept < this.accepted) await this.flush()
    this.closed = true
    const destination = this.destination
    this.destination = null
    if (destination !== null) await destination.end()
  }

  private readonly onImmediate = (): void => {
    this.scheduled = false
    this.drain()
  }

  private drain (): void {
    if (this.inFlight !== null || this.destination === null) return
    const batch = this.queue.take(this.maxWriteBytes)
    if (batch === null) return
    this.inFlight = batch
    this.destination.write(batch.data, this.onWritten)
  }

  private readonly onWritten = (err?: Error | null): void => {
    const batch = this.inFlight as Batch
    if (err) {
      this.fail(err)
      return
    }
    this.retryDelay = FIRST_RETRY_MS
    this.written += batch.lines
    this.bytes += batch.data.length
    this.inFlight = null
    this.queue.release(batch.pooled)
    // Caught up: say once how much this overload lost, in the sink that lost it. Waiting for an
    // empty queue (not merely room) gives one line per episode, not one per dip below the limit.
    if (this.unreportedDrops > 0 && this.dropNotice !== undefined && this.queue.isEmpty) this.reportDrops()
    this.settleWaiters()
    this.drain()
  }

  private reportDrops (): void {
    const line = (this.dropNotice as (dropped: number) => string)(this.unreportedDrops)
    this.unreportedDrops = 0
    this.queue.append(line)
    this.accepted++
  }

  // The batch stays in flight: after a reopen it is written again, so a transient fault loses
  // nothing (at worst a torn line is followed by its full copy).
  private fail (err: Error): void {
    this.errors++
    const destination = this.destination
    this.destination = null
    if (destination !== null) destination.end().catch(() => {})
    if (this.closing) {
      this.dropEverything()
      return
    }
    writeFailedWarning(this.name, destination?.description ?? '', `${err.message}; retrying in ${this.retryDelay} ms`)
    this.retryTimer = setTimeout(this.onRetry, this.retryDelay)
    this.retryTimer.unref()
    this.retryDelay = Math.min(this.retryDelay * 2, LAST_RETRY_MS)
  }

  private readonly onRetry = (): void => {
    this.retryTimer = null
    this.reopen()
  }

  private reopen (): void {
    let destination: Destination
    try {
      destination = this.openDestination()
    } catch (err) {
      this.fail(err as Error)
      return
    }
    this.destination = destination
    const batch = this.inFlight
    if (batch !== null) destination.write(batch.data, this.onWritten)
    else this.drain()
  }

  private dropEverything (): void {
    const lost = (this.inFlight?.lines ?? 0) + this.queue.lines
    this.dropped += lost
    this.lostAfterAccept += lost
    this.queue.clear()
    this.inFlight = null
    this.settleWaiters()
  }

  private writeNow (line: string): boolean {
    this.accepted++
    if (this.destination !== null && this.destination.writeSync(Buffer.from(line), null)) {
      this.written++
      this.bytes += Buffer.byteLength(line)
      return true
    }
    this.dropped++
    this.lostAfterAccept++
    return false
  }

  private settleWaiters (): void {
    if (this.waiters.length === 0) return
    const done = this.written + this.lostAfterAccept
    this.waiters = this.waiters.filter((waiter) => {
      if (waiter.target > done) return true
      waiter.resolve()
      return false
    })
  }
}
