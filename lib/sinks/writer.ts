import { ChunkQueue, type Batch } from './chunks'
import type { Destination } from './destination'
import { DAY_MS } from './file'

/** Per-sink counters, as returned by `fastify.apiLogging.stats()`. */
export interface SinkStats {
  /** Whether the sink is on in this configuration. */
  enabled: boolean
  /** Lines confirmed written: for a file, on disk as whole lines. */
  lines: number
  /** Bytes of those lines. */
  bytes: number
  /** Lines refused because the queue was full, or lost to a destination that still failed at close or exit. */
  dropped: number
  /** Lines accepted and not yet written. */
  pending: number
  /** Bytes of those lines: what the sink holds in memory, at most `maxBufferBytes`. */
  pendingBytes: number
  /** Failed writes (each is retried). */
  errors: number
  /** The destination is failing now: lines are held up to `maxBufferBytes`, then dropped, until a retry succeeds. */
  failing: boolean
  /** Times the file was reopened because someone else deleted, renamed or truncated it (and `reopen()` calls). */
  reopens: number
}

/** What a fault cost, reported once the sink writes again. */
export interface FaultReport {
  /** The error code of the first failure (`ENOSPC`, `EACCES` ...). */
  readonly code: string
  /** Lines dropped from the first failure to the first successful write. */
  readonly lost: number
  /** Clock times (epoch ms) of the first failure and of the recovery. */
  readonly since: number
  readonly until: number
}

/** How a sink tells the rest of the output about its troubles. */
export interface SinkNotices {
  /** The queue was full and `dropped` lines were refused; the sink has caught up. Returns a line for this sink. */
  dropped (dropped: number): string
  /** The destination started failing (once per fault, not per retry). */
  failed (err: Error): void
  /** The destination writes again. */
  recovered (report: FaultReport): void
}

export interface BufferedSinkOptions {
  /** Bytes a sink may hold before it drops lines. */
  maxBufferBytes: number
  /** Largest single write when a backlog has built up. */
  maxWriteBytes?: number
  /** Tag lines with their record's UTC day, so a daily file rotates between days exactly. */
  daily?: boolean
  /** The clock of fault reports (epoch ms). */
  now: () => number
  notices?: SinkNotices
  /** How long `close()` keeps writing before it counts the rest as dropped. @defaultValue CLOSE_DEADLINE_MS */
  closeDeadlineMs?: number
  /** How long `close()` then waits for the destination to end. @defaultValue 1000 */
  endWaitMs?: number
}

// Size of the buffers lines are copied into; a write is at least one of them.
const CHUNK_BYTES = 64 * 1024
const DEFAULT_MAX_WRITE = 1024 * 1024
// Retries back off to at most half a second: a sink writes again within a second of a fault clearing.
const FIRST_RETRY_MS = 50
const LAST_RETRY_MS = 500
/** How long `close()` keeps retrying a failing destination before it counts the rest as dropped. */
export const CLOSE_DEADLINE_MS = 2000
// How long `close()` waits for the destination to close its files after the last write.
const END_WAIT_MS = 1000

interface FlushWaiter {
  target: number
  resolve: () => void
}

function countLines (data: Buffer, end: number): number {
  let lines = 0
  for (let at = data.indexOf(10); at !== -1 && at < end; at = data.indexOf(10, at + 1)) lines++
  return lines
}

/** Waits for `promise`, at most `ms` (the timer keeps the process alive meanwhile, as the wait is bounded). */
async function within (promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([promise, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms) })])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Coalescing, bounded writer for one sink. Lines are encoded into buffers as they are logged and
 * written on the next turn of the event loop (or as soon as a buffer is full), one write in
 * flight at a time: a write per line would cap a sink far below the API's rate (docs/operations.md).
 * The queue is bounded: past `maxBufferBytes`, lines are counted as dropped. A write that fails
 * keeps what did not land and is retried with backoff; the destination reopens what it must.
 *
 * Every line is counted exactly once: written (when the destination confirms it as whole lines)
 * or dropped, and until then pending.
 */
