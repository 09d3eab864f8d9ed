import type { LogFile } from './files'
import { bytes } from './output'

export interface Progress {
  files (files: LogFile[]): void
  file (file: LogFile, position: number): void
  add (bytes: number): void
  stop (): void
}

const NONE: Progress = { files () {}, file () {}, add () {}, stop () {} }

/**
 * A one-line progress report on a terminal's stderr, redrawn in place, shown only once a run has
 * lasted `delayMs`, and erased when it ends; nothing at all when stderr is not a terminal.
 */
export function progress (stream: { write: (text: string) => unknown, isTTY?: boolean }, delayMs = 1000, intervalMs = 250): Progress {
  if (stream.isTTY !== true) return NONE
  let total = 0
  let done = 0
  let count = 0
  let current = ''
  let position = 0
  let shown = false
  let timer: NodeJS.Timeout | null = null
  const draw = (): void => {
    shown = true
    const share = total === 0 ? 100 : Math.min(100, Math.floor((done / total) * 100))
    stream.write(`\r${share}% ${bytes(done)} of ${bytes(total)}, file ${position + 1} of ${count}: ${current}\u001b[K`)
  }
  const start = setTimeout(() => {
    draw()
    timer = setInterval(draw, intervalMs)
    timer.unref()
  }, delayMs)
  start.unref()
  return {
    files (files) {
      count = files.length
      total = files.reduce((sum, file) => sum + file.size, 0)
    },
    file (file, at) {
      current = file.name
      position = at
    },
    add (n) {
      done += n
    },
    stop () {
      clearTimeout(start)
      if (timer !== null) clearInterval(timer)
      if (shown) stream.write('\r\u001b[K')
    }
  }
}
