import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseEnv } from 'node:util'
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import envSchema from 'env-schema'
import { ACCEPTED_LEVELS, LEVEL_NAMES, normalizeLevel } from './levels'
import { ApiLoggingError, ERR_INVALID_CONFIG } from './errors'

/**
 * Every setting of the plugin. This schema is the only home of the defaults: `loadConfig`
 * applies them, the README table is generated from them.
 */
export const ApiLoggingConfigSchema = Type.Object({
  level: Type.Union(LEVEL_NAMES.map((name) => Type.Literal(name)), {
    default: 'INFO',
    description: 'Lowest level written to every sink.'
  }),
  logDir: Type.String({ minLength: 1, default: 'logs', description: 'Directory of api.log and api_structured.jsonl; created when missing.' }),
  slowRequestThresholdMs: Type.Integer({ minimum: 0, default: 1000, description: 'Requests slower than this get a WARNING line and slow_request: true; 0 turns the check off.' }),
  enableConsoleLogging: Type.Boolean({ default: true, description: 'Human-readable lines on stdout.' }),
  enableFileLogging: Type.Boolean({ default: true, description: 'Human-readable lines in api.log, rotated by size.' }),
  enableJsonLogging: Type.Boolean({ default: true, description: 'JSON lines in api_structured.jsonl, rotated daily (UTC).' }),
  logRequestBody: Type.Boolean({ default: true, description: 'Add the (redacted) request body to the completion line.' }),
  logResponseBody: Type.Boolean({ default: false, description: 'Add the (redacted) response body to the completion line.' }),
  logFileMaxBytes: Type.Integer({ minimum: 1024, default: 10485760, description: 'Size at which api.log rotates.' }),
  logFileBackupCount: Type.Integer({ minimum: 1, maximum: 999, default: 10, description: 'Rotated api.log.N files kept.' }),
  jsonLogBackupDays: Type.Integer({ minimum: 1, default: 30, description: 'Days of rotated JSON files kept.' }),
  excludePaths: Type.Array(Type.String({ pattern: '^/' }), {
    default: ['/health', '/favicon.ico'],
    description: 'Paths never logged (exact, or a prefix ending in *); they still get their request id header.'
  }),
  requestIdHeader: Type.String({
    pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$',
    default: 'x-request-id',
    description: 'Header read for an incoming request id and set on every response.'
  }),
  logRequestStart: Type.Boolean({ default: true, description: 'Write an "API Request" line on arrival; false keeps only the completion line.' }),
  maxBufferBytes: Type.Integer({ minimum: 65536, default: 16777216, description: 'Bytes each sink may queue while its destination is slow; lines past it are dropped and counted.' }),
  redactKeys: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'Sensitive key names added to the built-in ones (any case and separators).' }),
  redactValues: Type.Boolean({ default: true, description: 'Search strings for secrets in known shapes (Bearer/Basic credentials, JWTs, card numbers, URL passwords, key=value pairs).' }),
  bodyMaxBytes: Type.Integer({ minimum: 256, default: 8192, description: 'Logged request and response bodies are cut to this size.' }),
  maxRecordBytes: Type.Integer({ minimum: 2048, default: 16384, description: 'A record longer than this has its largest fields shortened, so a shipper\'s line limit never drops it.' }),
  logHeaders: Type.Boolean({ default: false, description: 'Add the (redacted) request and response headers to the completion line.' })
}, { additionalProperties: false })

/** The resolved configuration: every setting present, validated, defaults applied. */
export type ApiLoggingConfig = Static<typeof ApiLoggingConfigSchema>
/** The name of one setting, as in `ENV_NAMES` and the register options. */
export type ApiLoggingConfigKey = keyof ApiLoggingConfig

/** The environment variable behind each setting. */
export const ENV_NAMES: Readonly<Record<ApiLoggingConfigKey, string>> = {
  level: 'LOG_LEVEL',
  logDir: 'LOG_DIR',
  slowRequestThresholdMs: 'SLOW_REQUEST_THRESHOLD_MS',
  enableConsoleLogging: 'ENABLE_CONSOLE_LOGGING',
  enableFileLogging: 'ENABLE_FILE_LOGGING',
  enableJsonLogging: 'ENABLE_JSON_LOGGING',
  logRequestBody: 'LOG_REQUEST_BODY',
  logResponseBody: 'LOG_RESPONSE_BODY',
  logFileMaxBytes: 'LOG_FILE_MAX_BYTES',
  logFileBackupCount: 'LOG_FILE_BACKUP_COUNT',
  jsonLogBackupDays: 'JSON_LOG_BACKUP_DAYS',
  excludePaths: 'LOG_EXCLUDE_PATHS',
  requestIdHeader: 'REQUEST_ID_HEADER',
  logRequestStart: 'LOG_REQUEST_START',
  maxBufferBytes: 'LOG_MAX_BUFFER_BYTES',
  redactKeys: 'LOG_REDACT_KEYS',
  redactValues: 'LOG_REDACT_VALUES',
  bodyMaxBytes: 'LOG_BODY_MAX_BYTES',
  maxRecordBytes: 'LOG_MAX_RECORD_BYTES',
  logHeaders: 'LOG_HEADERS'
}

