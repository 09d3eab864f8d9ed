import {
  close, closeSync, constants, fstat, fstatSync, ftruncate, ftruncateSync, lstatSync, mkdirSync, open, openSync, read, readSync, readdirSync,
  renameSync, statSync, unlinkSync, write, writeSync, type Stats
} from 'node:fs'
import { lstat, mkdir, readdir, rename, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { utcDay } from '../format/time'
import type { Destination, WriteCallback } from './destination'
import type { FileLock } from './lock'

export const DAY_MS = 86_400_000
/** How often the path is compared with the open file (and the lock refreshed). */
export const CHECK_INTERVAL_MS = 500
// A daily file idle this long is rotated by the timer at midnight, without waiting for a line.
const IDLE_MS = 1000
const NL = 10
const NEWLINE = Buffer.from('\n')
const COPY_PIECE = 1 << 20
// How long the exit path waits for a write already with the thread pool to land.
const LANDING_WAIT_MS = 200
const SLEEP = new Int32Array(new SharedArrayBuffer(4))
const HEAD_PROBE = 64 * 1024
// O_NONBLOCK: a FIFO put in place of a log file fails to open instead of blocking a thread forever.
const { O_RDWR, O_WRONLY, O_APPEND, O_CREAT, O_NONBLOCK } = constants
const READ_WRITE = O_RDWR | O_APPEND | O_CREAT | O_NONBLOCK
const WRITE_ONLY = O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK

/** `api.log` rotated at `maxBytes` into `api.log.1` … `api.log.<backups>`. */
export interface SizeRotation {
  readonly kind: 'size'
  readonly maxBytes: number
  readonly backups: number
}

/** `api_structured.jsonl` rotated when its lines' UTC day changes, into `api_structured.jsonl.YYYY-MM-DD`. */
export interface DailyRotation {
  readonly kind: 'daily'
  /** The clock of the idle rotation at midnight (epoch ms). */
  readonly now: () => number
  /** Called after each rotation (retention runs then). */
  readonly rotated: () => void
}

/** Why an open file was given up for a new one at the same path. */
export type ReopenCause = 'deleted' | 'renamed' | 'truncated' | 'folder'

export interface FileOptions {
  readonly dir: string
  readonly name: string
  readonly rotation: SizeRotation | DailyRotation
  /** Told when someone else deleted, renamed or truncated the file; `copied` bytes were saved from a deleted one. */
  readonly reopened: (path: string, cause: ReopenCause, copied: number) => void
  readonly lock: FileLock | null
}

interface Segment {
  readonly fd: number
  /** Where the range being written starts in the chunk: always a line boundary. */
  readonly start: number
  /** Bytes before `offset` are in the file; a write of `offset`…`end` is with the kernel. */
  readonly offset: number
  readonly end: number
  /** The file's size when that write was issued. */
  readonly sizeBefore: number
}

interface Operation {
  readonly buf: Buffer
  /** Bytes of `buf` in the file as whole lines. */
  confirmed: number
  segment: Segment | null
}

type ShiftStep = readonly ['rename', string, string] | readonly ['unlink', string]

/** A failed synchronous write: `confirmed` bytes of the chunk are on disk as whole lines. */
class TornWrite extends Error {
  readonly confirmed: number
  constructor (confirmed: number, cause: unknown) {
    super('write failed', { cause })
    this.confirmed = confirmed
  }
}

// How many times this process created each log folder again: a folder deleted under two files is
// reported as such by both (the second may find it made again already, under the same inode number).
const folderGenerations = new Map<string, number>()

function errorCode (err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code
}

function ignoreMissing (err: unknown): void {
  if (errorCode(err) !== 'ENOENT') throw err
}

function writeAsync (fd: number, buf: Buffer, offset: number, length: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, buf, offset, length, null, (err, written) => { if (err) reject(err); else resolve(written) }))
}

function readAsync (fd: number, buf: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, 0, buf.length, position, (err, bytes) => { if (err) reject(err); else resolve(bytes) }))
}

function fstatAsync (fd: number): Promise<Stats> {
  return new Promise((resolve, reject) => fstat(fd, (err, stats) => { if (err) reject(err); else resolve(stats) }))
}

