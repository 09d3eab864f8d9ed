import type { ApiLoggingConfig } from './settings'
import { LEVEL_VALUES, WARNING, type LevelName } from './levels'
import { LogSite } from './origin'
import { PLUGIN_LOGGER, type LogRecord } from './record'
import { Redactor } from './redact'
import { instanceLevelChanged, type OpenInstance } from './registry'
import { resolveWorkerId } from './sinks/files'
import { LogOutput } from './sinks/output'
import type { TransportTarget } from './sinks/transport'

export interface InstanceOptions {
  /** Use `config.redactKeys` instead of the built-in sensitive names. */
  redactKeysReplaceDefaults: boolean
  /** The clock, in epoch milliseconds. */
  now: () => number
  /** `primary`: the instance of `startPrimaryWriter()`, which writes the lines cluster workers send it. */
  role?: 'plugin' | 'primary'
}

/**
 * One registration of the plugin: its resolved configuration, redaction rules, clock and limits,
 * and the output its lines are written to. Everything that logs for this registration (the
 * request hooks, `request.log`, `getLogger` inside its requests, the exit hooks) reads from here.
 */
const LEVEL_SITE = new LogSite('setLevel')

export class ApiLoggingInstance implements OpenInstance {
  readonly config: ApiLoggingConfig
  readonly redactor: Redactor
  readonly now: () => number
  readonly maxRecordBytes: number
  readonly output: LogOutput
  /** Requests of a sample rate below 1 that left no line (`stats().sampledOut`). */
  sampledOut = 0
  readonly #replaceDefaults: boolean
  #level: LevelName
  #minLevel: number
  /** The `level`s of this registration's routes that go below its own. */
  readonly #routeLevels: number[] = []

  private constructor (config: ApiLoggingConfig, redactor: Redactor, now: () => number, output: LogOutput, replaceDefaults: boolean) {
    this.config = config
    this.redactor = redactor
    this.now = now
    this.maxRecordBytes = config.maxRecordBytes
    this.output = output
    this.#replaceDefaults = replaceDefaults
    this.#level = config.level
    this.#minLevel = output.isEmpty ? Infinity : LEVEL_VALUES[config.level]
  }

  /** Lowest level written (pino's numbers; Infinity for SILENT, or when every sink is off). */
  get minLevel (): number {
    return this.#minLevel
  }

  /** The level in force: LOG_LEVEL, or what `setLevel` or the level signal made it. */
  get level (): LevelName {
    return this.#level
  }

  get lowestLevel (): number {
    let lowest = this.#minLevel
    for (const level of this.#routeLevels) if (level < lowest) lowest = level
    return lowest
  }

  /** A route of this registration writes down to `level`, whatever the registration's own level. */
  addRouteLevel (level: number): void {
    if (this.output.isEmpty || this.#routeLevels.includes(level)) return
    this.#routeLevels.push(level)
    instanceLevelChanged()
  }

  /**
   * Changes the level of every line of this registration (routes with their own `level` keep
   * it), and says so in a WARNING line written whatever the new level: a change of what the
   * logs contain must itself be on record.
   */
  setLevel (level: LevelName, changedBy: string): void {
    const old = this.#level
    this.#level = level
    this.#minLevel = this.output.isEmpty ? Infinity : LEVEL_VALUES[level]
    instanceLevelChanged()
    if (old === level) return
    this.output.write({
      time: this.now(),
      level: WARNING,
      logger: PLUGIN_LOGGER,
      message: `Log level changed from ${old} to ${level} by ${changedBy}`,
      origin: LEVEL_SITE.origin(),
      requestId: null,
      trace: null,
      fields: { old_level: old, new_level: level, changed_by: changedBy }
    })
  }

  toggleDebugLevel (): void {
    this.setLevel(this.#level === 'DEBUG' ? this.config.level : 'DEBUG', 'SIGUSR2')
  }

  /** The redaction rules of this registration with `keys` added (a route's `redactKeys`). */
  redactorWith (keys: readonly string[]): Redactor {
    const config = this.config
    return new Redactor({ keys: [...config.redactKeys, ...keys], replaceDefaults: this.#replaceDefaults, values: config.redactValues })
  }

  /** Builds the redaction rules and opens the sinks (the log directory is checked here). */
  static async open (config: ApiLoggingConfig, options: InstanceOptions): Promise<ApiLoggingInstance> {
    const redactor = new Redactor({ keys: config.redactKeys, replaceDefaults: options.redactKeysReplaceDefaults, values: config.redactValues })
    const primary = options.role === 'primary'
    const output = await LogOutput.open({
      logDir: config.logDir,
      console: config.enableConsoleLogging,
      file: config.enableFileLogging,
      json: config.enableJsonLogging,
      logFileMaxBytes: config.logFileMaxBytes,
      logFileBackupCount: config.logFileBackupCount,
      jsonLogBackupDays: config.jsonLogBackupDays,
      maxBufferBytes: config.maxBufferBytes,
      now: options.now,
      minLevel: LEVEL_VALUES[config.level],
      // The primary writes the files every worker sends it: under the plain names.
      workerId: primary ? null : resolveWorkerId(config.workerId),
      toPrimary: !primary && config.clusterWriter === 'primary',
      // The primary writes the workers' file lines; each worker feeds its own transports.
      transports: primary ? [] : config.transports as readonly TransportTarget[],
      transportCloseTimeoutMs: config.transportCloseTimeoutMs
    })
    return new ApiLoggingInstance(config, redactor, options.now, output, options.redactKeysReplaceDefaults)
  }

  /** Writes a record at or above this instance's level to every sink. */
  emit (record: LogRecord): void {
    if (record.level >= this.#minLevel) this.output.write(record)
  }

  /** Writes a record whatever this instance's level (a route with its own `level` checked it). */
  write (record: LogRecord): void {
    this.output.write(record)
  }

  flushSync (): void {
    this.output.flushSync()
  }

  /** Reopens every file of this instance (LOG_REOPEN_SIGNAL, `fastify.apiLogging.reopen()`). */
  reopen (): Promise<void> {
    return this.output.reopen()
  }
}