type LevelInput = ApiLoggingConfig['level'] | Lowercase<ApiLoggingConfig['level']> | 'warn' | 'fatal' | 'WARN' | 'FATAL'

/**
 * Register options: any setting, in camelCase; each one overrides its environment variable
 * (named under each one). The defaults live in `ApiLoggingConfigSchema`; a test checks that
 * the `@defaultValue` tags below agree with it.
 */
export interface ApiLoggingSettings {
  /**
   * Lowest level written to every sink: DEBUG, INFO, WARNING, ERROR, CRITICAL, or pino's trace/debug/info/warn/error/fatal/silent, in any case.
   * Environment variable: `LOG_LEVEL`.
   * @defaultValue "INFO"
   */
  level?: LevelInput
  /**
   * Directory of `api.log` and `api_structured.jsonl`; created when missing.
   * Environment variable: `LOG_DIR`.
   * @defaultValue "logs"
   */
  logDir?: string
  /**
   * Requests slower than this (ms) get a WARNING line and `slow_request: true`; 0 turns the check off.
   * Environment variable: `SLOW_REQUEST_THRESHOLD_MS`.
   * @defaultValue 1000
   */
  slowRequestThresholdMs?: number
  /**
   * Human-readable lines on stdout.
   * Environment variable: `ENABLE_CONSOLE_LOGGING`.
   * @defaultValue true
   */
  enableConsoleLogging?: boolean
  /**
   * Human-readable lines in `api.log`, rotated by size.
   * Environment variable: `ENABLE_FILE_LOGGING`.
   * @defaultValue true
   */
  enableFileLogging?: boolean
  /**
   * JSON lines in `api_structured.jsonl`, rotated daily (UTC).
   * Environment variable: `ENABLE_JSON_LOGGING`.
   * @defaultValue true
   */
  enableJsonLogging?: boolean
  /**
   * Add the (redacted) request body to the completion line.
   * Environment variable: `LOG_REQUEST_BODY`.
   * @defaultValue true
   */
  logRequestBody?: boolean
  /**
   * Add the (redacted) response body to the completion line.
   * Environment variable: `LOG_RESPONSE_BODY`.
   * @defaultValue false
   */
  logResponseBody?: boolean
  /**
   * Size at which `api.log` rotates (at least 1024).
   * Environment variable: `LOG_FILE_MAX_BYTES`.
   * @defaultValue 10485760
   */
  logFileMaxBytes?: number
  /**
   * Rotated `api.log.N` files kept (1 to 999).
   * Environment variable: `LOG_FILE_BACKUP_COUNT`.
   * @defaultValue 10
   */
  logFileBackupCount?: number
  /**
   * Days of rotated JSON files kept.
   * Environment variable: `JSON_LOG_BACKUP_DAYS`.
   * @defaultValue 30
   */
  jsonLogBackupDays?: number
  /**
   * Paths never logged (exact, or a prefix ending in `*`); they still get their request id header.
   * Environment variable: `LOG_EXCLUDE_PATHS`.
   * @defaultValue ["/health","/favicon.ico"]
   */
  excludePaths?: readonly string[]
  /**
   * Header read for an incoming request id and set on every response.
   * Environment variable: `REQUEST_ID_HEADER`.
   * @defaultValue "x-request-id"
   */
  requestIdHeader?: string
  /**
   * Write an "API Request" line on arrival; false keeps only the completion line.
   * Environment variable: `LOG_REQUEST_START`.
   * @defaultValue true
   */
  logRequestStart?: boolean
  /**
   * Bytes each sink may queue while its destination is slow; lines past it are dropped and counted.
   * Environment variable: `LOG_MAX_BUFFER_BYTES`.
   * @defaultValue 16777216
   */
  maxBufferBytes?: number
  /**
   * Sensitive key names added to the built-in ones (any case and separators).
   * Environment variable: `LOG_REDACT_KEYS`.
   * @defaultValue []
   */
  redactKeys?: readonly string[]
  /**
   * Search strings for secrets in known shapes (Bearer/Basic credentials, JWTs, card numbers, URL passwords, key=value pairs).
   * Environment variable: `LOG_REDACT_VALUES`.
   * @defaultValue true
   */
  redactValues?: boolean
  /**
   * Logged request and response bodies are cut to this size.
   * Environment variable: `LOG_BODY_MAX_BYTES`.
   * @defaultValue 8192
   */
  bodyMaxBytes?: number
  /**
   * A record longer than this has its largest fields shortened, so a shipper's line limit never drops it.
   * Environment variable: `LOG_MAX_RECORD_BYTES`.
   * @defaultValue 16384
   */
  maxRecordBytes?: number
  /**
   * Add the (redacted) request and response headers to the completion line.
   * Environment variable: `LOG_HEADERS`.
   * @defaultValue false
   */
  logHeaders?: boolean
}

