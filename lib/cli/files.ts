import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { CliError } from './args'

/**
 * The JSON files of a log folder: `api_structured.jsonl`, its dated backups
 * (`.YYYY-MM-DD`, same-day `.YYYY-MM-DD.N`), `.gz` copies of any of them, and the same names
 * with a cluster worker's infix (`api_structured.w3.jsonl…`). Nothing else is ever read.
 */
const JSON_NAME = /^api_structured(?:\.w(\d{1,4}))?\.jsonl(?:\.(\d{4}-\d{2}-\d{2})(?:\.(\d{1,3}))?)?(\.gz)?$/

export interface LogFile {
  readonly name: string
  readonly path: string
  /** UTC day of a rotated file, null for a live one. */
  readonly day: string | null
  /** Same-day index (`.2`), 0 when there is none. */
  readonly index: number
  /** Worker number of `api_structured.wN.jsonl`, -1 for the plain name. */
  readonly worker: number
  readonly gzip: boolean
  readonly size: number
  readonly mtimeMs: number
}

/** Parses a file name; null when it is not one of the plugin's JSON files. */
export function parseLogName (name: string): Pick<LogFile, 'day' | 'index' | 'worker' | 'gzip'> | null {
  const match = JSON_NAME.exec(name)
  if (match === null) return null
  return {
    worker: match[1] === undefined ? -1 : Number(match[1]),
    day: match[2] ?? null,
    index: match[3] === undefined ? 0 : Number(match[3]),
    gzip: match[4] !== undefined
  }
}

/** Oldest first: rotated days in order (and same-day indexes), the live files last. */
export function compareLogFiles (a: LogFile, b: LogFile): number {
  if (a.day !== b.day) return a.day === null ? 1 : b.day === null ? -1 : a.day < b.day ? -1 : 1
  return a.index - b.index || a.worker - b.worker || Number(a.gzip) - Number(b.gzip)
}

export interface Discovery {
  readonly files: LogFile[]
  /** `.gz` copies left out because the uncompressed file of the same name is there. */
  readonly duplicates: string[]
}

/**
 * The plugin's JSON files in `dir`, oldest first. A `.gz` beside its uncompressed original is the
 * same lines twice: only the original is read. Throws a CliError when the folder is missing.
 */
export async function discoverLogFiles (dir: string): Promise<Discovery> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new CliError(`no log folder at ${dir} (give --dir, or set LOG_DIR)`)
    if (code === 'ENOTDIR') throw new CliError(`${dir} is not a folder (give the LOG_DIR folder with --dir)`)
    throw new CliError(`cannot read the log folder ${dir}: ${(err as Error).message}`)
  }
  const present = new Set(names)
  const files: LogFile[] = []
  const duplicates: string[] = []
  for (const name of names) {
    const parsed = parseLogName(name)
    if (parsed === null) continue
    if (parsed.gzip && present.has(name.slice(0, -3))) {
      duplicates.push(name)
      continue
    }
    const path = join(dir, name)
    const info = await stat(path).catch(() => null)
    if (info === null || !info.isFile()) continue
    files.push({ name, path, ...parsed, size: info.size, mtimeMs: info.mtimeMs })
  }
  files.sort(compareLogFiles)
  return { files, duplicates: duplicates.sort() }
}

/** The live files (`api_structured.jsonl`, `api_structured.wN.jsonl`), not compressed. */
export function isLiveFile (file: Pick<LogFile, 'day' | 'gzip'>): boolean {
  return file.day === null && !file.gzip
}