function ftruncateAsync (fd: number, length: number): Promise<void> {
  return new Promise((resolve, reject) => ftruncate(fd, length, (err) => { if (err) reject(err); else resolve() }))
}

function closeAsync (fd: number): Promise<void> {
  return new Promise((resolve) => close(fd, () => resolve()))
}

function openAsync (path: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => open(path, flags, 0o666, (err, fd) => { if (err) reject(err); else resolve(fd) }))
}

function notRegular (path: string): Error {
  return Object.assign(new Error(`${path} is not a regular file`), { code: 'EINVAL' })
}

/** The end of the whole lines of `buf[start, offset)`: what stays when a write stopped at `offset`. */
function wholeLinesEnd (buf: Buffer, start: number, offset: number): number {
  if (offset <= start) return start
  const nl = buf.lastIndexOf(NL, offset - 1)
  return nl >= start ? nl + 1 : start
}

/** The UTC day of a JSON file: its first line's timestamp, else its mtime. */
function dayOfHead (head: Buffer, mtimeMs: number): number {
  const nl = head.indexOf(NL)
  if (nl !== -1) {
    try {
      const time = Date.parse((JSON.parse(head.subarray(0, nl).toString('utf8')) as { timestamp?: unknown }).timestamp as string)
      if (!Number.isNaN(time)) return Math.floor(time / DAY_MS)
    } catch {}
  }
  return Math.floor(mtimeMs / DAY_MS)
}

