import type { ApiLoggingConfig } from './settings'
import { LEVEL_VALUES } from './levels'
import type { LogRecord } from './record'
import { Redactor } from './redact'
import type { OpenInstance } from './registry'
import { resolveWorkerId } from './sinks/files'
import { LogOutput } from './sinks/output'

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
export class ApiLoggingInstance implements OpenInstance {
  readonly config: ApiLoggingConfig
  readonly redactor: Redactor
  readonly now: () => number
  /** Lowest level written (pino's numbers; Infinity for SILENT, or when every sink is off). */
  readonly minLevel: number
  readonly maxRecordBytes: number
  readonly output: LogOutput

  private constructor (config: ApiLoggingConfig, redactor: Redactor, now: () => number, output: LogOutput) {
    this.config = config
    this.redactor = redactor
    this.now = now
    this.minLevel = output.isEmpty ? Infinity : LEVEL_VALUES[config.level]
    this.maxRecordBytes = config.maxRecordBytes
    this.output = output
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
      toPrimary: !primary && config.clusterWriter === 'primary'
    })
    return new ApiLoggingInstance(config, redactor, options.now, output)
  }

  /** Writes a record at or above this instance's level to every sink. */
  emit (record: LogRecord): void {
    if (record.level >= this.minLevel) this.output.write(record)
  }

  flushSync (): void {
    this.output.flushSync()
  }

  /** Reopens every file of this instance (LOG_REOPEN_SIGNAL, `fastify.apiLogging.reopen()`). */
  reopen (): Promise<void> {
    return this.output.reopen()
  }
}
