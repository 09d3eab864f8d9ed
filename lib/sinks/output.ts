import cluster from 'node:cluster'
import { resolve } from 'node:path'
import { fileReopenedWarning, logDirError, transportClosedLateWarning, transportFailedWarning, transportRecoveredWarning, writeFailedWarning, writeRecoveredWarning } from '../errors'
import { formatJsonLine, formatPinoLine } from '../format/json'
import { formatConsoleLine, formatTextLine } from '../format/text'
import { isoTimestamp } from '../format/time'
import { ERROR, INFO, LEVEL_VALUES, WARNING } from '../levels'
import { LogSite } from '../origin'
import { PLUGIN_LOGGER, type LogRecord } from '../record'
import { PRIMARY_WRITER_ENV, PrimaryDestination } from './cluster'
import { FdDestination, useColor } from './console'
import type { Destination } from './destination'
import { FileDestination, type ReopenCause } from './file'
import { fileNames, prepareLogDir, pruneJsonFiles, type RetentionResult } from './files'
import { FileLock } from './lock'
import { TransportDestination, type TransportTarget } from './transport'
import { BufferedSink, type BufferedSinkOptions, type FaultReport, type SinkNotices, type SinkStats } from './writer'

export type { SinkStats } from './writer'

/** A transport's counters: `lines` are lines its worker took, `restarts` the workers started after one failed. */
export interface TransportStats extends SinkStats {
  /** The `target` it was given. */
  target: string
  restarts: number
}

/** Counters per sink. */
export interface ApiLoggingStats {
  console: SinkStats
  file: SinkStats
  json: SinkStats
  /** One entry per `transports` target, in their order. */
  transports: TransportStats[]
}

type FileSinkName = 'console' | 'file' | 'json'
type SinkName = FileSinkName | 'transport'

export interface LogOutputOptions {
  logDir: string
  console: boolean
  file: boolean
  json: boolean
  logFileMaxBytes: number
  logFileBackupCount: number
  jsonLogBackupDays: number
  maxBufferBytes: number
  /** The clock (epoch ms) of daily rotation, retention and the plugin's own notices. */
  now: () => number
  /** Notices below this level (pino's numbers) are not written. */
  minLevel: number
  /** The worker id in the file names (`api.w2.log`), or null. */
  workerId: string | null
  /** In a cluster worker, send the file lines to the primary instead of writing them. */
  toPrimary: boolean
  /** pino transports, each in its own worker thread. */
  transports: readonly TransportTarget[]
  /** How long `close()` waits for each transport to deliver and exit. */
  transportCloseTimeoutMs: number
}

/** One destination and the format of its lines; each sink has its own writer. */
interface Sink {
  readonly name: SinkName
  readonly format: (record: LogRecord) => string
  readonly writer: BufferedSink
  readonly destination: Destination
  /** Records below this level are not written here (a transport's own `level`). */
  readonly minLevel: number
}

/** What differs between sinks: a daily file's day tags, a transport's level and close bound. */
type SinkOptions = Pick<BufferedSinkOptions, 'daily' | 'closeDeadlineMs' | 'endWaitMs'> & { minLevel?: number }

const NOTICE_SITE = new LogSite('LogOutput')

const OFF: SinkStats = Object.freeze({ enabled: false, lines: 0, bytes: 0, dropped: 0, pending: 0, pendingBytes: 0, errors: 0, failing: false, reopens: 0 })

function seconds (ms: number): string {
  return (ms / 1000).toFixed(1)
}

function reasonOf (err: Error): string {
  const code = (err as NodeJS.ErrnoException).code
  return code !== undefined && !err.message.includes(code) ? `${code}: ${err.message}` : err.message
}

/**
 * The fan-out of one plugin instance: each record is formatted once for each sink that is on
 * (console, text file, JSON file) and queued in that sink's writer. Nothing here waits on I/O,
 * and nothing here decides what a request line contains; the output's own notices (faults,
 * recoveries, reopened files, retention) are written here, to every sink that can take them.
 */
export class LogOutput {
  readonly logDir: string
  private readonly sinks: Sink[] = []
  private readonly options: LogOutputOptions