function escapeRegExp (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * A rotating log file of our own, written with `fs.write` on a file descriptor opened for
 * appending. What rotating-file-stream could not do (docs/operations.md): a short write is
 * continued and a failed one cut back to its last whole line, so the file never keeps a torn
 * line and the sink knows exactly which lines landed; size rotation happens at a line boundary
 * before the limit; a cheap periodic `stat` of the path notices a deleted, renamed or truncated
 * file and reopens the path (saving what went into a deleted file since the last check); after a
 * failure the next write simply opens the path again. Renaming the numbered backups is done off
 * the write path, many rotations at a time.
 *
 * Operations (writes, checks, rotations) run one after another; the sink has one write in flight.
 */
export class FileDestination implements Destination {
  readonly description: string
  reopens = 0
  private readonly dir: string
  private readonly name: string
  private readonly path: string
  private readonly rotation: SizeRotation | DailyRotation
  private readonly onReopened: FileOptions['reopened']
  private readonly lock: FileLock | null
  private readonly timer: NodeJS.Timeout

  private fd: number | null = null
  private readable = true
  private dev = 0
  private ino = 0
  private dirIno = 0
  private dirGeneration = 0
  /** The size of the open file, as far as this process knows (re-read at each check). */
  private size = 0
  /** The size at the last check: what was written after it may have gone into a deleted file. */
  private checkedSize = 0
  /** The UTC day (days since the epoch) of the open daily file's lines; null while it is empty. */
  private day: number | null = null
  private tornTail = false
  /** Lines read back from a deleted file, still to be written into the new one. */
  private readonly carry: Buffer[] = []
  private failed = false
  private reopenWanted = false
  private checkDue = false
  private lastWrite = 0
  private queued = 0
  private chain: Promise<unknown> = Promise.resolve()
  private op: Operation | null = null
  private ended = false
  private exiting = false

  // Size rotation: the live file is renamed to `<name>.pending.<seq>` at once; the numbered
  // backups are shifted afterwards, for all pending files together.
  private readonly pending: number[] = []
  /** The pending file a rename in the thread pool is making now (its callback has not run). */
  private renaming: { seq: number, path: string } | null = null
  private steps: ShiftStep[] = []
  private nextSeq = 1
  private shifting: Promise<void> | null = null

  /** Opens the file (synchronously, so `register` fails with the reason); throws on failure. */
  constructor (options: FileOptions) {
    this.dir = options.dir
    this.name = options.name
    this.path = join(options.dir, options.name)
    this.description = this.path
    this.rotation = options.rotation
    this.onReopened = options.reopened
    this.lock = options.lock
    this.openSync()
    this.dirIno = statSync(this.dir).ino
    this.dirGeneration = folderGenerations.get(this.dir) ?? 0
    if (this.rotation.kind === 'size') this.recoverBackupsSync()
    this.timer = setInterval(this.onTick, CHECK_INTERVAL_MS)
    this.timer.unref()
  }

  write (chunk: Buffer, tag: number, callback: WriteCallback): void {
    const op: Operation = { buf: chunk, confirmed: 0, segment: null }
    this.op = op
    const settle = (err: Error | null): void => {
      if (this.op === op) this.op = null
      callback(err, op.confirmed)
    }
    this.run(() => this.writeChunk(op, tag)).then(() => settle(null), (err: Error) => settle(err))
  }

  reopen (): Promise<void> {
    this.reopenWanted = true
    return this.run(async () => { if (this.reopenWanted && !this.ended) await this.check() }).catch(() => {})
  }

  async end (): Promise<void> {
    if (this.ended) return
    this.ended = true
    clearInterval(this.timer)
    await this.run(async () => {
      const fd = this.fd
      this.fd = null
      if (fd !== null) await closeAsync(fd)
    }).catch(() => {})
    if (this.shifting !== null) await this.shifting
    this.lock?.release()
  }

  writeSync (chunk: Buffer, tag: number, inFlight: boolean): number {
    this.exiting = true
    clearInterval(this.timer)
    let confirmed = 0
    try {
      const op = inFlight && this.op?.buf === chunk ? this.op : null
      if (op !== null) {
        confirmed = op.confirmed
        const segment = op.segment
        // The write libuv's thread pool had when the process began to exit: it may have landed,
        // partly, or be landing now. Give it a moment rather than write its bytes twice.
        if (segment !== null && segment.fd === this.fd) {
          const want = segment.end - segment.offset
          const landedBytes = (): number => Math.min(Math.max(fstatSync(segment.fd).size - segment.sizeBefore, 0), want)
          let landed = landedBytes()
          for (const deadline = Date.now() + LANDING_WAIT_MS; landed < want && Date.now() < deadline; landed = landedBytes()) Atomics.wait(SLEEP, 0, 0, 1)
          this.size = segment.sizeBefore + landed
          confirmed = this.appendSync(chunk, segment.start, segment.offset + landed, segment.end)
        }
      }
      this.prepareSync()
      if (this.rotation.kind === 'daily') this.rotateDailySync(tag)
      while (confirmed < chunk.length) confirmed = this.appendSync(chunk, confirmed, confirmed, this.fittingSync(chunk, confirmed))
    } catch (err) {
      if (err instanceof TornWrite) confirmed = err.confirmed
    }
    this.shiftSync()
    return confirmed
  }

  /** For a process that is exiting, after its last write: the lock goes, the file stays open. */
  releaseSync (): void {
    this.lock?.release()
  }

  // --- the write path ------------------------------------------------------------------------

  private run<T> (operation: () => Promise<T>): Promise<T> {
    this.queued++
    const result = this.chain.then(operation)
    const settled = (): void => { this.queued-- }
    this.chain = result.then(settled, settled)
    return result
  }

  private async writeChunk (op: Operation, tag: number): Promise<void> {
    if (this.ended) throw Object.assign(new Error(`${this.path} is closed`), { code: 'ERR_STREAM_DESTROYED' })
    await this.prepare()
    if (this.rotation.kind === 'daily') {
      // Forward only: after the clock went back, lines stay in the newer day's file.
      if (this.day === null) this.day = tag
      else if (tag > this.day) await this.rotateDaily(tag)
    }
    while (op.confirmed < op.buf.length) await this.writeRange(op, op.confirmed, await this.fitting(op.buf, op.confirmed))
    this.failed = false
  }

  private async prepare (): Promise<void> {
    if (this.fd === null) {
      if (await this.openFile()) this.report('folder', 0)
    } else if (this.failed || this.checkDue || this.reopenWanted) {
      await this.check()
    }
    if (this.carry.length > 0) await this.writeCarry()
    if (this.tornTail) {
      // A torn line could not be cut off: the next line starts on a line of its own.
      this.size += await writeAsync(this.fd as number, NEWLINE, 0, 1)
      this.tornTail = false
    }
  }

  /** Writes `op.buf[start, end)` (whole lines); on failure cuts a torn line off and throws. */
  private async writeRange (op: Operation, start: number, end: number): Promise<void> {
    const fd = this.fd as number
    let offset = start
    try {
      while (offset < end) {
        this.stopIfExiting()
        op.segment = { fd, start, offset, end, sizeBefore: this.size }
        const written = await writeAsync(fd, op.buf, offset, end - offset)
        this.stopIfExiting()
        offset += written
        this.size += written
        if (written === 0) throw Object.assign(new Error('write() wrote nothing'), { code: 'EIO' })
      }
      op.segment = null
      op.confirmed = end
      this.lastWrite = performance.now()
    } catch (err) {
      op.segment = null
      if (this.exiting) throw err
      this.failed = true
      op.confirmed = wholeLinesEnd(op.buf, start, offset)
      await this.cutTorn(fd, offset - op.confirmed)
      throw err
    }
  }

  /**
   * Once the exit path has written synchronously, the asynchronous operations still under way
   * stop at their next step: a write or rename issued now would repeat or undo what it did.
   */
  private stopIfExiting (): void {
    if (this.exiting) throw Object.assign(new Error('the process is exiting'), { code: 'ERR_EXITING' })
  }

  private async cutTorn (fd: number, torn: number): Promise<void> {
    if (torn <= 0) return
    try {
      const size = (await fstatAsync(fd)).size
      await ftruncateAsync(fd, size - torn)
      this.size = size - torn
    } catch {
      this.tornTail = true
    }
  }

  /** Where the next write of `buf` from `start` must end to keep the file within its size; rotates first when nothing fits. */
  private async fitting (buf: Buffer, start: number): Promise<number> {
    for (;;) {
      const end = this.fits(buf, start)
      if (end !== -1) return end
      await this.rotateSize(buf, start)
    }
  }

  /** The end of the longest run of whole lines from `start` that fits, or -1: rotate first. */
  private fits (buf: Buffer, start: number): number {
    if (this.rotation.kind !== 'size') return buf.length
    const room = this.rotation.maxBytes - this.size
    if (buf.length - start <= room) return buf.length
    if (room > 0) {
      const nl = buf.lastIndexOf(NL, start + room - 1)
      if (nl >= start) return nl + 1
    }
    if (this.size > 0) return -1
    // An empty file, and a line longer than the limit: that line alone.
    const nl = buf.indexOf(NL, start)
    return nl === -1 ? buf.length : nl + 1
  }

  // --- checks and reopening -------------------------------------------------------------------

  private readonly onTick = (): void => {
    this.lock?.refresh()
    if (this.ended) return
    this.checkDue = true
    if (this.queued === 0) this.run(() => this.maintain()).catch(() => { this.failed = true })
    if (this.shifting === null && (this.pending.length > 0 || this.steps.length > 0)) this.shift()
  }

  private async maintain (): Promise<void> {
    if (this.ended || this.op !== null) return
    if (this.fd === null) {
      if (await this.openFile()) this.report('folder', 0)
    } else if (this.checkDue) {
      await this.check()
    }
    const rotation = this.rotation
    if (rotation.kind === 'daily' && this.day !== null && Math.floor(rotation.now() / DAY_MS) > this.day && performance.now() - this.lastWrite >= IDLE_MS) {
      await this.rotateDaily(null)
    }
  }

  /** Compares the path with the open file; reopens when it was deleted, renamed or replaced. */
  private async check (): Promise<void> {
    this.stopIfExiting()
    this.checkDue = false
    if (this.fd === null) {
      if (await this.openFile()) this.report('folder', 0)
      this.reopenWanted = false
      return
    }
    let current: Stats | null = null
    try {
      current = await stat(this.path)
    } catch (err) {
      if (errorCode(err) !== 'ENOENT' && errorCode(err) !== 'ENOTDIR') throw err
    }
    this.stopIfExiting()
    if (current === null || current.ino !== this.ino || current.dev !== this.dev) {
      await this.replace()
      return
    }
    if (current.size < this.size) {
      // copytruncate: the same file, emptied. Appending goes on at its new end.
      this.size = current.size
      this.reopens++
      this.onReopened(this.path, 'truncated', 0)
    } else {
      this.size = current.size
    }
    this.checkedSize = this.size
    if (this.reopenWanted) {
      this.reopenWanted = false
      this.reopens++
      const fd = this.fd
      this.fd = null
      await closeAsync(fd)
      await this.openFile()
    }
  }

  /** The path no longer names the open file: open the path again, saving what went into a deleted file. */
  private async replace (): Promise<void> {
    const requested = this.reopenWanted
    this.reopenWanted = false
    const old = this.fd as number
    this.fd = null
    let deleted = false
    try {
      const stats = await fstatAsync(old)
      deleted = stats.nlink === 0
      if (deleted && this.readable) this.carry.push(...await this.readTail(old, this.checkedSize, stats.size))
    } finally {
      await closeAsync(old)
    }
    this.reopens++
    const copied = this.carry.reduce((sum, piece) => sum + piece.length, 0)
    // Gone, or made again already (by the other file's reopen): the folder was deleted.
    let folder = (folderGenerations.get(this.dir) ?? 0) !== this.dirGeneration
    try {
      folder ||= (await stat(this.dir)).ino !== this.dirIno
    } catch {
      folder = true
    }
    // Reported once the path is opened again (or could not be): only then is it known whether the
    // folder had gone too, for a folder removed just after its files.
    let failure: unknown = null
    try {
      folder = (await this.openFile()) || folder
    } catch (err) {
      failure = err
    }
    if (folder) this.report('folder', copied)
    else if (deleted) this.report('deleted', copied)
    else if (!requested) this.report('renamed', 0)
    if (failure !== null) throw failure
    // The lock may have gone with the file's folder.
    this.lock?.refresh()
    if (folder) {
      this.dirIno = (await stat(this.dir)).ino
      this.dirGeneration = folderGenerations.get(this.dir) ?? 0
    }
    await this.writeCarry()
  }

  /** Writes what was saved from a deleted file (kept across failures until it is written). */
  private async writeCarry (): Promise<void> {
    while (this.carry.length > 0) {
      const piece = this.carry[0]
      const op: Operation = { buf: piece, confirmed: 0, segment: null }
      try {
        while (op.confirmed < piece.length) await this.writeRange(op, op.confirmed, await this.fitting(piece, op.confirmed))
      } catch (err) {
        this.carry[0] = piece.subarray(op.confirmed)
        throw err
      }
      this.carry.shift()
    }
  }

  /** `from`…`to` of a file, in pieces that end at a newline. */
  private async readTail (fd: number, from: number, to: number): Promise<Buffer[]> {
    const pieces: Buffer[] = []
    let position = from
    while (position < to) {
      const buf = Buffer.allocUnsafe(Math.min(COPY_PIECE, to - position))
      const bytes = await readAsync(fd, buf, position)
      if (bytes === 0) break
      let piece = buf.subarray(0, bytes)
      const nl = piece.lastIndexOf(NL)
      if (nl !== -1 && position + bytes < to) piece = piece.subarray(0, nl + 1)
      pieces.push(piece)
      position += piece.length
    }
    return pieces
  }

  private report (cause: ReopenCause, copied: number): void {
    this.onReopened(this.path, cause, copied)
  }

  /** Opens the path for appending; returns true when the folder had to be created again. */
  private async openFile (): Promise<boolean> {
    this.stopIfExiting()
    let created = false
    let fd: number
    try {
      fd = await this.openFlags()
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err
      created = (await mkdir(this.dir, { recursive: true })) !== undefined
      if (created) this.madeFolder((await stat(this.dir)).ino)
      fd = await this.openFlags()
    }
    try {
      const stats = await fstatAsync(fd)
      this.stopIfExiting()
      if (!stats.isFile()) throw notRegular(this.path)
      this.adopt(fd, stats)
      if (stats.size > 0 && this.readable) {
        const last = Buffer.alloc(1)
        await readAsync(fd, last, stats.size - 1)
        if (last[0] !== NL) this.size += await writeAsync(fd, NEWLINE, 0, 1)
        if (this.rotation.kind === 'daily') {
          const head = Buffer.alloc(Math.min(HEAD_PROBE, stats.size))
          await readAsync(fd, head, 0)
          this.day = dayOfHead(head, stats.mtimeMs)
        }
      }
    } catch (err) {
      if (this.fd === fd) this.fd = null
      // The exit path may write through it still.
      if (!this.exiting) await closeAsync(fd)
      throw err
    }
    this.checkedSize = this.size
    return created
  }

  private madeFolder (ino: number): void {
    this.dirGeneration = (folderGenerations.get(this.dir) ?? 0) + 1
    folderGenerations.set(this.dir, this.dirGeneration)
    this.dirIno = ino
  }

  private async openFlags (): Promise<number> {
    try {
      const fd = await openAsync(this.path, READ_WRITE)
      this.readable = true
      return fd
    } catch (err) {
      if (errorCode(err) !== 'EACCES') throw err
      const fd = await openAsync(this.path, WRITE_ONLY)
      this.readable = false
      return fd
    }
  }

  private adopt (fd: number, stats: Stats): void {
    this.fd = fd
    this.dev = stats.dev
    this.ino = stats.ino
    this.size = stats.size
    this.day = null
  }

  // --- rotation -------------------------------------------------------------------------------

  private pendingPath (seq: number): string {
    return `${this.path}.pending.${seq}`
  }

  private backupPath (index: number): string {
    return `${this.path}.${index}`
  }

  private async rotateSize (buf: Buffer, start: number): Promise<void> {
    await this.check()
    this.stopIfExiting()
    // After the check the file may be another, or truncated (copytruncate): the lines may fit now.
    if (this.fits(buf, start) !== -1) return
    const seq = this.nextSeq++
    this.renaming = { seq, path: this.pendingPath(seq) }
    try {
      await rename(this.path, this.pendingPath(seq))
    } catch (err) {
      ignoreMissing(err)
      this.checkDue = true
      await this.check()
      return
    } finally {
      this.renaming = null
    }
    this.pending.push(seq)
    const old = this.fd as number
    this.fd = null
    await closeAsync(old)
    await this.openFile()
    this.shift()
  }

  /** Renames the live daily file after its day (an index is added when that name exists) and starts a new one. */
  private async rotateDaily (next: number | null): Promise<void> {
    await this.check()
    if (this.size === 0 || this.day === null) {
      this.day = next
      return
    }
    const target = await this.freeDatedPath(this.day)
    this.stopIfExiting()
    try {
      await rename(this.path, target)
    } catch (err) {
      ignoreMissing(err)
      this.checkDue = true
      await this.check()
      this.day = next
      return
    }
    const old = this.fd as number
    this.fd = null
    await closeAsync(old)
    await this.openFile()
    this.day = next
    ;(this.rotation as DailyRotation).rotated()
  }

  private datedPath (day: number, index: number): string {
    const base = `${this.path}.${utcDay(day * DAY_MS)}`
    return index === 1 ? base : `${base}.${index}`
  }

  private async freeDatedPath (day: number): Promise<string> {
    for (let index = 1; ; index++) {
      const candidate = this.datedPath(day, index)
      try {
        await lstat(candidate)
      } catch (err) {
        ignoreMissing(err)
        return candidate
      }
    }
  }

  /** The numbers of the backups in the folder (`api.log.3` → 3). */
  private backupNumbers (names: string[]): Set<number> {
    const backup = new RegExp(`^${escapeRegExp(this.name)}\\.(\\d+)$`)
    const numbers = new Set<number>()
    for (const name of names) {
      const match = backup.exec(name)
      if (match !== null) numbers.add(Number(match[1]))
    }
    return numbers
  }

  /**
   * The renames that give the pending files (oldest first) the numbers 1…k, newest first, and
   * move every existing backup up by k; what would go past the backup count is deleted.
   */
  private shiftPlan (batch: number[], existing: Set<number>): ShiftStep[] {
    const k = batch.length
    const n = (this.rotation as SizeRotation).backups
    const steps: ShiftStep[] = []
    for (let i = n; i >= 1; i--) {
      if (!existing.has(i)) continue
      steps.push(i + k > n ? ['unlink', this.backupPath(i)] : ['rename', this.backupPath(i), this.backupPath(i + k)])
    }
    for (let j = 0; j < k; j++) {
      const from = this.pendingPath(batch[k - 1 - j])
      steps.push(j < n ? ['rename', from, this.backupPath(j + 1)] : ['unlink', from])
    }
    return steps
  }

  // Off the write path: writes go on into the new file while the backups are renamed.
  private shift (): void {
    if (this.shifting !== null || this.exiting) return
    this.shifting = this.shiftAll().catch(() => {}).finally(() => { this.shifting = null })
  }

  private async shiftAll (): Promise<void> {
    while (!this.exiting) {
      if (this.steps.length === 0) {
        if (this.pending.length === 0) return
        const names = await readdir(this.dir)
        if (this.exiting) return
        this.steps = this.shiftPlan(this.pending.splice(0), this.backupNumbers(names))
      }
      const step = this.steps[0]
      try {
        if (step[0] === 'rename') await rename(step[1], step[2])
        else await unlink(step[1])
      } catch (err) {
        // A failing rename is retried from the same step at the next tick.
        ignoreMissing(err)
      }
      // The exit path took over the remaining steps, this one included.
      if (this.exiting) return
      this.steps.shift()
    }
  }

  private shiftSync (): void {
    if (this.rotation.kind !== 'size') return
    // A process exiting while a rotation's rename is with the thread pool: the rename lands, but
    // the code that would list its pending file never runs. Wait for it, and shift that file too.
    const renaming = this.renaming
    if (renaming !== null) {
      for (const deadline = Date.now() + LANDING_WAIT_MS; !this.existsSync(renaming.path) && Date.now() < deadline;) Atomics.wait(SLEEP, 0, 0, 1)
      if (this.existsSync(renaming.path) && !this.pending.includes(renaming.seq)) {
        this.pending.push(renaming.seq)
        this.pending.sort((a, b) => a - b)
      }
      this.renaming = null
    }
    if (this.shifting !== null && this.steps.length > 0) {
      // The step the thread pool has: wait for it to be done (its source gone), then go on from there.
      const busy = this.steps[0][1]
      for (const deadline = Date.now() + LANDING_WAIT_MS; this.existsSync(busy) && Date.now() < deadline;) Atomics.wait(SLEEP, 0, 0, 1)
      if (this.existsSync(busy)) return
      this.steps.shift()
    }
    for (;;) {
      if (this.steps.length === 0) {
        if (this.pending.length === 0) return
        this.steps = this.shiftPlan(this.pending.splice(0), this.backupNumbers(readdirSync(this.dir)))
      }
      const step = this.steps[0]
      try {
        if (step[0] === 'rename') renameSync(step[1], step[2])
        else unlinkSync(step[1])
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') return
      }
      this.steps.shift()
    }
  }

  /** At start: finish a shift a previous process left (its pending files), drop backups past the count, close gaps. */
  private recoverBackupsSync (): void {
    const pending = new RegExp(`^${escapeRegExp(this.name)}\\.pending\\.(\\d+)$`)
    const backup = new RegExp(`^${escapeRegExp(this.name)}\\.(\\d+)$`)
    const backups = (this.rotation as SizeRotation).backups
    for (const entry of readdirSync(this.dir)) {
      const match = pending.exec(entry)
      if (match !== null) this.pending.push(Number(match[1]))
      const old = backup.exec(entry)
      if (old !== null && Number(old[1]) > backups && lstatSync(join(this.dir, entry)).isFile()) unlinkSync(join(this.dir, entry))
    }
    this.pending.sort((a, b) => a - b)
    this.nextSeq = (this.pending.at(-1) ?? 0) + 1
    // A shift cut short (kill -9) or a backup deleted by hand leaves a gap: close it, moving each
    // backup down in ascending order, so no rename lands on a file not yet moved.
    const numbers = [...this.backupNumbers(readdirSync(this.dir))].sort((a, b) => a - b)
    numbers.forEach((n, i) => { if (n !== i + 1) renameSync(this.backupPath(n), this.backupPath(i + 1)) })
    this.shiftSync()
  }

  // --- the synchronous path (process exit) ----------------------------------------------------

  private openSync (): boolean {
    let created = false
    let fd: number
    try {
      fd = this.openFlagsSync()
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err
      created = mkdirSync(this.dir, { recursive: true }) !== undefined
      if (created) this.madeFolder(statSync(this.dir).ino)
      fd = this.openFlagsSync()
    }
    try {
      const stats = fstatSync(fd)
      if (!stats.isFile()) throw notRegular(this.path)
      this.adopt(fd, stats)
      if (stats.size > 0 && this.readable) {
        const last = Buffer.alloc(1)
        readSync(fd, last, 0, 1, stats.size - 1)
        // A torn last line (a crash, a power loss): the next line starts on a line of its own.
        if (last[0] !== NL) this.size += writeSync(fd, NEWLINE)
        if (this.rotation.kind === 'daily') {
          const head = Buffer.alloc(Math.min(HEAD_PROBE, stats.size))
          readSync(fd, head, 0, head.length, 0)
          this.day = dayOfHead(head, stats.mtimeMs)
        }
      }
    } catch (err) {
      this.fd = null
      closeSync(fd)
      throw err
    }
    this.checkedSize = this.size
    return created
  }

  private openFlagsSync (): number {
    try {
      const fd = openSync(this.path, READ_WRITE)
      this.readable = true
      return fd
    } catch (err) {
      if (errorCode(err) !== 'EACCES') throw err
      const fd = openSync(this.path, WRITE_ONLY)
      this.readable = false
      return fd
    }
  }

  private prepareSync (): void {
    if (this.fd !== null) {
      let current: Stats | null = null
      try {
        current = statSync(this.path)
      } catch {}
      if (current !== null && current.ino === this.ino && current.dev === this.dev) {
        this.size = Math.min(this.size, current.size)
      } else {
        closeSync(this.fd)
        this.fd = null
      }
    }
    if (this.fd === null) this.openSync()
    if (this.tornTail) {
      this.size += writeSync(this.fd as number, NEWLINE)
      this.tornTail = false
    }
  }

  private appendSync (buf: Buffer, start: number, offset: number, end: number): number {
    const fd = this.fd as number
    try {
      while (offset < end) {
        const written = writeSync(fd, buf, offset, end - offset)
        offset += written
        this.size += written
        if (written === 0) throw Object.assign(new Error('write() wrote nothing'), { code: 'EIO' })
      }
      return end
    } catch (err) {
      const whole = wholeLinesEnd(buf, start, offset)
      const torn = offset - whole
      try {
        if (torn > 0) ftruncateSync(fd, fstatSync(fd).size - torn)
      } catch {}
      throw new TornWrite(whole, err)
    }
  }

  private fittingSync (buf: Buffer, start: number): number {
    for (;;) {
      const end = this.fits(buf, start)
      if (end !== -1) return end
      this.rotateSizeSync()
    }
  }

  private rotateSizeSync (): void {
    const seq = this.nextSeq++
    try {
      renameSync(this.path, this.pendingPath(seq))
      this.pending.push(seq)
    } catch (err) {
      ignoreMissing(err)
    }
    closeSync(this.fd as number)
    this.fd = null
    this.openSync()
  }

  private rotateDailySync (tag: number): void {
    if (this.day === null || this.size === 0) {
      if (this.day === null || tag > this.day) this.day = tag
      return
    }
    if (tag <= this.day) return
    let index = 1
    while (this.existsSync(this.datedPath(this.day, index))) index++
    renameSync(this.path, this.datedPath(this.day, index))
    closeSync(this.fd as number)
    this.fd = null
    this.openSync()
    this.day = tag
  }

  private existsSync (path: string): boolean {
    try {
      lstatSync(path)
      return true
    } catch {
      return false
    }
  }
}
