/**
 * Where a sink's chunks go: a rotating file or a file descriptor. A destination that fails is
 * dropped and a new one opened in its place, so a sink outlives the streams under it.
 */
export interface Destination {
  /** Writes one chunk; the callback runs once it reached the kernel, or with the error. */
  write (chunk: Buffer, callback: (err?: Error | null) => void): void
  /** Ends the destination; resolves once its data is written and its file closed. Never rejects. */
  end (): Promise<void>
  /** A short description for warnings: the file path or the stream's name. */
  readonly description: string
  /**
   * The last-moment path, for a process that is exiting: appends `chunk` synchronously, bounded
   * in time (no retry loop). `inFlight` is a chunk handed to `write` whose callback has not run:
   * the destination writes only the part of it that did not reach the file. Returns false when
   * the data could not be written.
   */
  writeSync (chunk: Buffer, inFlight: Buffer | null): boolean
}

export type OpenDestination = () => Destination
