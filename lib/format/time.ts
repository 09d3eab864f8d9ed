// Formatting a Date costs more than the rest of a line; every line in the same second shares one.
let localSecond = -1
let localText = ''
let isoSecond = -1
let isoPrefix = ''
let isoTime = -1
let isoText = ''

function pad2 (n: number): string {
  return n < 10 ? '0' + n : String(n)
}

/** `2025-01-14 10:30:15`, local time. */
export function localTimestamp (time: number): string {
  const second = Math.floor(time / 1000)
  if (second !== localSecond) {
    const d = new Date(second * 1000)
    localText = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
    localSecond = second
  }
  return localText
}

/** `2025-01-14T10:30:15.123Z`. */
export function isoTimestamp (time: number): string {
  // Lines come in bursts of the same millisecond (a request's lines, a turn of the event loop).
  if (time === isoTime) return isoText
  const second = Math.floor(time / 1000)
  if (second !== isoSecond) {
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20)
    isoSecond = second
  }
  const ms = time - second * 1000
  isoTime = time
  isoText = isoPrefix + (ms < 10 ? '00' : ms < 100 ? '0' : '') + Math.floor(ms) + 'Z'
  return isoText
}

/** `2025-01-14`, the UTC day of a time: the suffix of rotated JSON files. */
export function utcDay (time: number): string {
  const d = new Date(time)
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`
}