// The settings interface and the schema must name the same settings with compatible types.
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : never) : never
const settingsMatchSchema: SameKeys<ApiLoggingSettings, ApiLoggingConfig> = true
const configFitsSettings: Omit<ApiLoggingConfig, 'level'> extends Omit<Required<ApiLoggingSettings>, 'level'> ? true : never = true
void settingsMatchSchema
void configFitsSettings

/** What `loadConfig` takes: the settings, plus where to find the dotenv file. */
export interface LoadConfigOptions extends ApiLoggingSettings {
  /**
   * Path of the dotenv file read for settings missing from the environment; false skips it.
   * @defaultValue '.env' in the working directory
   */
  envFile?: string | false
}

const SETTING_KEYS = Object.keys(ENV_NAMES) as ApiLoggingConfigKey[]
const LOAD_ONLY_KEYS = new Set(['envFile'])

type Source = 'option' | 'environment' | '.env'

interface RawSetting {
  key: ApiLoggingConfigKey
  value: unknown
  source: Source
}

// env-schema accepts Ajv options as `customOptions` (it builds its instance from them) though
// its types only declare the callback form.
const AJV_OPTIONS = { customOptions: { coerceTypes: false } } as unknown as NonNullable<Parameters<typeof envSchema>[0]>['ajv']
const TRUE_WORDS = new Set(['true', '1', 'yes'])
const FALSE_WORDS = new Set(['false', '0', 'no'])

/**
 * Reads the settings: register options, then `process.env`, then the `.env` file, then the
 * schema's defaults. Throws one `ApiLoggingError` naming every invalid setting.
 */
export function loadConfig (options: LoadConfigOptions = {}): ApiLoggingConfig {
  return resolveConfig(options, [])
}

/** `loadConfig` for the plugin, whose own register-only options are known too (for the error message). */
export function resolveConfig (options: LoadConfigOptions, registerOnly: readonly string[]): ApiLoggingConfig {
  rejectUnknownOptions(options, registerOnly)
  const dotenv = readDotenv(options.envFile)
  const raw: RawSetting[] = []
  const data: Record<string, unknown> = {}

  for (const key of SETTING_KEYS) {
    const envName = ENV_NAMES[key]
    const optionValue = (options as Record<string, unknown>)[key]
    let setting: RawSetting | undefined
    if (optionValue !== undefined) setting = { key, value: optionValue, source: 'option' }
    else if (isSet(process.env[envName], key)) setting = { key, value: process.env[envName], source: 'environment' }
    else if (isSet(dotenv[envName], key)) setting = { key, value: dotenv[envName], source: '.env' }
    if (setting === undefined) continue
    raw.push(setting)
    data[envName] = normalize(key, setting.value)
  }

  let validated: Record<string, unknown>
  try {
    // Values are already brought to their types by normalize(); ajv's own coercion would also
    // accept `0x800`, `1e4` or `null`, so it is off and anything else is an error.
    validated = envSchema({ schema: envKeyedSchema(), data, env: false, dotenv: false, ajv: AJV_OPTIONS })
  } catch (err) {
    throw configError(err, raw)
  }

  const config: Record<string, unknown> = {}
  for (const key of SETTING_KEYS) config[key] = validated[ENV_NAMES[key]]
  config.excludePaths = Object.freeze(config.excludePaths as string[])
  config.redactKeys = Object.freeze(config.redactKeys as string[])
  return Object.freeze(config) as ApiLoggingConfig
}

