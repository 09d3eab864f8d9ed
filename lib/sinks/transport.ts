import { join } from 'node:path'
import pino from 'pino'
import type { LevelName } from '../levels'
import type { Destination, WriteCallback } from './destination'

/** One pino transport target, as the `transports` option and `LOG_TRANSPORTS` give it. */
export interface TransportTarget {
  target: string
  options: Readonly<Record<string, unknown>>
  /** Its own lowest level; absent: whatever reaches the registration's sinks. */
  level?: LevelName
  format: 'pino' | 'json'
}

/** The pieces of thread-stream's ThreadStream (what `pino.transport()` returns) used here. */
interface ThreadStream {
  write (data: Buffer): boolean
  flush (callback: (err?: Error) => void): void
  flushSync (): void
  end (): void
  emit (event: 'message', message: unknown): boolean
  on (event: 'error', listener: (err: Error) => void): this
  on (event: 'close', listener: () => void): this
  once (event: 'close', listener: () => void): this
  readonly closed: boolean
  readonly destroyed: boolean
  readonly worker: { terminate (): Promise<number>, on (event: 'message', listener: (message: unknown) => void): unknown }
}

// How long a worker's exit waits for the error that caused it: a target that throws as it starts
// posts the error and exits, and the exit can arrive first (seen on Node 24).
const EXIT_REASON_WAIT_MS = 50

/** The error a worker posted as it failed (thread-stream's `ERROR` message), or null. */
function postedError (message: unknown): Error | null {
  if (typeof message !== 'object' || message === null) return null
  const { code, err } = message as { code?: unknown, err?: unknown }
  return code === 'ERROR' && err instanceof Error ? err : null
}

export interface TransportDestinationOptions {
  /** How long `end()` waits for the worker to deliver what it holds and exit. */
  closeTimeoutMs: number
  /** The worker did not end within `closeTimeoutMs` and was stopped. */
  closeTimedOut: () => void
}

// A worker that fails is started again after 1 s, then 2, 4 ... at most 30 s apart, so a transport
// that cannot start costs a thread start now and then, not a busy loop.
const FIRST_RESTART_MS = 1000
const LAST_RESTART_MS = 30_000

/**
 * A pino transport in its own worker thread, as one more destination of a `BufferedSink`: the
 * sink coalesces lines, bounds what it holds, retries and reports faults as it does for a file.
 * A chunk counts as written once the worker has taken it (thread-stream's `flush` callback); a
 * worker that dies before that fails the write, the sink keeps the chunk, and the next write
 * starts a new worker (after a backoff) and sends it again: a line may arrive twice, not never.
 */
export class TransportDestination implements Destination {
  readonly description: string
  readonly reopens = 0
  /** Workers started after a failure. */
  restarts = 0
  /** The target as given (a package name, a path or a file URL). */
  readonly target: string
  private readonly spec: TransportTarget
  private readonly options: TransportDestinationOptions
  private stream: ThreadStream | null = null
  private started = false
  private lastError: Error | null = null
  private nextStart = 0
  private restartDelay = FIRST_RESTART_MS
  /** The chunk handed to the current worker and not yet confirmed, with its callback. */
  private sent: Buffer | null = null
  private callback: WriteCallback | null = null
  private ended = false

  constructor (target: TransportTarget, options: TransportDestinationOptions) {
    this.target = target.target
    this.spec = target
    this.options = options
    this.description = `transport ${target.target}`
  }

  write (chunk: Buffer, _tag: number, callback: WriteCallback): void {
    if (this.stream !== null && this.stream.destroyed && !this.ended) {
      // Its worker is gone and the failure is reported within EXIT_REASON_WAIT_MS: this write fails with it.
      this.sent = chunk
      this.callback = callback
      return
    }
    const stream = this.stream ?? this.start()
    if (stream === null) {
      process.nextTick(callback, this.lastError ?? new Error('the transport did not start'), 0)
      return
    }
    this.sent = chunk
    this.callback = callback
    stream.write(chunk)
    stream.flush((err) => {
      if (stream !== this.stream) return
      if (err !== undefined && err !== null) {
        this.failed(stream, err)
        return
      }
      // A worker that took a chunk works: the next failure starts the backoff again.
      this.restartDelay = FIRST_RESTART_MS
      this.settle(null, chunk.length)
    })
  }

  writeSync (chunk: Buffer, _tag: number, inFlight: boolean): number {
    const stream = this.stream
    if (stream === null || stream.destroyed) return 0
    // The in-flight chunk is with the worker already: it is taken below, by flushSync.
    if (!(inFlight && chunk === this.sent)) {
      try {
        stream.write(chunk)
      } catch {
        return 0
      }
    }
    return chunk.length
  }

