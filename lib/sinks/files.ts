import cluster from 'node:cluster'
import { closeSync, mkdirSync, openSync, statSync, unlinkSync } from 'node:fs'
import { lstat, readdir, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { logDirError } from '../errors'
import { utcDay } from '../format/time'
import { DAY_MS } from './file'

export const TEXT_FILE = 'api.log'
export const JSON_FILE = 'api_structured.jsonl'

/**
 * Only files we name ourselves are ever deleted: `api_structured.jsonl.2025-01-14`, its
 * same-day siblings `.2`, `.3` (an index is added when a dated name exists), and the same for
 * every worker (`api_structured.w2.jsonl.2025-01-14`).
 */
export const ROTATED_JSON = /^api_structured(?:\.w\d+)?\.jsonl\.(\d{4})-(\d{2})-(\d{2})(?:\.\d+)?$/
const LIVE_JSON = /^api_structured(?:\.w\d+)?\.jsonl$/

/** The active file names of one process. */
export interface FileNames {
  readonly text: string
  readonly json: string
}

/** `api.log` and `api_structured.jsonl`, or with a worker id: `api.w2.log`, `api_structured.w2.jsonl`. */
export function fileNames (workerId: string | null): FileNames {
  if (workerId === null) return { text: TEXT_FILE, json: JSON_FILE }
  return { text: `api.w${workerId}.log`, json: `api_structured.w${workerId}.jsonl` }
}

/**
 * The worker id in this process's file names (LOG_WORKER_ID): `auto` gives PM2's
 * `NODE_APP_INSTANCE` (stable across restarts, set in cluster and fork mode) under PM2 or in a
 * cluster worker, else the cluster worker's id (which grows with each respawn), else none.
 */
export function resolveWorkerId (setting: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (setting === 'none') return null
  if (setting !== 'auto') return setting
  const instance = env.NODE_APP_INSTANCE
  const pm2Instance = instance !== undefined && /^\d+$/.test(instance) ? instance : null
  if (cluster.isWorker) return pm2Instance ?? String(cluster.worker?.id)
  return env.pm_id !== undefined ? pm2Instance : null
}

/**
 * Creates the directory when missing and proves it writable, so a bad `logDir` fails `register`
 * with the path and the system's reason instead of losing lines later.
 */
export function prepareLogDir (dir: string): string {
  const absolute = resolve(dir)
  try {
    mkdirSync(absolute, { recursive: true })
    if (!statSync(absolute).isDirectory()) throw Object.assign(new Error(`not a directory: ${absolute}`), { code: 'ENOTDIR' })
    const probe = join(absolute, `.api-logging-probe-${process.pid}`)
    closeSync(openSync(probe, 'w'))
    unlinkSync(probe)
  } catch (err) {
    throw logDirError(`Cannot write the log directory "${absolute}" (LOG_DIR): ${(err as Error).message}`, { cause: err })
  }
  return absolute
}

/** What one retention run did. */
export interface RetentionResult {
  /** Names deleted. */
  readonly deleted: readonly string[]
  /** Why nothing was deleted although files looked old enough: the clock and the files disagree. */
  readonly skipped: string | null
}

/**
 * Deletes rotated JSON files (of any worker) older than `backupDays` days before today (UTC, by
 * `now`). A file goes only when both its name's day and its mtime are older than that, and only
 * when the folder's newest JSON file is not older too: a clock far ahead of every file (a restart
 * with a wrong clock) deletes nothing and says why. Regular files directly in `dir` only.
 */
export async function pruneJsonFiles (dir: string, backupDays: number, now: number): Promise<RetentionResult> {
  const cutoff = (Math.floor(now / DAY_MS) - backupDays) * DAY_MS
  const candidates: string[] = []
  let newest = -Infinity
  for (const name of await readdir(dir)) {
    const match = ROTATED_JSON.exec(name)
    if (match === null && !LIVE_JSON.test(name)) continue
    let mtime: number
    try {
      const stats = await lstat(join(dir, name))
      if (!stats.isFile()) continue
      mtime = stats.mtimeMs
    } catch {
      continue
    }
    newest = Math.max(newest, mtime)
    if (match === null) continue
    const day = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))
    if (!Number.isNaN(day) && day < cutoff && mtime < cutoff) candidates.push(name)
  }
  if (candidates.length === 0) return { deleted: [], skipped: null }
  if (newest < cutoff) {
    return {
      deleted: [],
      skipped: `the clock says ${utcDay(now)} but the newest JSON log file was written on ${utcDay(newest)}, more than ${backupDays} days before: ` +
        `${candidates.length} rotated files kept until the clock and the files agree`
    }
  }
  const deleted: string[] = []
  for (const name of candidates.sort()) {
    try {
      await unlink(join(dir, name))
      deleted.push(name)
    } catch {
      // Gone already (another worker's retention), or not ours to delete: retention never stops logging.
    }
  }
  return { deleted, skipped: null }
}