export class BufferedSink {
  readonly name: string
  private readonly destination: Destination
  private readonly maxBufferBytes: number
  private readonly maxWriteBytes: number
  private readonly daily: boolean
  private readonly now: () => number
  private readonly notices: SinkNotices | undefined
  private readonly queue: ChunkQueue
  private readonly closeDeadlineMs: number
  private readonly endWaitMs: number

  /** Taken from the queue and not yet all written: after a failure, what is left of it. */
  private inFlight: Batch | null = null
  /** A write is with the destination (its callback has not run). */
  private writing = false
  private scheduled = false
  private retryTimer: NodeJS.Timeout | null = null
  private retryDelay = FIRST_RETRY_MS
  private closing = false
  /** When closing began (by `settle()` or `close()`), plus `closeDeadlineMs`: the bound of the whole close. */
  private closeBy = Infinity
  private closed = false
  private exiting = false
  /** Close gave up on a write still with the destination: if it lands after all, its lines move from dropped to written. */
  private abandoned = false
  private closePromise: Promise<void> | null = null
  private waiters: FlushWaiter[] = []
  private dayStart = Infinity
  private dayEnd = -Infinity

  private faultSince: number | null = null
  /** When writes worked again after the fault; the report waits until the backlog is written. */
  private resumedAt: number | null = null
  private faultCode = ''
  private droppedAtFault = 0

  private accepted = 0
  private written = 0
  private bytes = 0
  private dropped = 0
  // Lines accepted into the queue and later lost (a destination that failed at close or exit).
  private lostAfterAccept = 0
  private unreportedDrops = 0
  private errors = 0

  constructor (name: string, destination: Destination, options: BufferedSinkOptions) {
    this.name = name
    this.destination = destination
    this.maxBufferBytes = options.maxBufferBytes
    this.maxWriteBytes = options.maxWriteBytes ?? DEFAULT_MAX_WRITE
    this.daily = options.daily === true
    this.now = options.now
    this.notices = options.notices
    this.queue = new ChunkQueue(CHUNK_BYTES)
    this.closeDeadlineMs = options.closeDeadlineMs ?? CLOSE_DEADLINE_MS
    this.endWaitMs = options.endWaitMs ?? END_WAIT_MS
  }

  /**
   * Queues one complete line logged at `time`; returns false when it was dropped. A `notice` (the
   * plugin's own report of a fault) is queued even past the limit, so a fault is never silent.
   */
  write (line: string, time = 0, notice = false): boolean {
    if (this.daily && (time < this.dayStart || time >= this.dayEnd)) this.enterDay(time)
    if (this.exiting) return this.writeNow(line)
    if (this.closed || (!notice && this.heldBytes() + line.length > this.maxBufferBytes)) {
      this.dropped++
      this.unreportedDrops++
      return false
    }
    this.enqueue(line, 1)
    return true
  }

  /** Queues `lines` whole lines at once (from a cluster worker); returns false when they were dropped. */
  writeLines (text: string, lines: number, tag: number): boolean {
    if (this.daily) this.queue.mark(tag)
    if (this.exiting) {
      this.accepted += lines
      this.writeNowBuffer(Buffer.from(text), lines, tag)
      return true
    }
    if (this.closed || this.heldBytes() + text.length > this.maxBufferBytes) {
      this.dropped += lines
      this.unreportedDrops += lines
      return false
    }
    this.enqueue(text, lines)
    return true
  }

  /** Resolves once every line accepted before the call is written (or counted as dropped). */
  flush (): Promise<void> {
    const target = this.accepted
    if (this.written + this.lostAfterAccept >= target) return Promise.resolve()
    return new Promise((resolve) => {
      this.waiters.push({ target, resolve })
      // Someone waits for these lines: a pending retry keeps the process alive.
      this.retryTimer?.ref()
      this.drain()
    })
  }

  /**
   * Writes what is queued, then ends the destination. Bounded: a destination that still fails
   * after `closeDeadlineMs` has the rest counted as dropped. Lines written after it resolves
   * are dropped.
   */
  close (): Promise<void> {
    if (this.closePromise === null) {
      this.beginClosing()
      this.closePromise = this.finish()
    }
    return this.closePromise
  }

