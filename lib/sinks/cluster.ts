import type { Destination, WriteCallback } from './destination'

/** The `type` of the IPC messages that carry a worker's lines to the primary. */
export const LINES_MESSAGE = 'fastify-api-logging:lines'
/**
 * Set in the primary's environment by `startPrimaryWriter()`, so the workers forked after it know
 * someone writes their lines; a worker without it writes its own files instead.
 */
export const PRIMARY_WRITER_ENV = 'FASTIFY_API_LOGGING_PRIMARY_WRITER'

/** One chunk of whole lines of one file sink, from a cluster worker to the primary. */
export interface LinesMessage {
  readonly type: typeof LINES_MESSAGE
  readonly sink: 'file' | 'json'
  readonly text: string
  readonly lines: number
  /** The UTC day of the lines (json). */
  readonly tag: number
}

export function isLinesMessage (message: unknown): message is LinesMessage {
  const m = message as Partial<LinesMessage> | null
  return typeof m === 'object' && m !== null && m.type === LINES_MESSAGE && (m.sink === 'file' || m.sink === 'json') &&
    typeof m.text === 'string' && typeof m.lines === 'number' && typeof m.tag === 'number'
}

function countLines (data: Buffer): number {
  let lines = 0
  for (let at = data.indexOf(10); at !== -1; at = data.indexOf(10, at + 1)) lines++
  return lines
}

/**
 * A cluster worker's file sink when the primary writes the files (LOG_CLUSTER_WRITER=primary):
 * each chunk goes over the IPC channel, and counts as written once the channel took it. The
 * channel cannot be written synchronously, so what a worker still holds when it exits abruptly
 * goes to its own file (`api.w<N>.log`), opened only then.
 */
export class PrimaryDestination implements Destination {
  readonly description: string
  readonly reopens = 0
  private readonly sink: 'file' | 'json'
  private readonly openFallback: () => Destination
  private fallback: Destination | null = null

  constructor (sink: 'file' | 'json', openFallback: () => Destination) {
    this.sink = sink
    this.description = `the cluster primary (${sink})`
    this.openFallback = openFallback
  }

  write (chunk: Buffer, tag: number, callback: WriteCallback): void {
    const message: LinesMessage = { type: LINES_MESSAGE, sink: this.sink, text: chunk.toString('utf8'), lines: countLines(chunk), tag }
    if (process.send === undefined || !process.connected) {
      callback(Object.assign(new Error('the IPC channel to the cluster primary is closed'), { code: 'ERR_IPC_CHANNEL_CLOSED' }), 0)
      return
    }
    process.send(message, (err: Error | null) => callback(err ?? null, err ? 0 : chunk.length))
  }

  // A chunk still in flight may or may not reach the primary: it is written here too (at least once).
  writeSync (chunk: Buffer, tag: number): number {
    try {
      this.fallback ??= this.openFallback()
    } catch {
      return 0
    }
    return this.fallback.writeSync(chunk, tag, false)
  }

  reopen (): Promise<void> {
    return Promise.resolve()
  }

  end (): Promise<void> {
    return this.fallback?.end() ?? Promise.resolve()
  }
}