  private constructor (logDir: string, options: LogOutputOptions) {
    this.logDir = logDir
    this.options = options
  }

  /** Prepares the directory and opens the files (taking their locks); throws with the reason. */
  static async open (options: LogOutputOptions): Promise<LogOutput> {
    // Without a writer in the primary, a worker's lines would go nowhere: it writes its own files.
    const noWriter = options.toPrimary && cluster.isWorker && process.env[PRIMARY_WRITER_ENV] !== '1'
    const toPrimary = options.toPrimary && cluster.isWorker && !noWriter
    const writesFiles = (options.file || options.json) && !toPrimary
    const logDir = writesFiles ? prepareLogDir(options.logDir) : resolve(options.logDir)
    const output = new LogOutput(logDir, options)
    const names = fileNames(options.workerId)
    let retention: RetentionResult | null = null
    try {
      if (options.json && !toPrimary) retention = await pruneJsonFiles(logDir, options.jsonLogBackupDays, options.now())
      if (options.console) {
        const color = useColor(process.stdout)
        output.add('console', (record) => formatConsoleLine(record, color), new FdDestination(1, 'stdout'))
      }
      // A worker that sends its lines to the primary writes its own file only as it exits.
      const openText = (): Destination => output.openFile(names.text, { kind: 'size', maxBytes: options.logFileMaxBytes, backups: options.logFileBackupCount })
      const openJson = (): Destination => output.openFile(names.json, { kind: 'daily', now: options.now, rotated: () => output.runRetention() })
      if (options.file) output.add('file', formatTextLine, toPrimary ? new PrimaryDestination('file', openText) : openText())
      if (options.json) output.add('json', formatJsonLine, toPrimary ? new PrimaryDestination('json', openJson) : openJson(), { daily: true })
      for (const target of options.transports) output.addTransport(target)
    } catch (err) {
      await output.close()
      throw err
    }
    if (retention !== null) output.reportRetention(retention)
    if (noWriter && (options.file || options.json)) {
      output.notice(output.record(WARNING, `LOG_CLUSTER_WRITER=primary, but the cluster primary did not call startPrimaryWriter() before forking this worker: it writes its own files (${names.text}, ${names.json})`, { cluster_writer: 'worker' }))
    }
    return output
  }

  /** Whether any sink is on: with none, nothing is worth building a record for. */
  get isEmpty (): boolean {
    return this.sinks.length === 0
  }

  /** Formats the record for every sink of its level and queues it there. */
  write (record: LogRecord): void {
    for (const sink of this.sinks) if (record.level >= sink.minLevel) sink.writer.write(sink.format(record), record.time)
  }

  /** Queues whole lines a cluster worker sent (the primary's side of LOG_CLUSTER_WRITER=primary). */
  writeLines (sinkName: 'file' | 'json', text: string, lines: number, tag: number): void {
    this.sinks.find((sink) => sink.name === sinkName)?.writer.writeLines(text, lines, tag)
  }

  /** Resolves once every line accepted so far is written. */
  async flush (): Promise<void> {
    await Promise.all(this.sinks.map((sink) => sink.writer.flush()))
  }

  /** Closes every file and opens its path again (after logrotate renamed them). */
  async reopen (): Promise<void> {
    await Promise.all(this.sinks.map((sink) => sink.destination.reopen()))
  }

  /**
   * Writes everything accepted, then closes the files; bounded in time whatever the disk does.
   * The transports end first (each within LOG_TRANSPORT_CLOSE_TIMEOUT_MS), so what they could not
   * deliver is still reported in the files.
   */
  async close (): Promise<void> {
    const isTransport = (sink: Sink): boolean => sink.name === 'transport'
    // In each group, every sink writes what it holds before any of them ends: a sink whose backlog
    // clears now reports its recovery to the others, which must still be open to take the report.
    const transports = this.sinks.filter(isTransport)
    await Promise.all(transports.map((sink) => sink.writer.settle()))
    await Promise.all(transports.map((sink) => this.closeTransport(sink)))
    const local = this.sinks.filter((sink) => !isTransport(sink))
    await Promise.all(local.map((sink) => sink.writer.settle()))
    await Promise.all(local.map((sink) => sink.writer.close()))
  }

