import { write, writeSync } from 'node:fs'
import type { Destination, WriteCallback } from './destination'

const EAGAIN_RETRY_MS = 10

/**
 * Writes to a file descriptor (stdout) through libuv's thread pool. `process.stdout` writes
 * synchronously to pipes on Linux, so a reader that stops reading would stall every request;
 * here it only stalls this sink, whose queue is bounded.
 */
export class FdDestination implements Destination {
  readonly description: string
  readonly reopens = 0
  private readonly fd: number
  private sent: Buffer | null = null

  constructor (fd: number, description: string) {
    this.fd = fd
    this.description = description
  }

  write (chunk: Buffer, _tag: number, callback: WriteCallback): void {
    this.sent = chunk
    this.writeFrom(chunk, 0, callback)
  }

  private writeFrom (buffer: Buffer, offset: number, callback: WriteCallback): void {
    write(this.fd, buffer, offset, buffer.length - offset, null, (err, written) => {
      if (err) {
        if (err.code === 'EAGAIN') {
          setTimeout(() => this.writeFrom(buffer, offset, callback), EAGAIN_RETRY_MS)
          return
        }
        // A pipe or terminal has no torn lines to cut off: what reached it is counted as it is.
        callback(err, offset)
        return
      }
      if (offset + written < buffer.length) this.writeFrom(buffer, offset + written, callback)
      else callback(null, buffer.length)
    })
  }

  reopen (): Promise<void> {
    return Promise.resolve()
  }

  end (): Promise<void> {
    return Promise.resolve()
  }

  // The in-flight chunk is already with libuv; writing it again would print it twice.
  writeSync (data: Buffer, _tag: number, inFlight: boolean): number {
    if (inFlight && data === this.sent) return data.length
    let offset = 0
    let waits = 0
    while (offset < data.length) {
      try {
        offset += writeSync(this.fd, data, offset, data.length - offset)
      } catch (err) {
        // A full pipe answers EAGAIN: wait a little, a bounded number of times, then give up.
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || ++waits > EXIT_WAITS) return offset
        Atomics.wait(SLEEP, 0, 0, EAGAIN_RETRY_MS)
      }
    }
    return offset
  }
}

const EXIT_WAITS = 50
const SLEEP = new Int32Array(new SharedArrayBuffer(4))

/** Color only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor (stream: { isTTY?: boolean }): boolean {
  const noColor = process.env.NO_COLOR
  return stream.isTTY === true && (noColor === undefined || noColor === '')
}
