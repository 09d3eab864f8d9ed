// Generated from ApiLoggingConfigSchema (lib/settings.ts) by `npm run generate`: edit the schema, not this file.
import type { LevelInput } from './levels'
import type { TransportOptions } from './transports'

/**
 * Register options: any setting, in camelCase; each one overrides its environment variable
 * (named under each one). Every entry comes from `ApiLoggingConfigSchema`.
 */
export interface ApiLoggingSettings {
  /**
   * Lowest level written to every sink.
   * Allowed: one of DEBUG, INFO, WARNING, ERROR, CRITICAL, trace, debug, info, warn, error, fatal, silent (any case).
   * Environment variable: `LOG_LEVEL`.
   * @defaultValue "INFO"
   */
  level?: LevelInput
  /**
   * Directory of api.log and api_structured.jsonl; created when missing.
   * Allowed: a non-empty string.
   * Environment variable: `LOG_DIR`.
   * @defaultValue "logs"
   */
  logDir?: string
  /**
   * Requests slower than this get a WARNING line and slow_request: true; 0 turns the check off.
   * Allowed: an integer >= 0.
   * Environment variable: `SLOW_REQUEST_THRESHOLD_MS`.
   * @defaultValue 1000
   */
  slowRequestThresholdMs?: number
  /**
   * Human-readable lines on stdout.
   * Allowed: a boolean: true, false, 1, 0, yes or no.
   * Environment variable: `ENABLE_CONSOLE_LOGGING`.
   * @defaultValue true
   */
  enableConsoleLogging?: boolean
  /**
   * Human-readable lines in api.log, rotated by size.
   * Allowed: a boolean: true, false, 1, 0, yes or no.
   * Environment variable: `ENABLE_FILE_LOGGING`.
   * @defaultValue true
   */
  enableFileLogging?: boolean
  /**
   * JSON lines in api_structured.jsonl, rotated daily (UTC).
   * Allowed: a boolean: true, false, 1, 0, yes or no.
   * Environment variable: `ENABLE_JSON_LOGGING`.
   * @defaultValue true
   */
  enableJsonLogging?: boolean
  /**
   * Add the (redacted) request body to the completion line.
   * Allowed: a boolean: true, false, 1, 0, yes or no.
   * Environment variable: `LOG_REQUEST_BODY`.
   * @defaultValue true
   */
  logRequestBody?: boolean
  /**
   * Add the (redacted) response body to the completion line.
   * Allowed: a boolean: true, false, 1, 0, yes or no.
   * Environment variable: `LOG_RESPONSE_BODY`.
   * @defaultValue false
   */
  logResponseBody?: boolean
  /**
   * Size at which api.log rotates.
   * Allowed: an integer >= 1024.
   * Environment variable: `LOG_FILE_MAX_BYTES`.
   * @defaultValue 10485760
   */
  logFileMaxBytes?: number
  /**
   * Rotated api.log.N files kept.
   * Allowed: an integer >= 1 and <= 999.
   * Environment variable: `LOG_FILE_BACKUP_COUNT`.
   * @defaultValue 10
   */
  logFileBackupCount?: number
  /**
   * Days of rotated JSON files kept.
   * Allowed: an integer >= 1.
   * Environment variable: `JSON_LOG_BACKUP_DAYS`.
   * @defaultValue 30
   */
  jsonLogBackupDays?: number
  /**
   * Paths never logged (exact, or a prefix ending in *); they still get their request id header.
   * Allowed: a comma-separated list of paths, each starting with /.
   * Environment variable: `LOG_EXCLUDE_PATHS`.
   * @defaultValue ["/health","/favicon.ico"]
   */
  excludePaths?: readonly string[]
  /**
   * Header read for an incoming request id and set on every response.
   * Allowed: an HTTP header name (letters, digits and !#$%&'*+.^_`|~-).
   * Environment variable: `REQUEST_ID_HEADER`.
   * @defaultValue "x-request-id"
   */
  requestIdHeader?: string
  /**
   * Write an "API Request" line on arrival; false keeps only the completion line.
   * Allowed: a boolean: true, false, 1, 0, yes or no.
   * Environment variable: `LOG_REQUEST_START`.
   * @defaultValue true
   */
  logRequestStart?: boolean
  /**
   * Bytes each sink may queue while its destination is slow; lines past it are dropped and counted.
   * Allowed: an integer >= 65536.
   * Environment variable: `LOG_MAX_BUFFER_BYTES`.
   * @defaultValue 16777216
   */
  maxBufferBytes?: number
  /**
   * Sensitive key names added to the built-in ones (any case and separators).
   * Allowed: a comma-separated list of names.
   * Environment variable: `LOG_REDACT_KEYS`.
   * @defaultValue []
   */
  redactKeys?: readonly string[]
  /**
   * Search strings for secrets in known shapes (Bearer/Basic credentials, JWTs, card numbers, URL passwords, key=value pairs).
   * Allowed: a boolean: true, false, 1, 0, yes or no.
   * Environment variable: `LOG_REDACT_VALUES`.
   * @defaultValue true
   */
  redactValues?: boolean
  /**
   * Logged request and response bodies are cut to this size.
   * Allowed: an integer >= 256.
   * Environment variable: `LOG_BODY_MAX_BYTES`.
   * @defaultValue 8192
   */
  bodyMaxBytes?: number
  /**
   * A record longer than this has its largest fields shortened, so a shipper's line limit never drops it.
   * Allowed: an integer >= 2048.
   * Environment variable: `LOG_MAX_RECORD_BYTES`.
   * @defaultValue 16384
   */
  maxRecordBytes?: number
  /**
   * Add the (redacted) request and response headers to the completion line.
   * Allowed: a boolean: true, false, 1, 0, yes or no.
   * Environment variable: `LOG_HEADERS`.
   * @defaultValue false
   */
  logHeaders?: boolean
  /**
   * Request headers added (redacted) to the completion line as request_headers, by name, any case; LOG_HEADERS=true adds all of them.
   * Allowed: a comma-separated list of HTTP header names.
   * Environment variable: `LOG_REQUEST_HEADERS`.
   * @defaultValue []
   */
  logRequestHeaders?: readonly string[]
  /**
   * A signal that makes the plugin reopen its files (logrotate's postrotate); that signal then no longer ends the process.
   * Allowed: one of off, SIGHUP, SIGUSR1, SIGUSR2.
   * Environment variable: `LOG_REOPEN_SIGNAL`.
   * @defaultValue "off"
   */
  reopenSignal?: 'off' | 'SIGHUP' | 'SIGUSR1' | 'SIGUSR2'
  /**
   * Fraction of successful (2xx/3xx), fast requests logged, chosen from the request id; errors, slow requests and requests with a WARNING line are always logged.
   * Allowed: a number from 0 to 1.
   * Environment variable: `LOG_SAMPLE_RATE`.
   * @defaultValue 1
   */
  sampleRate?: number
  /**
   * SIGUSR2 switches the level between LOG_LEVEL and DEBUG (that signal then no longer ends the process).
   * Allowed: a boolean: true, false, 1, 0, yes or no.
   * Environment variable: `LOG_LEVEL_SIGNAL`.
   * @defaultValue false
   */
  levelSignal?: boolean
  /**
   * Worker id in the file names (api.w2.log): auto takes PM2's NODE_APP_INSTANCE or the cluster worker id in a cluster worker or under PM2; none never adds one.
   * Allowed: auto, none or a number.
   * Environment variable: `LOG_WORKER_ID`.
   * @defaultValue "auto"
   */
  workerId?: string
  /**
   * In a cluster worker: write its own files (worker), or send the file lines to the primary, which writes them (primary: the primary calls startPrimaryWriter()).
   * Allowed: one of worker, primary.
   * Environment variable: `LOG_CLUSTER_WRITER`.
   * @defaultValue "worker"
   */
  clusterWriter?: 'worker' | 'primary'
  /**
   * pino transports (pino-socket, pino-loki, pino-opentelemetry-transport ...), each in a worker thread, given the records of api_structured.jsonl at its own level, in pino's line form or the JSON file's.
   * Allowed: a JSON array of { "target": "<package or path>", "options": { ... }, "level": "<level>", "format": "pino" | "json" } objects (target required; level one of DEBUG, INFO, WARNING, ERROR, CRITICAL, trace, debug, info, warn, error, fatal, silent (any case)).
   * Environment variable: `LOG_TRANSPORTS`.
   * @defaultValue []
   */
  transports?: readonly TransportOptions[]
  /**
   * How long app.close() waits for each transport to deliver what it holds; a transport still busy then is stopped and that is reported.
   * Allowed: an integer >= 100.
   * Environment variable: `LOG_TRANSPORT_CLOSE_TIMEOUT_MS`.
   * @defaultValue 5000
   */
  transportCloseTimeoutMs?: number
}
