import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { LEVEL_NAMES } from './levels'

/** An HTTP header name (RFC 9110's token characters), as a JSON-schema pattern. */
export const HEADER_NAME = '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$'

/**
 * Every setting of the plugin, one entry each: its environment variable (`env`), its default and
 * what it does. This is the only place a setting is defined: `ENV_NAMES`, the loader, the typed
 * register options (`settings.generated.ts`) and the tables in README.md and
 * docs/configuration.md are derived from it (`npm run generate` rewrites the generated ones).
 */
export const ApiLoggingConfigSchema = Type.Object({
  level: Type.Union(LEVEL_NAMES.map((name) => Type.Literal(name)), {
    env: 'LOG_LEVEL',
    default: 'INFO',
    description: 'Lowest level written to every sink.'
  }),
  logDir: Type.String({
    env: 'LOG_DIR',
    minLength: 1,
    default: 'logs',
    description: 'Directory of api.log and api_structured.jsonl; created when missing.'
  }),
  slowRequestThresholdMs: Type.Integer({
    env: 'SLOW_REQUEST_THRESHOLD_MS',
    minimum: 0,
    default: 1000,
    description: 'Requests slower than this get a WARNING line and slow_request: true; 0 turns the check off.'
  }),
  enableConsoleLogging: Type.Boolean({ env: 'ENABLE_CONSOLE_LOGGING', default: true, description: 'Human-readable lines on stdout.' }),
  enableFileLogging: Type.Boolean({ env: 'ENABLE_FILE_LOGGING', default: true, description: 'Human-readable lines in api.log, rotated by size.' }),
  enableJsonLogging: Type.Boolean({ env: 'ENABLE_JSON_LOGGING', default: true, description: 'JSON lines in api_structured.jsonl, rotated daily (UTC).' }),
  logRequestBody: Type.Boolean({ env: 'LOG_REQUEST_BODY', default: true, description: 'Add the (redacted) request body to the completion line.' }),
  logResponseBody: Type.Boolean({ env: 'LOG_RESPONSE_BODY', default: false, description: 'Add the (redacted) response body to the completion line.' }),
  logFileMaxBytes: Type.Integer({ env: 'LOG_FILE_MAX_BYTES', minimum: 1024, default: 10485760, description: 'Size at which api.log rotates.' }),
  logFileBackupCount: Type.Integer({ env: 'LOG_FILE_BACKUP_COUNT', minimum: 1, maximum: 999, default: 10, description: 'Rotated api.log.N files kept.' }),
  jsonLogBackupDays: Type.Integer({ env: 'JSON_LOG_BACKUP_DAYS', minimum: 1, default: 30, description: 'Days of rotated JSON files kept.' }),
  excludePaths: Type.Array(Type.String({ pattern: '^/' }), {
    env: 'LOG_EXCLUDE_PATHS',
    default: ['/health', '/favicon.ico'],
    description: 'Paths never logged (exact, or a prefix ending in *); they still get their request id header.'
  }),
  requestIdHeader: Type.String({
    env: 'REQUEST_ID_HEADER',
    pattern: HEADER_NAME,
    default: 'x-request-id',
    description: 'Header read for an incoming request id and set on every response.'
  }),
  logRequestStart: Type.Boolean({
    env: 'LOG_REQUEST_START',
    default: true,
    description: 'Write an "API Request" line on arrival; false keeps only the completion line.'
  }),
  maxBufferBytes: Type.Integer({
    env: 'LOG_MAX_BUFFER_BYTES',
    minimum: 65536,
    default: 16777216,
    description: 'Bytes each sink may queue while its destination is slow; lines past it are dropped and counted.'
  }),
  redactKeys: Type.Array(Type.String({ minLength: 1 }), {
    env: 'LOG_REDACT_KEYS',
    default: [],
    description: 'Sensitive key names added to the built-in ones (any case and separators).'
  }),
  redactValues: Type.Boolean({
    env: 'LOG_REDACT_VALUES',
    default: true,
    description: 'Search strings for secrets in known shapes (Bearer/Basic credentials, JWTs, card numbers, URL passwords, key=value pairs).'
  }),
  bodyMaxBytes: Type.Integer({ env: 'LOG_BODY_MAX_BYTES', minimum: 256, default: 8192, description: 'Logged request and response bodies are cut to this size.' }),
  maxRecordBytes: Type.Integer({
    env: 'LOG_MAX_RECORD_BYTES',
    minimum: 2048,
    default: 16384,
    description: 'A record longer than this has its largest fields shortened, so a shipper\'s line limit never drops it.'
  }),
  logHeaders: Type.Boolean({ env: 'LOG_HEADERS', default: false, description: 'Add the (redacted) request and response headers to the completion line.' }),
  logRequestHeaders: Type.Array(Type.String({ pattern: HEADER_NAME }), {
    env: 'LOG_REQUEST_HEADERS',
    default: [],
    description: 'Request headers added (redacted) to the completion line as request_headers, by name, any case; LOG_HEADERS=true adds all of them.'
  }),
  reopenSignal: Type.Union(['off', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'].map((name) => Type.Literal(name)), {
    env: 'LOG_REOPEN_SIGNAL',
    default: 'off',
    description: 'A signal that makes the plugin reopen its files (logrotate\'s postrotate); that signal then no longer ends the process.'
  }),
  sampleRate: Type.Number({
    env: 'LOG_SAMPLE_RATE',
    minimum: 0,
    maximum: 1,
    default: 1,
    description: 'Fraction of successful (2xx/3xx), fast requests logged, chosen from the request id; errors, slow requests and requests with a WARNING line are always logged.'
  }),
  levelSignal: Type.Boolean({
    env: 'LOG_LEVEL_SIGNAL',
    default: false,
    description: 'SIGUSR2 switches the level between LOG_LEVEL and DEBUG (that signal then no longer ends the process).'
  }),
  workerId: Type.String({
    env: 'LOG_WORKER_ID',
    pattern: '^(auto|none|[0-9]{1,9})$',
    default: 'auto',
    description: 'Worker id in the file names (api.w2.log): auto takes PM2\'s NODE_APP_INSTANCE or the cluster worker id in a cluster worker or under PM2; none never adds one.'
  }),
  clusterWriter: Type.Union([Type.Literal('worker'), Type.Literal('primary')], {
    env: 'LOG_CLUSTER_WRITER',
    default: 'worker',
    description: 'In a cluster worker: write its own files (worker), or send the file lines to the primary, which writes them (primary: the primary calls startPrimaryWriter()).'
  }),
  transports: Type.Array(Type.Object({
    target: Type.String({ minLength: 1 }),
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    level: Type.Optional(Type.String()),
    format: Type.Optional(Type.Union([Type.Literal('pino'), Type.Literal('json')]))
  }, { additionalProperties: false }), {
    env: 'LOG_TRANSPORTS',
    default: [],
    description: 'pino transports (pino-socket, pino-loki, pino-opentelemetry-transport ...), each in a worker thread, given the records of api_structured.jsonl at its own level, in pino\'s line form or the JSON file\'s.'
  }),
  transportCloseTimeoutMs: Type.Integer({
    env: 'LOG_TRANSPORT_CLOSE_TIMEOUT_MS',
    minimum: 100,
    default: 5000,
    description: 'How long app.close() waits for each transport to deliver what it holds; a transport still busy then is stopped and that is reported.'
  })
}, { additionalProperties: false })

