import { plural } from './output'
import { MAX_LINE_BYTES, type FolderScan } from './reader'

/** Totals over the files read. */
export interface LineCounts {
  files: number
  bytes: number
  lines: number
  records: number
  malformed: number
  foreign: number
  torn: number
  tooLong: number
  unreadable: number
}

export function lineCounts (scan: FolderScan): LineCounts {
  const counts: LineCounts = { files: scan.scans.length, bytes: 0, lines: 0, records: 0, malformed: 0, foreign: 0, torn: 0, tooLong: 0, unreadable: 0 }
  for (const file of scan.scans) {
    counts.bytes += file.file.size
    counts.lines += file.lines
    counts.records += file.records
    counts.malformed += file.malformed
    counts.foreign += file.foreign
    counts.torn += file.torn ? 1 : 0
    counts.tooLong += file.tooLong
    counts.unreadable += file.error === null ? 0 : 1
  }
  return counts
}

/**
 * One line per thing that was not read as a record: what, where, and that the run went on
 * without it. `partial`: only the lines containing a search string were looked at.
 */
export function problems (scan: FolderScan, partial = false): string[] {
  const out: string[] = []
  if (scan.scans.length === 0 && scan.skipped.length === 0) out.push(`${scan.dir}: no api_structured.jsonl file here`)
  for (const name of scan.duplicates) out.push(`${name}: not read, the uncompressed ${name.slice(0, -3)} beside it holds the same lines`)
  for (const file of scan.scans) {
    const name = file.file.name
    if (file.error !== null) out.push(`${name}: ${file.error}`)
    if (file.malformed > 0) {
      const where = partial || file.firstMalformed === 0 ? '' : `, the first at line ${file.firstMalformed}`
      out.push(`${name}: ${plural(file.malformed, 'line')} ${file.malformed === 1 ? 'is' : 'are'} not JSON (torn or damaged)${where}: skipped`)
    }
    if (file.foreign > 0) out.push(`${name}: ${plural(file.foreign, 'JSON line')} without timestamp, level and message (from another program): skipped`)
    if (file.tooLong > 0) out.push(`${name}: ${plural(file.tooLong, 'line')} longer than ${MAX_LINE_BYTES >> 20} MiB: skipped`)
    if (file.torn) out.push(`${name}: the last line has no newline (torn, or still being written): skipped`)
  }
  return out
}
