import { formatJsonLine } from '../format/json'
import { formatConsoleLine, formatTextLine } from '../format/text'
import { WARNING } from '../levels'
import type { Redactor } from '../redact'
import { LogSite } from '../origin'
import { PLUGIN_LOGGER, type LogRecord } from '../record'
import { FdDestination, useColour } from './console'
import { ApiLoggingError, ERR_LOG_DIR } from '../errors'
import { JSON_FILE, TEXT_FILE, openJsonFile, openTextFile, prepareLogDir, pruneJsonFiles, type RotatingFileDestination } from './files'
import { BufferedSink, type BufferedSinkOptions, type SinkStats } from './writer'

export type { SinkStats } from './writer'

/** Counters per sink. */
export interface ApiLoggingStats {
  console: SinkStats
  file: SinkStats
  json: SinkStats
}

export interface LogOutputOptions {
  minLevel: number
  logDir: string
  console: boolean
  file: boolean
  json: boolean
  logFileMaxBytes: number
  logFileBackupCount: number
  jsonLogBackupDays: number
  maxBufferBytes: number
  now: () => number
  redactor: Redactor
  maxRecordBytes: number
}

const DROP_SITE = new LogSite('reportDrops')
function dropRecord (sink: string, dropped: number, time: number): LogRecord {
  return {
    time,
    level: WARNING,
    logger: PLUGIN_LOGGER,
    message: `Log lines dropped: ${dropped} (${sink})`,
    origin: DROP_SITE.origin(),
    requestId: null,
    fields: { dropped_lines: dropped, sink }
  }
}

const OFF: SinkStats = Object.freeze({ enabled: false, lines: 0, bytes: 0, dropped: 0, pending: 0, pendingBytes: 0, errors: 0 })

/**
 * The three sinks of one plugin instance. Every record is formatted once per sink it goes to and
 * queued; nothing here waits on I/O.
 */
export class LogOutput {
  readonly minLevel: number
  readonly logDir: string
  /** The clock of this instance (epoch ms). */
  readonly now: () => number
  /** The redaction rules of this instance. */
  readonly redactor: Redactor
  /** Longest record before its largest fields are shortened. */
  readonly maxRecordBytes: number
  private readonly consoleSink: BufferedSink | null
  private readonly fileSink: BufferedSink | null
  private readonly jsonSink: BufferedSink | null
  private readonly colour: boolean

  private constructor (options: LogOutputOptions, logDir: string, colour: boolean, consoleSink: BufferedSink | null, fileSink: BufferedSink | null, jsonSink: BufferedSink | null) {
    this.minLevel = options.minLevel
    this.logDir = logDir
    this.now = options.now
    this.redactor = options.redactor
    this.maxRecordBytes = options.maxRecordBytes
    this.consoleSink = consoleSink
    this.fileSink = fileSink
    this.jsonSink = jsonSink
    this.colour = colour
  }

  /** Prepares the directory, opens the files and waits until they are open. */
  static async open (options: LogOutputOptions): Promise<LogOutput> {
    const files = [options.file ? TEXT_FILE : '', options.json ? JSON_FILE : ''].filter(Boolean)
    const logDir = files.length > 0 ? prepareLogDir(options.logDir, files) : options.logDir
    const limits = (sink: string, format: (record: LogRecord) => string, maxWriteBytes?: number): BufferedSinkOptions => ({
      maxBufferBytes: options.maxBufferBytes,
      maxWriteBytes,
      dropNotice: (dropped) => format(dropRecord(sink, dropped, options.now()))
    })
    // rfs checks the size after each write, so a rotated api.log overshoots by up to one write:
    // keep writes to a quarter of the rotation size (within 64 KiB .. 1 MiB).
    const textWriteBytes = Math.min(Math.max(Math.floor(options.logFileMaxBytes / 4), 64 * 1024), 1024 * 1024)
    const colour = options.console && useColour(process.stdout)
    const openText = (): RotatingFileDestination => openTextFile({ dir: logDir, maxBytes: options.logFileMaxBytes, backupCount: options.logFileBackupCount })
    const openJson = (): RotatingFileDestination => openJsonFile({ dir: logDir, backupDays: options.jsonLogBackupDays, now: options.now })
    if (options.json) await pruneJsonFiles(logDir, options.jsonLogBackupDays, options.now())
    const text = options.file ? openText() : null
    const json = options.json ? openJson() : null
    try {
      await Promise.all([text?.ready(), json?.ready()])
    } catch (err) {
      await Promise.all([text?.end(), json?.end()])
      throw new ApiLoggingError(ERR_LOG_DIR, `Cannot write the log directory "${logDir}" (LOG_DIR): ${(err as Error).message}`, { cause: err })
    }
    return new LogOutput(options, logDir, colour,
      options.console ? new BufferedSink('console', () => new FdDestination(1, 'stdout'), limits('console', (record) => formatConsoleLine(record, colour))) : null,
      text !== null ? new BufferedSink('file', openText, limits('file', formatTextLine, textWriteBytes), text) : null,
      json !== null ? new BufferedSink('json', openJson, limits('json', formatJsonLine), json) : null)
  }

  emit (record: LogRecord): void {
    if (record.level < this.minLevel) return
    if (this.consoleSink !== null) this.consoleSink.write(formatConsoleLine(record, this.colour))
    if (this.fileSink !== null) this.fileSink.write(formatTextLine(record))
    if (this.jsonSink !== null) this.jsonSink.write(formatJsonLine(record))
  }

  /** Resolves once every line accepted so far is written. */
  async flush (): Promise<void> {
    await Promise.all(this.sinks().map((sink) => sink.flush()))
  }

  /** Writes everything accepted, then closes the files. */
  async close (): Promise<void> {
    await Promise.all(this.sinks().map((sink) => sink.close()))
  }

  /** Writes everything held, synchronously: the last thing done before the process exits. */
  flushSync (): void {
    for (const sink of this.sinks()) sink.flushSync()
  }

  stats (): ApiLoggingStats {
    return {
      console: this.consoleSink?.stats() ?? { ...OFF },
      file: this.fileSink?.stats() ?? { ...OFF },
      json: this.jsonSink?.stats() ?? { ...OFF }
    }
  }

  private sinks (): BufferedSink[] {
    return [this.consoleSink, this.fileSink, this.jsonSink].filter((sink): sink is BufferedSink => sink !== null)
  }
}