  /** Writes everything held, synchronously: the last thing done before the process exits. */
  flushSync (): void {
    for (const sink of this.sinks) sink.writer.flushSync()
    for (const sink of this.sinks) {
      if (sink.destination instanceof FileDestination) sink.destination.releaseSync()
      else if (sink.destination instanceof TransportDestination) sink.destination.endSync()
    }
  }

  stats (): ApiLoggingStats {
    const of = (name: FileSinkName): SinkStats => this.sinks.find((sink) => sink.name === name)?.writer.stats() ?? { ...OFF }
    const transports: TransportStats[] = []
    for (const sink of this.sinks) {
      if (!(sink.destination instanceof TransportDestination)) continue
      transports.push({ ...sink.writer.stats(), target: sink.destination.target, restarts: sink.destination.restarts })
    }
    return { console: of('console'), file: of('file'), json: of('json'), transports }
  }

  private add (name: SinkName, format: (record: LogRecord) => string, destination: Destination, options: SinkOptions = {}): void {
    const notices: SinkNotices = {
      dropped: (dropped) => format(this.record(WARNING, `Log lines dropped: ${dropped} (${name === 'transport' ? destination.description : name})`, { dropped_lines: dropped, sink: name })),
      failed: (err) => this.failed(name, destination, err),
      recovered: (report) => this.recovered(name, destination, report)
    }
    const { minLevel = -Infinity, ...writerOptions } = options
    const writer = new BufferedSink(name, destination, { maxBufferBytes: this.options.maxBufferBytes, now: this.options.now, notices, ...writerOptions })
    this.sinks.push({ name, format, writer, destination, minLevel })
  }

  private addTransport (target: TransportTarget): void {
    const bound = this.options.transportCloseTimeoutMs
    const destination: TransportDestination = new TransportDestination(target, {
      closeTimeoutMs: bound,
      closeTimedOut: () => this.transportClosedLate(destination, bound)
    })
    this.add('transport', target.format === 'json' ? formatJsonLine : formatPinoLine, destination, {
      minLevel: target.level === undefined ? -Infinity : LEVEL_VALUES[target.level],
      // A transport's bound is its own: lines still unsent at close wait for it, and so does its
      // worker's end (the destination stops a worker that overruns it).
      closeDeadlineMs: bound,
      endWaitMs: bound + 1000
    })
  }

  private openFile (name: string, rotation: ConstructorParameters<typeof FileDestination>[0]['rotation']): FileDestination {
    const lock = FileLock.acquire(this.logDir, name)
    try {
      return new FileDestination({ dir: this.logDir, name, rotation, lock, reopened: (path, cause, copied) => this.reopened(path, cause, copied) })
    } catch (err) {
      lock.release()
      throw logDirError(`Cannot write the log directory "${this.logDir}" (LOG_DIR): ${(err as Error).message}`, { cause: err })
    }
  }

  private record (level: number, message: string, fields: Record<string, unknown>): LogRecord {
    return { time: this.options.now(), level, logger: PLUGIN_LOGGER, message, origin: NOTICE_SITE.origin(), requestId: null, trace: null, fields }
  }

  /** Writes one of the output's own records to every sink of its level but `except` (one, or every transport). */
  private notice (record: LogRecord, except: Destination | 'transports' | null = null): void {
    if (record.level < this.options.minLevel) return
    for (const sink of this.sinks) {
      if (sink.destination === except || (except === 'transports' && sink.name === 'transport') || record.level < sink.minLevel) continue
      sink.writer.write(sink.format(record), record.time, true)
    }
  }

