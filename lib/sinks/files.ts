import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { lstat, readdir, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type * as Rfs from 'rotating-file-stream' with { 'resolution-mode': 'import' }
import { ApiLoggingError, ERR_LOG_DIR } from '../errors'
import { utcDay } from '../format/time'
import type { Destination } from './destination'

export const TEXT_FILE = 'api.log'
export const JSON_FILE = 'api_structured.jsonl'
// Only files we name ourselves are ever deleted: `api_structured.jsonl.2025-01-14` and its
// same-day siblings `.2`, `.3` (rfs adds an index when a name is taken).
const ROTATED_JSON = /^api_structured\.jsonl\.(\d{4})-(\d{2})-(\d{2})(?:\.\d{1,3})?$/
const DAY_MS = 86_400_000

// rotating-file-stream ships CommonJS code but declares its types as ES module only.
const { createStream } = require('rotating-file-stream') as typeof Rfs
type RotatingFileStream = Rfs.RotatingFileStream

/**
 * Creates the directory when missing and proves it writable, so a bad `logDir` fails `register`
 * with the path and the system's reason instead of losing lines later. Existing log files are
 * opened for appending (which leaves their mtime alone: rfs reads it to rotate a stale file at
 * start); a missing one is not created here, a probe file is.
 */
export function prepareLogDir (dir: string, files: string[]): string {
  const absolute = resolve(dir)
  try {
    mkdirSync(absolute, { recursive: true })
    if (!statSync(absolute).isDirectory()) throw Object.assign(new Error(`not a directory: ${absolute}`), { code: 'ENOTDIR' })
    const probe = join(absolute, `.api-logging-probe-${process.pid}`)
    closeSync(openSync(probe, 'w'))
    unlinkSync(probe)
    for (const file of files) {
      const path = join(absolute, file)
      if (existsSync(path)) closeSync(openSync(path, 'a'))
    }
  } catch (err) {
    throw new ApiLoggingError(ERR_LOG_DIR, `Cannot write the log directory "${absolute}" (LOG_DIR): ${(err as Error).message}`, { cause: err })
  }
  return absolute
}

/** A rotating-file-stream stream as a destination; its first error is reported through the write callback. */
export class RotatingFileDestination implements Destination {
  readonly description: string
  private readonly stream: RotatingFileStream
  private ended: Promise<void> | null = null

  constructor (stream: RotatingFileStream, description: string) {
    this.stream = stream
    this.description = description
    // A dead rfs stream emits 'error' for each later write; the write callbacks carry it to the sink.
    stream.on('error', () => {})
  }

  write (chunk: Buffer, callback: (err?: Error | null) => void): void {
    this.stream.write(chunk, callback)
  }

  end (): Promise<void> {
    this.ended ??= new Promise<void>((resolve) => {
      const stream = this.stream
      if (stream.destroyed || stream.writableFinished) {
        resolve()
        return
      }
      stream.once('error', () => resolve())
      stream.once('close', () => resolve())
      stream.end(() => resolve())
    })
    return this.ended
  }

  writeSync (chunk: Buffer, inFlight: Buffer | null): boolean {
    // rfs keeps the active file's path on a private field; it is the file its next write goes to.
    const path = (this.stream as unknown as { filename: string }).filename
    let fd: number | undefined
    try {
      fd = openSync(path, 'a+')
      const missing = inFlight === null ? null : unwrittenPart(fd, inFlight)
      if (missing !== null && missing.length > 0) writeAll(fd, missing)
      if (chunk.length > 0) writeAll(fd, chunk)
      return true
    } catch {
      return false
    } finally {
      if (fd !== undefined) closeSync(fd)
    }
  }

  ready (): Promise<void> {
    return new Promise((resolve, reject) => {
      const onOpen = (): void => {
        this.stream.off('error', onError)
        resolve()
      }
      const onError = (err: Error): void => {
        this.stream.off('open', onOpen)
        reject(err)
      }
      this.stream.once('open', onOpen)
      this.stream.once('error', onError)
    })
  }
}

function writeAll (fd: number, data: Buffer): void {
  let offset = 0
  // A regular file takes the whole buffer unless the disk fails, and then writeSync throws:
  // the loop ends either way.
  while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset)
}