function rejectUnknownOptions (options: object, registerOnly: readonly string[]): void {
  const unknown = Object.keys(options).filter((name) => !(name in ENV_NAMES) && !LOAD_ONLY_KEYS.has(name))
  if (unknown.length === 0) return
  throw new ApiLoggingError(ERR_INVALID_CONFIG,
    `Unknown fastify-api-logging option${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}. Known options: ${[...SETTING_KEYS, ...LOAD_ONLY_KEYS, ...registerOnly].join(', ')}`)
}

// An empty variable (`LOG_LEVEL=`) reads as unset, except for lists, where it means "none".
function isSet (value: string | undefined, key: ApiLoggingConfigKey): value is string {
  if (value === undefined) return false
  return value.trim() !== '' || (ApiLoggingConfigSchema.properties[key] as TSchema).type === 'array'
}

function readDotenv (envFile: string | false | undefined): Record<string, string> {
  if (envFile === false) return {}
  const path = resolve(envFile ?? '.env')
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && envFile === undefined) return {}
    throw new ApiLoggingError(ERR_INVALID_CONFIG, `Cannot read the env file ${path}: ${(err as Error).message}`, { cause: err })
  }
  return parseEnv(text) as Record<string, string>
}

/** Brings the spellings environment variables allow to the schema's types; anything else is left for validation to reject. */
function normalize (key: ApiLoggingConfigKey, value: unknown): unknown {
  const schema = ApiLoggingConfigSchema.properties[key] as TSchema
  if (key === 'level') return normalizeLevel(value) ?? value
  // The config keeps (and freezes) its own copy, never the caller's array.
  if (Array.isArray(value)) return [...value]
  if (typeof value !== 'string') return value
  const text = value.trim()
  if (schema.type === 'boolean') {
    const word = text.toLowerCase()
    if (TRUE_WORDS.has(word)) return true
    if (FALSE_WORDS.has(word)) return false
    return value
  }
  if (schema.type === 'array') return text.split(',').map((item) => item.trim()).filter((item) => item !== '')
  if (schema.type === 'integer') return /^[+-]?\d+$/.test(text) ? Number(text) : value
  return text
}

function envKeyedSchema (): object {
  const properties: Record<string, unknown> = {}
  for (const key of SETTING_KEYS) properties[ENV_NAMES[key]] = ApiLoggingConfigSchema.properties[key]
  return { type: 'object', properties }
}

function configError (err: unknown, raw: RawSetting[]): ApiLoggingError {
  const ajvErrors = (err as { errors?: Array<{ instancePath: string }> }).errors
  if (!Array.isArray(ajvErrors)) return new ApiLoggingError(ERR_INVALID_CONFIG, `Invalid fastify-api-logging configuration: ${(err as Error).message}`, { cause: err })
  const failing = new Set<string>()
  for (const e of ajvErrors) failing.add(e.instancePath.split('/')[1] ?? '')
  const lines: string[] = []
  for (const key of SETTING_KEYS) {
    const envName = ENV_NAMES[key]
    if (!failing.has(envName)) continue
    const setting = raw.find((s) => s.key === key)
    const name = setting?.source === 'option' ? `option ${key} (${envName})` : envName
    const from = setting === undefined ? '' : setting.source === 'option' ? '' : ` (from ${setting.source})`
    lines.push(`${name}=${showValue(setting?.value)}${from} must be ${allowedValues(key)}`)
  }
  return new ApiLoggingError(ERR_INVALID_CONFIG, `Invalid fastify-api-logging configuration:\n  ${lines.join('\n  ')}`, { cause: err })
}

function showValue (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? value.slice(0, 80) + '…' : value)
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

/** What a setting allows, worded from its schema so the message and the schema cannot drift. */
export function allowedValues (key: ApiLoggingConfigKey): string {
  const schema = ApiLoggingConfigSchema.properties[key] as TSchema
  if (key === 'level') return `one of ${ACCEPTED_LEVELS}`
  switch (schema.type) {
    case 'boolean': return 'a boolean: true, false, 1, 0, yes or no'
    case 'integer': {
      const bounds = [schema.minimum !== undefined ? `>= ${schema.minimum}` : '', schema.maximum !== undefined ? `<= ${schema.maximum}` : ''].filter(Boolean)
      return `an integer ${bounds.join(' and ')}`.trim()
    }
    case 'array': return key === 'excludePaths' ? 'a comma-separated list of paths, each starting with /' : 'a comma-separated list of names'
    default:
      if (key === 'requestIdHeader') return 'an HTTP header name (letters, digits and !#$%&\'*+.^_`|~-)'
      return 'a non-empty string'
  }
}
