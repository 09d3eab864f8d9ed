import { closeSync, createReadStream, openSync, readSync } from 'node:fs'
import { createGunzip } from 'node:zlib'
import { discoverLogFiles, type LogFile } from './files'
import { FOREIGN, LineView, PREFIX, RECORD } from './line'

const CHUNK_BYTES = 1 << 20
/** A line longer than this is skipped (the plugin's own lines are capped far below it). */
export const MAX_LINE_BYTES = 8 << 20
const NEWLINE = 0x0a
const BRACE = 0x7b

// chunk.length when there is none left, so a chunk without one is searched once.
function nextBrace (chunk: Buffer, from: number): number {
  const at = chunk.indexOf(BRACE, from)
  return at === -1 ? chunk.length : at
}

function isPrefixAt (buf: Buffer, at: number): boolean {
  for (let i = 1; i < PREFIX.length; i++) if (buf[at + i] !== PREFIX[i]) return false
  return true
}

/** What reading one file found, beside its records. */
export interface FileScan {
  readonly file: LogFile
  /** Newline-terminated lines (not counted when `contains` filters the lines). */
  lines: number
  records: number
  /** JSON lines that are not records (no timestamp, level or message): other programs' lines. */
  foreign: number
  /** Lines that are not JSON. */
  malformed: number
  /** Line number of the first malformed line (0: none, or not counted). */
  firstMalformed: number
  /** The file ends without a newline: its last line is torn, or still being written. */
  torn: boolean
  tooLong: number
  /** Why reading stopped early (a corrupt .gz, a read error), or null. */
  error: string | null
}

export interface ScanOptions {
  /** Only lines containing these bytes are read (a request id for `trace`); the others are skipped unseen. */
  readonly contains?: Buffer
  /** Called for every record; the view is only valid during the call. */
  readonly onRecord: (view: LineView) => void
  /** Called with the number of file bytes (compressed bytes for .gz) read since the last call. */
  readonly onBytes?: (bytes: number) => void
}

// Read buffers outlive their file until a full garbage collection, which a run this light in
// objects rarely has: one free buffer is kept for the next file instead.
let spare: Buffer | null = null

// Reads are synchronous: a chunk comes from the page cache in a fraction of a millisecond, and an
// asynchronous read waits for a thread-pool thread and then for this one, which on a busy machine
// left the reader idle for a quarter of its run. At the start of each file and every few chunks
// the event loop gets a turn, for the progress line, the worker threads' messages and signals.
const CHUNKS_PER_TURN = 8

async function * plainChunks (path: string, from: number, onBytes?: (bytes: number) => void): AsyncGenerator<Buffer> {
  const fd = openSync(path, 'r')
  // One buffer for the whole file: each chunk is consumed before the next read, and what
  // outlives it (the start of a line cut by the chunk's end) is copied.
  const buffer = spare ?? Buffer.allocUnsafe(CHUNK_BYTES)
  spare = null
  try {
    let position = from
    for (let chunk = 0; ; chunk++) {
      if (chunk % CHUNKS_PER_TURN === 0) await new Promise(setImmediate)
      const bytesRead = readSync(fd, buffer, 0, CHUNK_BYTES, position)
      position += bytesRead
      if (bytesRead === 0) return
      onBytes?.(bytesRead)
      yield buffer.subarray(0, bytesRead)
    }
  } finally {
    spare = buffer
    closeSync(fd)
  }
}

// zlib inflates a whole input chunk before the stream can push back (about 8 times its size for
// these files): small input chunks keep that burst small.
const GZIP_INPUT_BYTES = 64 * 1024

async function * gzipChunks (path: string, onBytes?: (bytes: number) => void): AsyncGenerator<Buffer> {
  const source = createReadStream(path, { highWaterMark: GZIP_INPUT_BYTES })
  const gunzip = createGunzip({ chunkSize: 128 * 1024 })
  source.on('error', (err) => gunzip.destroy(err))
  source.pipe(gunzip)
  let reported = 0
  try {
    for await (const chunk of gunzip) {
      if (onBytes !== undefined && source.bytesRead > reported) {
        onBytes(source.bytesRead - reported)
        reported = source.bytesRead
      }
      yield chunk as Buffer
    }
  } finally {
    source.destroy()
  }
}