  /**
   * The last step of a process that is exiting: hands the worker everything written, and ends it
   * so it can deliver (both wait on the worker, at most 10 s each: thread-stream's own bound).
   */
  endSync (): void {
    const stream = this.stream
    if (stream === null || stream.destroyed || this.ended) return
    this.ended = true
    try {
      stream.flushSync()
      stream.end()
    } catch {
      // A worker that cannot take its lines at exit loses them; there is no later to report it in.
    }
  }

  reopen (): Promise<void> {
    return Promise.resolve()
  }

  /** Ends the worker (it delivers what it holds and exits), at most `closeTimeoutMs`; then stops it. */
  async end (): Promise<void> {
    const stream = this.stream
    if (stream === null || this.ended) return
    this.ended = true
    if (stream.closed) return
    let timer: NodeJS.Timeout | undefined
    const closed = new Promise<boolean>((resolve) => {
      stream.once('close', () => resolve(true))
      timer = setTimeout(resolve, this.options.closeTimeoutMs, false)
    })
    endWithoutWaiting(stream)
    const inTime = await closed
    clearTimeout(timer)
    if (inTime) return
    this.options.closeTimedOut()
    await stream.worker.terminate().catch(() => 0)
  }

  private start (): ThreadStream | null {
    if (Date.now() < this.nextStart) return null
    if (this.started) this.restarts++
    this.started = true
    let stream: ThreadStream
    try {
      // `caller` is taken by pino.transport() though its types leave it out.
      stream = pino.transport({
        target: this.spec.target,
        options: this.spec.options,
        // Targets resolve from the application's folder first, then from beside this package.
        caller: [join(process.cwd(), 'index.js'), __filename],
        // The end at exit is ours (endSync), after the lines held at that moment are written.
        worker: { autoEnd: false }
      } as Parameters<typeof pino.transport>[0]) as unknown as ThreadStream
    } catch (err) {
      this.backOff(err as Error)
      return null
    }
    // What pino itself tells a transport it starts (pino-abstract-transport's `expectPinoConfig`).
    stream.emit('message', { code: 'PINO_CONFIG', config: { levels: pino.levels, messageKey: 'msg', errorKey: 'err' } })
    stream.on('error', (err) => this.failed(stream, err))
    let exitReason: Error | null = null
    stream.worker.on('message', (message) => { exitReason = postedError(message) ?? exitReason })
    stream.on('close', () => {
      if (this.ended) return
      setTimeout(() => this.failed(stream, exitReason ?? new Error('the transport\'s worker exited')), EXIT_REASON_WAIT_MS).unref()
    })
    this.stream = stream
    return stream
  }

  private failed (stream: ThreadStream, err: Error): void {
    if (stream !== this.stream) return
    this.stream = null
    this.backOff(err)
    if (!stream.destroyed) stream.worker.terminate().catch(() => 0)
    this.settle(err, 0)
  }

  private backOff (err: Error): void {
    this.lastError = err
    this.nextStart = Date.now() + this.restartDelay
    this.restartDelay = Math.min(this.restartDelay * 2, LAST_RESTART_MS)
  }

  private settle (err: Error | null, written: number): void {
    const callback = this.callback
    this.callback = null
    this.sent = null
    callback?.(err, written)
  }
}

// thread-stream's shared state: the sequence counter and the write index of its `lib/indexes.js`.
const SEQ_INDEX = 2
const WRITE_INDEX = 4

/**
 * Tells the worker to end without blocking this thread. thread-stream's own `end()` waits with
 * `Atomics.wait` until the transport has closed (up to 10 s): the whole event loop would stop
 * while, say, an OpenTelemetry exporter sends its last batch. Every write has been taken by now
 * (the sink waited for each flush), so what `end()` does comes down to storing -1 as the write
 * index, which the worker answers by ending its destination and exiting ('close' here). Should
 * thread-stream's internals ever differ, its blocking `end()` is used instead.
 */
function endWithoutWaiting (stream: ThreadStream): void {
  const impl = Object.getOwnPropertySymbols(stream).find((symbol) => symbol.description === 'kImpl')
  const state = impl === undefined ? undefined : (stream as unknown as Record<symbol, ThreadStreamState | undefined>)[impl]
  if (state === undefined || !(state.state instanceof Int32Array) || state.bufLen !== 0 || state.flushing || state.ending) {
    try {
      stream.end()
    } catch {
      // Ending a dead worker throws; its 'close' follows.
    }
    return
  }
  // As thread-stream marks an ended stream, so its exit hook and later writes see it as ended.
  state.ending = true
  state.ended = true
  Atomics.add(state.state, SEQ_INDEX, 1)
  Atomics.store(state.state, WRITE_INDEX, -1)
  Atomics.add(state.state, SEQ_INDEX, 1)
  Atomics.notify(state.state, SEQ_INDEX)
}

interface ThreadStreamState {
  state: Int32Array
  bufLen: number
  flushing: boolean
  ending: boolean
  ended: boolean
}
