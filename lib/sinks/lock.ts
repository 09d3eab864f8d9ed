import { closeSync, openSync, readFileSync, statSync, unlinkSync, utimes, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { logFileLockedError } from '../errors'

/** A lock not refreshed for this long belongs to a process that is gone (or stalled that long). */
export const LOCK_STALE_MS = 30_000
// A lock file with no readable owner yet: its creator may be between open and write.
const UNREADABLE_GRACE_MS = 2000

interface Holder {
  pid: number
  host: string
  /** When the lock was last refreshed (its mtime). */
  refreshed: number
}

// Locks held by this process: a second registration on the same file is refused too.
const heldHere = new Set<string>()

/**
 * The lock beside an active log file (`.api.log.lock`), so that two unrelated processes never
 * append to one file (each would keep its own size and day, and rotate the other's lines away).
 * Created with `O_EXCL`, holding the owner's pid and host; refreshed with each file check, so a
 * lock whose owner died (same host: its pid is gone; any host: not refreshed for 30 s) is taken
 * over.
 */
export class FileLock {
  readonly path: string
  private readonly content: string
  private released = false

  private constructor (path: string, content: string) {
    this.path = path
    this.content = content
  }

  /** The lock of `file` in `dir`, or a `FST_API_LOGGING_LOG_FILE_LOCKED` error naming its owner. */
  static acquire (dir: string, file: string): FileLock {
    const path = join(dir, `.${file}.lock`)
    const content = JSON.stringify({ pid: process.pid, host: hostname() }) + '\n'
    let holder: Holder | null = null
    for (let attempt = 0; attempt < 3; attempt++) {
      if (heldHere.has(path)) throw logFileLockedError(`${join(dir, file)} is already written by another registration of fastify-api-logging in this process: give each registration its own LOG_DIR`)
      if (create(path, content)) {
        heldHere.add(path)
        return new FileLock(path, content)
      }
      holder = readHolder(path)
      if (holder === null || !isStale(holder)) continue
      try {
        unlinkSync(path)
      } catch {
        // Taken over (or removed) by someone else in the meantime: try again.
      }
    }
    throw lockedBy(dir, file, path, holder)
  }

  /** Marks the lock alive; recreates it when someone deleted it (or the whole folder). */
  refresh (): void {
    if (this.released) return
    const now = new Date()
    utimes(this.path, now, now, (err) => {
      if (err?.code === 'ENOENT' && !this.released) create(this.path, this.content)
    })
  }

  /** Removes the lock if it is still ours. */
  release (): void {
    if (this.released) return
    this.released = true
    heldHere.delete(this.path)
    try {
      if (readFileSync(this.path, 'utf8') === this.content) unlinkSync(this.path)
    } catch {
      // Gone already.
    }
  }
}

function create (path: string, content: string): boolean {
  let fd: number
  try {
    fd = openSync(path, 'wx')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    // No lock can be made (a read-only folder): the file itself fails to open just after, with the real reason.
    return true
  }
  try {
    writeSync(fd, content)
  } finally {
    closeSync(fd)
  }
  return true
}

function readHolder (path: string): Holder | null {
  let text: string
  let refreshed: number
  try {
    text = readFileSync(path, 'utf8')
    refreshed = statSync(path).mtimeMs
  } catch {
    return null
  }
  try {
    const parsed = JSON.parse(text) as { pid?: unknown, host?: unknown }
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') return { pid: parsed.pid, host: parsed.host, refreshed }
  } catch {}
  return { pid: 0, host: '', refreshed: Date.now() - refreshed > UNREADABLE_GRACE_MS ? 0 : refreshed }
}

function isStale (holder: Holder): boolean {
  if (holder.pid === 0) return holder.refreshed === 0
  if (Date.now() - holder.refreshed > LOCK_STALE_MS) return true
  if (holder.host !== hostname()) return false
  // Our own pid in a lock we do not hold: a previous process that had this pid (a container's pid 1).
  return holder.pid === process.pid || !isAlive(holder.pid)
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function lockedBy (dir: string, file: string, lockPath: string, holder: Holder | null): Error {
  const who = holder === null || holder.pid === 0
    ? 'another process'
    : `process ${holder.pid}${holder.host === hostname() ? '' : ` on host ${holder.host}`}`
  const age = holder === null || holder.refreshed === 0 ? '' : `, refreshed ${((Date.now() - holder.refreshed) / 1000).toFixed(1)} s ago`
  return logFileLockedError(`${join(dir, file)} is already written by ${who} (lock file ${lockPath}${age}). ` +
    'Two processes appending to one file lose lines: give each process its own LOG_DIR, run them as cluster or PM2 workers ' +
    '(each writes api.w<N>.log), or set LOG_WORKER_ID per process. If that process is gone, delete the lock file.')
}
