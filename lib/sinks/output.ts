import { formatJsonLine } from '../format/json'
import { formatConsoleLine, formatTextLine } from '../format/text'
import { WARNING } from '../levels'
import { LogSite } from '../origin'
import { PLUGIN_LOGGER, type LogRecord } from '../record'
import { logDirError } from '../errors'
import { FdDestination, useColor } from './console'
import { JSON_FILE, TEXT_FILE, openJsonFile, openTextFile, prepareLogDir, pruneJsonFiles, type RotatingFileDestination } from './files'
import { BufferedSink, type BufferedSinkOptions, type SinkStats } from './writer'

export type { SinkStats } from './writer'

/** Counters per sink. */
export interface ApiLoggingStats {
  console: SinkStats
  file: SinkStats
  json: SinkStats
}

type SinkName = keyof ApiLoggingStats

export interface LogOutputOptions {
  logDir: string
  console: boolean
  file: boolean
  json: boolean
  logFileMaxBytes: number
  logFileBackupCount: number
  jsonLogBackupDays: number
  maxBufferBytes: number
  /** The clock (epoch ms) of daily rotation, retention and the dropped-lines notice. */
  now: () => number
}

/** One destination and the format of its lines; each sink has its own writer. */
interface Sink {
  readonly name: SinkName
  readonly format: (record: LogRecord) => string
  readonly writer: BufferedSink
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
 * The fan-out of one plugin instance: each record is formatted once for each sink that is on
 * (console, text file, JSON file) and queued in that sink's writer. Nothing here waits on I/O,
 * and nothing here decides what a record contains or whether it is logged.
 */
export class LogOutput {
  readonly logDir: string
  private readonly sinks: readonly Sink[]

  private constructor (logDir: string, sinks: Sink[]) {
    this.logDir = logDir
    this.sinks = sinks
  }

  /** Prepares the directory, opens the files and waits until they are open. */
  static async open (options: LogOutputOptions): Promise<LogOutput> {
    const files = [options.file ? TEXT_FILE : '', options.json ? JSON_FILE : ''].filter(Boolean)
    const logDir = files.length > 0 ? prepareLogDir(options.logDir, files) : options.logDir
    const limits = (sink: SinkName, format: (record: LogRecord) => string, maxWriteBytes?: number): BufferedSinkOptions => ({
      maxBufferBytes: options.maxBufferBytes,
      maxWriteBytes,
      dropNotice: (dropped) => format(dropRecord(sink, dropped, options.now()))
    })
    // rfs checks the size after each write, so a rotated api.log overshoots by up to one write:
    // keep writes to a quarter of the rotation size (within 64 KiB .. 1 MiB).
    const textWriteBytes = Math.min(Math.max(Math.floor(options.logFileMaxBytes / 4), 64 * 1024), 1024 * 1024)
    const openText = (): RotatingFileDestination => openTextFile({ dir: logDir, maxBytes: options.logFileMaxBytes, backupCount: options.logFileBackupCount })
    const openJson = (): RotatingFileDestination => openJsonFile({ dir: logDir, backupDays: options.jsonLogBackupDays, now: options.now })
    if (options.json) await pruneJsonFiles(logDir, options.jsonLogBackupDays, options.now())
    const text = options.file ? openText() : null
    const json = options.json ? openJson() : null
    try {
      await Promise.all([text?.ready(), json?.ready()])
    } catch (err) {
      await Promise.all([text?.end(), json?.end()])
      throw logDirError(`Cannot write the log directory "${logDir}" (LOG_DIR): ${(err as Error).message}`, { cause: err })
    }

    const sinks: Sink[] = []
    const add = (name: SinkName, format: (record: LogRecord) => string, writer: BufferedSink): void => { sinks.push({ name, format, writer }) }
    if (options.console) {
      const color = useColor(process.stdout)
      const format = (record: LogRecord): string => formatConsoleLine(record, color)
      add('console', format, new BufferedSink('console', () => new FdDestination(1, 'stdout'), limits('console', format)))
    }
    if (text !== null) add('file', formatTextLine, new BufferedSink('file', openText, limits('file', formatTextLine, textWriteBytes), text))
    if (json !== null) add('json', formatJsonLine, new BufferedSink('json', openJson, limits('json', formatJsonLine), json))
    return new LogOutput(logDir, sinks)
  }

  /** Whether any sink is on: with none, nothing is worth building a record for. */
  get isEmpty (): boolean {
    return this.sinks.length === 0
  }

  /** Formats the record for every sink and queues it there. */
  write (record: LogRecord): void {
    for (const sink of this.sinks) sink.writer.write(sink.format(record))
  }

  /** Resolves once every line accepted so far is written. */
  async flush (): Promise<void> {
    await Promise.all(this.sinks.map((sink) => sink.writer.flush()))
  }

  /** Writes everything accepted, then closes the files. */
  async close (): Promise<void> {
    await Promise.all(this.sinks.map((sink) => sink.writer.close()))
  }

  /** Writes everything held, synchronously: the last thing done before the process exits. */
  flushSync (): void {
    for (const sink of this.sinks) sink.writer.flushSync()
  }

  stats (): ApiLoggingStats {
    const of = (name: SinkName): SinkStats => this.sinks.find((sink) => sink.name === name)?.writer.stats() ?? { ...OFF }
    return { console: of('console'), file: of('file'), json: of('json') }
  }
}