/** A part of a file: the lines that start at a byte offset in [start, end). */
export interface ByteRange {
  readonly start: number
  readonly end: number
}

const WHOLE: ByteRange = { start: 0, end: Infinity }

/**
 * Reads one file (or the lines starting in `range` of a plain one) line by line, gzip
 * included; never throws for what it finds in the file.
 */
export async function scanFile (file: LogFile, options: ScanOptions, range: ByteRange = WHOLE): Promise<FileScan> {
  const scan: FileScan = { file, lines: 0, records: 0, foreign: 0, malformed: 0, firstMalformed: 0, torn: false, tooLong: 0, error: null }
  const view = new LineView()
  const needle = options.contains
  // The start of a line cut by the end of the chunk it began in, and its offset in the file.
  let carry: Buffer | null = null
  let carryAt = 0
  // Inside a line too long to keep, or (at the start of a range) the end of a line the range before holds.
  let skipping = false
  let headless = range.start > 0
  let offset = range.start > 0 ? range.start - 1 : 0
  let done = false

  function malformed (): void {
    scan.malformed++
    if (scan.firstMalformed === 0 && needle === undefined) scan.firstMalformed = scan.lines
  }

  function handle (buf: Buffer, start: number, end: number, glued: boolean): void {
    if (start === end) return
    const kind = view.classify(buf, start, end, glued)
    if (kind === RECORD) {
      scan.records++
      options.onRecord(view)
    } else if (kind === FOREIGN) {
      scan.foreign++
    } else if (glued) {
      // A torn line glued to the next record (a partial write): the torn part is lost, the
      // record after it is read on its own.
      malformed()
      const next = buf.subarray(start + 1, end).indexOf(PREFIX) + start + 1
      handleAlone(buf, next, end)
    } else {
      malformed()
    }
  }

  function handleAlone (buf: Buffer, start: number, end: number): void {
    const line = buf.subarray(start, end)
    if (needle !== undefined && !line.includes(needle)) return
    handle(buf, start, end, line.indexOf(PREFIX, 1) !== -1)
  }

  // Every line of the chunk from `from`; returns where the unfinished last line starts.
  function allLines (chunk: Buffer, from: number): number {
    let start = from
    // The next `{` after a line's first byte: where a second record could start. A byte search
    // (memchr) and a check of the bytes after it cost less than searching for the whole key.
    let brace = from
    const stop = range.end - offset
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start)
      if (end === -1) return start
      if (start >= stop) {
        done = true
        return chunk.length
      }
      scan.lines++
      if (brace <= start) brace = nextBrace(chunk, start + 1)
      let glued = false
      while (brace < end) {
        if (isPrefixAt(chunk, brace)) {
          glued = true
          break
        }
        brace = nextBrace(chunk, brace + 1)
      }
      handle(chunk, start, end, glued)
      start = end + 1
    }
  }

  // Only the lines holding the needle: found by searching for it, not by splitting every line.
  function matchingLines (chunk: Buffer, from: number, find: Buffer): number {
    let at = from
    for (;;) {
      const hit = chunk.indexOf(find, at)
      if (hit === -1) break
      const end = chunk.indexOf(NEWLINE, hit)
      if (end === -1) break
      handleAlone(chunk, Math.max(from, chunk.lastIndexOf(NEWLINE, hit) + 1), end)
      at = end + 1
    }
    return Math.max(from, chunk.lastIndexOf(NEWLINE) + 1)
  }

  try {
    const chunks = file.gzip ? gzipChunks(file.path, options.onBytes) : plainChunks(file.path, offset, options.onBytes)
    for await (const chunk of chunks) {
      let from = 0
      if (carry !== null || skipping || headless) {
        const end = chunk.indexOf(NEWLINE)
        if (end === -1) {
          if (carry !== null) carry = Buffer.concat([carry, chunk])
          if (carry !== null && carry.length > MAX_LINE_BYTES) {
            carry = null
            skipping = true
          }
          offset += chunk.length
          continue
        }
        if (headless) {
          headless = false
        } else if (carryAt >= range.end) {
          break
        } else {
          if (needle === undefined) scan.lines++
          if (skipping || (carry as Buffer).length + end > MAX_LINE_BYTES) {
            scan.tooLong++
            skipping = false
          } else {
            const line: Buffer = Buffer.concat([carry as Buffer, chunk.subarray(0, end)])
            handleAlone(line, 0, line.length)
          }
        }
        carry = null
        from = end + 1
      }
      const rest = needle === undefined ? allLines(chunk, from) : matchingLines(chunk, from, needle)
      if (done) break
      if (rest < chunk.length) {
        // At most a chunk (1 MiB): the length limit is checked as the line grows.
        carry = Buffer.from(chunk.subarray(rest))
        carryAt = offset + rest
      }
      offset += chunk.length
    }
    if (!done && (carry !== null || skipping)) scan.torn = carryAt < range.end
  } catch (err) {
    scan.error = readError(file, err)
  }
  return scan
}