  /**
   * The first half of `close()`: writes what is queued, within the same bound, and stays open, so
   * it still takes the notices other sinks write while they close (a recovery report, say).
   */
  async settle (): Promise<void> {
    this.beginClosing()
    await this.writeHeld()
  }

  /**
   * For a process that is exiting (`process.exit()`, an uncaught exception, a bare signal):
   * writes everything still held synchronously, and every later line at once. Bounded in time:
   * it never waits on the event loop and never retries a failing disk.
   */
  flushSync (): void {
    if (this.closed || this.exiting) return
    this.exiting = true
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    if (this.unreportedDrops > 0 && this.notices !== undefined && this.faultSince === null) this.reportDrops()
    let failed = false
    const inFlight = this.inFlight
    this.inFlight = null
    if (inFlight !== null) failed = !this.writeBatchSync(inFlight, this.writing)
    for (let batch = this.queue.takeAll(); batch !== null; batch = this.queue.takeAll()) {
      if (failed) this.lose(batch.lines)
      else failed = !this.writeBatchSync(batch, false)
    }
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
      errors: this.errors,
      failing: this.faultSince !== null && this.resumedAt === null,
      reopens: this.destination.reopens
    }
  }

  private heldBytes (): number {
    return this.queue.bytes + (this.inFlight?.data.length ?? 0)
  }

  private enterDay (time: number): void {
    const day = Math.floor(time / DAY_MS)
    this.dayStart = day * DAY_MS
    this.dayEnd = this.dayStart + DAY_MS
    this.queue.mark(day)
  }

  private enqueue (text: string, lines: number): void {
    this.queue.append(text, lines)
    this.accepted += lines
    if (!this.writing && this.retryTimer === null && !this.closed) {
      if (this.queue.bytes >= CHUNK_BYTES) this.drain()
      else if (!this.scheduled) {
        this.scheduled = true
        setImmediate(this.onImmediate)
      }
    }
  }

  // Closing retries a failing destination at once and then every 50 ms, within one bound.
  private beginClosing (): void {
    if (this.closing) return
    this.closing = true
    this.closeBy = Date.now() + this.closeDeadlineMs
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer)
      this.retryTimer = null
    }
  }

  private async writeHeld (): Promise<void> {
    // Lines may still arrive while the last chunks are written (requests finishing during close).
    while (this.written + this.lostAfterAccept < this.accepted && Date.now() < this.closeBy) {
      await within(this.flush(), Math.max(this.closeBy - Date.now(), 0))
    }
  }

  private async finish (): Promise<void> {
    await this.writeHeld()
    if (this.written + this.lostAfterAccept < this.accepted) {
      this.abandoned = this.writing
      this.dropEverything()
    }
    this.closed = true
    await within(this.destination.end(), this.endWaitMs)
  }

  private readonly onImmediate = (): void => {
    this.scheduled = false
    this.drain()
  }

  private drain (): void {
    if (this.writing || this.retryTimer !== null || this.closed || this.exiting) return
    const batch = this.inFlight ?? this.queue.take(this.maxWriteBytes)
    if (batch === null) return
    this.inFlight = batch
    this.writing = true
    this.destination.write(batch.data, batch.tag, this.onWritten)
  }

  private readonly onWritten = (err: Error | null, written: number): void => {
    this.writing = false
    if (this.exiting) return
    if (this.abandoned) {
      this.lateWrite(written)
      return
    }
    const batch = this.inFlight as Batch
    if (written >= batch.data.length) {
      this.count(batch.lines, batch.data.length)
      this.inFlight = null
      this.queue.release(batch.pooled)
    } else if (written > 0) {
      const lines = countLines(batch.data, written)
      this.count(lines, written)
      this.inFlight = { data: batch.data.subarray(written), lines: batch.lines - lines, pooled: batch.pooled, tag: batch.tag }
    }
    if (err !== null) {
      this.fail(err)
      this.settleWaiters()
      return
    }
    if (this.faultSince !== null) {
      if (this.resumedAt === null) {
        this.resumedAt = this.now()
        this.retryDelay = FIRST_RETRY_MS
      }
      // Caught up: the fault's one report counts every line it cost, the backlog's too.
      if (this.inFlight === null && this.queue.isEmpty) this.recover()
    } else if (this.unreportedDrops > 0 && this.notices !== undefined && this.queue.isEmpty) {
      // Caught up: say once how much this overload lost, in the sink that lost it. Waiting for an
      // empty queue (not merely room) gives one line per episode, not one per dip below the limit.
      this.reportDrops()
    }
    this.settleWaiters()
    this.drain()
  }

  private count (lines: number, bytes: number): void {
    this.written += lines
    this.bytes += bytes
  }

  // The write close gave up on landed after all (a disk that was only slow).
  private lateWrite (written: number): void {
    const batch = this.inFlight
    this.abandoned = false
    this.inFlight = null
    if (batch === null || written === 0) return
    const lines = written >= batch.data.length ? batch.lines : countLines(batch.data, written)
    this.count(lines, written)
    this.dropped -= lines
    this.lostAfterAccept -= lines
  }

  private reportDrops (): void {
    const line = (this.notices as SinkNotices).dropped(this.unreportedDrops)
    this.unreportedDrops = 0
    this.queue.append(line)
    this.accepted++
  }

  // What did not land stays in flight and is written again, after a backoff: a fault that clears
  // loses nothing but the lines the full queue had to refuse meanwhile.
  private fail (err: Error): void {
    this.errors++
    this.resumedAt = null
    if (this.faultSince === null) {
      this.faultSince = this.now()
      this.faultCode = (err as NodeJS.ErrnoException).code ?? err.name
      this.droppedAtFault = this.dropped
      this.notices?.failed(err)
    }
    let wait = this.retryDelay
    this.retryDelay = Math.min(this.retryDelay * 2, LAST_RETRY_MS)
    if (this.closing) wait = Math.min(wait, FIRST_RETRY_MS)
    this.retryTimer = setTimeout(this.onRetry, wait)
    // A server's sockets keep the process alive; a retry alone does not, unless close() or flush() waits for it.
    if (!this.closing && this.waiters.length === 0) this.retryTimer.unref()
  }

  private readonly onRetry = (): void => {
    this.retryTimer = null
    this.drain()
  }

  private recover (): void {
    const report: FaultReport = { code: this.faultCode, lost: this.dropped - this.droppedAtFault, since: this.faultSince as number, until: this.resumedAt as number }
    this.faultSince = null
    this.resumedAt = null
    // The recovery line counts this fault's drops: no separate dropped-lines line for them.
    this.unreportedDrops = 0
    this.notices?.recovered(report)
  }

  private lose (lines: number): void {
    this.dropped += lines
    this.lostAfterAccept += lines
  }

  private dropEverything (): void {
    this.lose((this.inFlight?.lines ?? 0) + this.queue.lines)
    this.queue.clear()
    if (!this.abandoned) this.inFlight = null
    this.settleWaiters()
  }

  /** Writes one batch synchronously; false when not all of it landed (the rest is counted as dropped). */
  private writeBatchSync (batch: Batch, inFlight: boolean): boolean {
    const written = this.destination.writeSync(batch.data, batch.tag, inFlight)
    if (written >= batch.data.length) {
      this.count(batch.lines, batch.data.length)
      return true
    }
    const lines = countLines(batch.data, written)
    this.count(lines, written)
    this.lose(batch.lines - lines)
    return false
  }

  private writeNow (line: string): boolean {
    this.accepted++
    return this.writeNowBuffer(Buffer.from(line), 1, this.daily ? Math.floor(this.dayStart / DAY_MS) : 0)
  }

  private writeNowBuffer (data: Buffer, lines: number, tag: number): boolean {
    return this.writeBatchSync({ data, lines, pooled: null, tag }, false)
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
