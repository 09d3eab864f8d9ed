/** Where a command writes: stdout and stderr, or what a test gives in their place. */
export interface Output {
  readonly stdout: { write: (text: string) => unknown, isTTY?: boolean }
  readonly stderr: { write: (text: string) => unknown, isTTY?: boolean }
}

export type Align = 'left' | 'right'

/** Columns padded to their widest cell; numbers right-aligned by the caller's choice. */
export function table (headers: string[], rows: string[][], align: Align[]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((cell, i) => {
    const last = i === cells.length - 1
    if (align[i] === 'right') return cell.padStart(widths[i])
    return last ? cell : cell.padEnd(widths[i])
  }).join('  ').trimEnd()
  return [line(headers), ...rows.map(line)].join('\n') + '\n'
}

/** RFC 4180: a cell with a comma, quote or line break is quoted, quotes doubled. */
export function csvLine (cells: Array<string | number | boolean | null>): string {
  return cells.map((cell) => {
    const text = cell === null ? '' : String(cell)
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text
  }).join(',') + '\r\n'
}

/** Milliseconds as the files write them: two decimals. */
export function ms (value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : '-'
}

export function percent (value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) + '%' : '-'
}

/** 1.5 MB, 113 MB, 1.1 GB: decimal units, as `ls -h --si` and most dashboards. */
export function bytes (value: number): string {
  if (value < 1000) return `${value} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let scaled = value
  let unit = -1
  while (scaled >= 1000 && unit < units.length - 1) {
    scaled /= 1000
    unit++
  }
  return `${scaled < 10 ? scaled.toFixed(1) : Math.round(scaled)} ${units[unit]}`
}

/** `1 file`, `3 files`. */
export function plural (n: number, word: string, words = word + 's'): string {
  return `${n} ${n === 1 ? word : words}`
}

/** `61,916`: thousands separated, without Intl (loading its data costs a short run 20-50 ms). */
export function count (n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}