/**
 * The part of `chunk` that is not at the end of the file: all of it, none of it, or (after a torn
 * write) what follows the part that landed. Found by locating the chunk's first line in the tail.
 */
function unwrittenPart (fd: number, chunk: Buffer): Buffer {
  const size = fstatSync(fd).size
  const tailLength = Math.min(size, chunk.length)
  if (tailLength === 0) return chunk
  const tail = Buffer.alloc(tailLength)
  readSync(fd, tail, 0, tailLength, size - tailLength)
  const newline = chunk.indexOf(10)
  const firstLine = chunk.subarray(0, newline === -1 ? chunk.length : newline + 1)
  let at = tail.lastIndexOf(firstLine)
  while (at !== -1) {
    const landed = tail.subarray(at)
    if (chunk.subarray(0, landed.length).equals(landed)) return chunk.subarray(landed.length)
    at = at === 0 ? -1 : tail.lastIndexOf(firstLine, at - 1)
  }
  return chunk
}

export interface TextFileOptions {
  dir: string
  maxBytes: number
  backupCount: number
}

/** `api.log`, rotated by size into `api.log.1` … `api.log.N` (rename, then create). */
export function openTextFile (options: TextFileOptions): RotatingFileDestination {
  const stream = createStream(TEXT_FILE, {
    path: options.dir,
    size: `${options.maxBytes}B`,
    rotate: options.backupCount
  })
  return new RotatingFileDestination(stream, join(options.dir, TEXT_FILE))
}

export interface JsonFileOptions {
  dir: string
  backupDays: number
  now: () => number
}

/**
 * `api_structured.jsonl`, rotated at UTC midnight into `api_structured.jsonl.YYYY-MM-DD`, named for
 * the day it covers; rotated files older than `backupDays` are deleted after each rotation.
 */
export function openJsonFile (options: JsonFileOptions): RotatingFileDestination {
  const name = (time: Date | number | null, index?: number): string => {
    if (!(time instanceof Date)) return JSON_FILE
    return `${JSON_FILE}.${utcDay(time.getTime())}${index !== undefined && index > 1 ? `.${index}` : ''}`
  }
  const stream = createStream(name, {
    path: options.dir,
    interval: '1d',
    intervalBoundary: true,
    intervalUTC: true,
    initialRotation: true
  })
  // rfs reads the time through this method; tests and users with their own clock replace it.
  Object.defineProperty(stream, 'now', { value: () => new Date(options.now()) })
  stream.on('rotated', () => {
    pruneJsonFiles(options.dir, options.backupDays, options.now()).catch(() => {})
  })
  return new RotatingFileDestination(stream, join(options.dir, JSON_FILE))
}

/**
 * Deletes rotated JSON files whose day is more than `backupDays` days before today (UTC). Judged
 * by the date in the name, never by rfs's history file, and only for regular files in `dir`.
 * Returns the names it deleted.
 */
export async function pruneJsonFiles (dir: string, backupDays: number, now: number): Promise<string[]> {
  const today = Date.parse(utcDay(now) + 'T00:00:00Z')
  const cutoff = today - backupDays * DAY_MS
  const deleted: string[] = []
  for (const name of await readdir(dir)) {
    const match = ROTATED_JSON.exec(name)
    if (match === null) continue
    const day = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))
    if (Number.isNaN(day) || day >= cutoff) continue
    const path = join(dir, name)
    try {
      if (!(await lstat(path)).isFile()) continue
      await unlink(path)
      deleted.push(name)
    } catch {
      // Gone already, or not ours to delete: retention never stops logging.
    }
  }
  return deleted
}
