import { write, writeSync } from 'node:fs'
import type { Destination } from './destination'

const EAGAIN_RETRY_MS = 10

/**
 * Writes to a file descriptor (stdout) through libuv's thread pool. `process.stdout` writes
 * synchronously to pipes on Linux, so a reader that stops reading would stall every request;
 * here it only stalls this sink, whose queue is bounded.
 */
export class FdDestination implements Destination {
  readonly description: string
  private readonly fd: number

  constructor (fd: number, description: string) {
    this.fd = fd
    this.description = description
  }

  write (chunk: Buffer, callback: (err?: Error | null) => void): void {
    this.writeFrom(chunk, 0, callback)
  }

  private writeFrom (buffer: Buffer, offset: number, callback: (err?: Error | null) => void): void {
    write(this.fd, buffer, offset, buffer.length - offset, null, (err, written) => {
      if (err) {
        if (err.code === 'EAGAIN') {
          setTimeout(() => this.writeFrom(buffer, offset, callback), EAGAIN_RETRY_MS)
          return
        }
        callback(err)
        return
      }
      if (offset + written < buffer.length) this.writeFrom(buffer, offset + written, callback)
      else callback()
    })
  }

  end (): Promise<void> {
    return Promise.resolve()
  }

  // The in-flight chunk is already with libuv; writing it again would print it twice.
  writeSync (data: Buffer): boolean {
    let offset = 0
    let waits = 0
    while (offset < data.length) {
      try {
        offset += writeSync(this.fd, data, offset, data.length - offset)
      } catch (err) {
        // A full pipe answers EAGAIN: wait a little, a bounded number of times, then give up.
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || ++waits > EXIT_WAITS) return false
        Atomics.wait(SLEEP, 0, 0, EAGAIN_RETRY_MS)
      }
    }
    return true
  }
}

const EXIT_WAITS = 50
const SLEEP = new Int32Array(new SharedArrayBuffer(4))

/** Color only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor (stream: { isTTY?: boolean }): boolean {
  const noColor = process.env.NO_COLOR
  return stream.isTTY === true && (noColor === undefined || noColor === '')
}