/** The resolved configuration: every setting present, validated, defaults applied. */
export type ApiLoggingConfig = Static<typeof ApiLoggingConfigSchema>
/** The name of one setting, as in `ENV_NAMES` and the register options. */
export type ApiLoggingConfigKey = keyof ApiLoggingConfig

/** One setting's schema, with the keywords every entry above carries. */
export type SettingSchema = TSchema & { env: string, default: unknown, description: string }

/** The settings in schema order. */
export const SETTING_KEYS = Object.keys(ApiLoggingConfigSchema.properties) as ApiLoggingConfigKey[]

/** A setting's schema entry. */
export function settingSchema (key: ApiLoggingConfigKey): SettingSchema {
  return ApiLoggingConfigSchema.properties[key] as unknown as SettingSchema
}

/** The environment variable behind each setting (read from the schema's `env` keywords). */
export const ENV_NAMES: Readonly<Record<ApiLoggingConfigKey, string>> = Object.freeze(
  Object.fromEntries(SETTING_KEYS.map((key) => [key, settingSchema(key).env])) as Record<ApiLoggingConfigKey, string>)

/**
 * Options that are not settings (no environment variable), and who takes them: `loadConfig` and
 * the plugin, or the plugin only. Their types and docs are in `LoadConfigOptions` and
 * `ApiLoggingOptions`.
 */
export const NON_SETTING_OPTIONS = Object.freeze({
  envFile: 'load',
  redactKeysReplaceDefaults: 'register',
  extraFields: 'register',
  now: 'register'
} as const satisfies Record<string, 'load' | 'register'>)

/** Keys that Fastify itself reads from any plugin's register options: never ours to validate. */
export const FASTIFY_REGISTER_KEYS: ReadonlySet<string> = new Set(['prefix', 'logLevel', 'logSerializers'])