  private failed (name: SinkName, destination: Destination, err: Error): void {
    const reason = reasonOf(err)
    if (destination instanceof TransportDestination) {
      transportFailedWarning(destination.target, `${reason}; lines are held (up to LOG_MAX_BUFFER_BYTES) and the worker started again`)
    } else {
      writeFailedWarning(name, destination.description, `${reason}; lines are held (up to LOG_MAX_BUFFER_BYTES) and the write retried`)
    }
    this.notice(this.record(ERROR, `Log writes to ${destination.description} fail: ${reason}; retrying`, {
      sink: name, error_code: (err as NodeJS.ErrnoException).code ?? err.name
    }), destination)
  }

  private recovered (name: SinkName, destination: Destination, report: FaultReport): void {
    const span = `from ${isoTimestamp(report.since)} to ${isoTimestamp(report.until)} (${seconds(report.until - report.since)} s)`
    if (destination instanceof TransportDestination) {
      transportRecoveredWarning(destination.target, `${report.lost} lines lost ${span} (${report.code})`)
    } else {
      writeRecoveredWarning(name, destination.description, `${report.lost} lines lost ${span} (${report.code})`)
    }
    this.notice(this.record(WARNING, `Log writes to ${destination.description} work again: ${report.lost} lines lost ${span} (${report.code})`, {
      sink: name, dropped_lines: report.lost, error_code: report.code, fault_start: isoTimestamp(report.since), fault_end: isoTimestamp(report.until)
    }))
  }

  // A transport that is down at close (or too slow) loses what it had not taken: say how much.
  private async closeTransport (sink: Sink): Promise<void> {
    const before = sink.writer.stats().dropped
    await sink.writer.close()
    const lost = sink.writer.stats().dropped - before
    if (lost === 0 || !(sink.destination instanceof TransportDestination)) return
    const bound = this.options.transportCloseTimeoutMs
    const what = `had not taken ${lost} lines within ${bound} ms of close (LOG_TRANSPORT_CLOSE_TIMEOUT_MS): they are lost`
    transportClosedLateWarning(sink.destination.target, what)
    // To the files and the console: the other transports may be closed by now.
    this.notice(this.record(ERROR, `Log ${sink.destination.description} ${what}`, { sink: 'transport', transport: sink.destination.target, dropped_lines: lost }), 'transports')
  }

  private transportClosedLate (destination: TransportDestination, bound: number): void {
    const what = `did not finish within ${bound} ms (LOG_TRANSPORT_CLOSE_TIMEOUT_MS) and was stopped: what it had taken and not yet delivered is lost`
    transportClosedLateWarning(destination.target, what)
    this.notice(this.record(ERROR, `Log ${destination.description} ${what}`, { sink: 'transport', transport: destination.target }), 'transports')
  }

  private reopened (path: string, cause: ReopenCause, copied: number): void {
    const saved = copied > 0 ? ` (${copied} bytes written into the deleted file since the last check are copied into the new one)` : ''
    const what: Record<ReopenCause, [number, string]> = {
      deleted: [WARNING, `was deleted by someone else; reopened at its path${saved}`],
      folder: [WARNING, `was deleted with its folder; the folder and the file are created again${saved}`],
      renamed: [INFO, 'is no longer at its path (renamed or moved: rotated outside the plugin?); reopened at its path'],
      truncated: [WARNING, 'was truncated by someone else (copytruncate): lines written between the copy and the truncation are lost']
    }
    const [level, message] = what[cause]
    if (level >= WARNING) fileReopenedWarning(path, message)
    this.notice(this.record(level, `${path} ${message}`, { file: path, reopen_cause: cause }))
  }

  private runRetention (): void {
    pruneJsonFiles(this.logDir, this.options.jsonLogBackupDays, this.options.now()).then((result) => this.reportRetention(result), () => {})
  }

  private reportRetention (result: RetentionResult): void {
    const days = this.options.jsonLogBackupDays
    if (result.skipped !== null) {
      this.notice(this.record(WARNING, `Retention deleted nothing: ${result.skipped}`, { retention_days: days }))
    } else if (result.deleted.length > 0) {
      this.notice(this.record(INFO, `Retention deleted ${result.deleted.length} rotated JSON files older than ${days} days: ${result.deleted.join(', ')}`, {
        retention_days: days, deleted_files: result.deleted.join(',')
      }))
    }
  }
}