function readError (file: LogFile, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code
  const message = (err as Error).message
  if (file.gzip && typeof code === 'string' && code.startsWith('Z_')) return `not a valid gzip file (${message}); the lines before the damage were read`
  return `cannot be read (${message})`
}

/** What reading a folder found. */
export interface FolderScan {
  readonly dir: string
  readonly scans: FileScan[]
  /** Files left unread: last written before --since, so none of their lines can be in the window. */
  readonly skipped: LogFile[]
  readonly duplicates: string[]
}

export interface FolderScanOptions extends ScanOptions {
  /** Epoch ms: files whose last write is older are not read. */
  readonly since?: number | null
  /** Called once the files are known, with the bytes that will be read. */
  readonly onFiles?: (files: LogFile[]) => void
  /** Called before each file is read. */
  readonly onFile?: (file: LogFile, position: number) => void
}

/** The files of the folder to read for a window starting at `since`, and those it leaves out. */
export async function filesToRead (dir: string, since: number | null): Promise<Omit<FolderScan, 'scans'> & { files: LogFile[] }> {
  const { files, duplicates } = await discoverLogFiles(dir)
  // A line is written after its timestamp is taken: a file last modified before `since` holds
  // no record of the window.
  if (since === null) return { dir, files, skipped: [], duplicates }
  return { dir, files: files.filter((file) => file.mtimeMs >= since), skipped: files.filter((file) => file.mtimeMs < since), duplicates }
}

/** Reads every JSON file of the folder, oldest first. */
export async function scanFolder (dir: string, options: FolderScanOptions): Promise<FolderScan> {
  const { files, skipped, duplicates } = await filesToRead(dir, options.since ?? null)
  options.onFiles?.(files)
  const scans: FileScan[] = []
  for (const [i, file] of files.entries()) {
    options.onFile?.(file, i)
    scans.push(await scanFile(file, options))
  }
  return { dir, scans, skipped, duplicates }
}

/** The scans of consecutive ranges of one file as one scan of the whole file. */
export function joinScans (parts: FileScan[]): FileScan {
  const joined: FileScan = { ...parts[0], lines: 0, records: 0, foreign: 0, malformed: 0, firstMalformed: 0, tooLong: 0, torn: false, error: null }
  for (const part of parts) {
    if (joined.firstMalformed === 0 && part.firstMalformed > 0) joined.firstMalformed = joined.lines + part.firstMalformed
    joined.lines += part.lines
    joined.records += part.records
    joined.foreign += part.foreign
    joined.malformed += part.malformed
    joined.tooLong += part.tooLong
    joined.torn ||= part.torn
    joined.error ??= part.error
  }
  return joined
}
