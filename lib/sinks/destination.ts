/**
 * The callback of a write: `written` is how many bytes of the chunk reached the destination as
 * whole lines. On success that is all of it; after an error it is a prefix ending at a newline
 * (a file destination cuts a torn last line off again), and the sink keeps the rest for a retry.
 */
export type WriteCallback = (err: Error | null, written: number) => void

/**
 * Where a sink's chunks go: a rotating file, the primary process, or a file descriptor. A
 * destination outlives its faults: after a failed write it is simply written to again, and
 * reopens what it needs to first.
 */
export interface Destination {
  /** A short description for warnings: the file path or the stream's name. */
  readonly description: string
  /**
   * Writes one chunk of whole lines, all of period `tag` (the UTC day of a daily file). One
   * write at a time: the sink waits for the callback before the next.
   */
  write (chunk: Buffer, tag: number, callback: WriteCallback): void
  /**
   * The last-moment path, for a process that is exiting: appends `chunk` synchronously, bounded
   * in time (no retry loop, never throws). With `inFlight`, `chunk` is the one handed to `write`
   * whose callback has not run: only what did not reach the file yet is written. Returns the
   * bytes of `chunk` on disk as whole lines, as `WriteCallback` counts them.
   */
  writeSync (chunk: Buffer, tag: number, inFlight: boolean): number
  /** Closes and reopens the file at its configured path (logrotate's `postrotate`); resolves once done. */
  reopen (): Promise<void>
  /** Ends the destination; resolves once its files are closed. Never rejects. */
  end (): Promise<void>
  /** Times it reopened its file because someone else deleted, renamed or truncated it. */
  readonly reopens: number
}
