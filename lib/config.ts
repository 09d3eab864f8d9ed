import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseEnv } from 'node:util'
import type { TSchema } from '@sinclair/typebox'
import envSchema from 'env-schema'
import { ACCEPTED_LEVELS, normalizeLevel } from './levels'
import { configError, unknownSettingWarning } from './errors'
import { NEVER_LOGGED_HEADER, NEVER_LOGGED_REASON } from './bodies'
import { headerNames } from './request-headers'
import { resolveTransports, TRANSPORTS_ALLOWED, unknownTransportKeys, type TransportOptions } from './transports'
import { ENV_NAMES, NON_SETTING_OPTIONS, SETTING_KEYS, settingSchema, type ApiLoggingConfig, type ApiLoggingConfigKey } from './settings'
import type { ApiLoggingSettings } from './settings.generated'

/** What `loadConfig` takes: the settings, plus where to find the dotenv file. */
export interface LoadConfigOptions extends ApiLoggingSettings {
  /**
   * Path of the dotenv file read for settings missing from the environment; false skips it.
   * @defaultValue '.env' in the working directory
   */
  envFile?: string | false
}

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
  return resolveConfig(options, 'load')
}

/**
 * `loadConfig` for one caller: `'register'` (the plugin) also knows the register-only options,
 * for the unknown-option message.
 *
 * env-schema validates and applies the defaults, but the values are gathered here rather than by
 * its own `env`/`dotenv` reading (whose precedence is the same): an error must say where each bad
 * value came from, `yes`/`no` and level aliases must be accepted, an empty variable must read as
 * unset, and Ajv's coercion (which also turns `0x800`, `1e4` and `null` into numbers) stays off.
 */
export function resolveConfig (options: LoadConfigOptions, caller: 'load' | 'register'): ApiLoggingConfig {
  rejectUnknownOptions(options, caller)
  const dotenv = readDotenv(options.envFile)
  warnNearMisses(dotenv)
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

  rejectTransports(unknownTransportKeys(data[ENV_NAMES.transports]), raw)
  let validated: Record<string, unknown>
  try {
    validated = envSchema({ schema: envKeyedSchema(), data, env: false, dotenv: false, ajv: AJV_OPTIONS })
  } catch (err) {
    throw invalidConfig(err, raw)
  }

  const config: Record<string, unknown> = {}
  for (const key of SETTING_KEYS) config[key] = validated[ENV_NAMES[key]]
  config.excludePaths = Object.freeze(config.excludePaths as string[])
  config.redactKeys = Object.freeze(config.redactKeys as string[])
  config.logRequestHeaders = headerNames(config.logRequestHeaders as string[])
  if ((config.logRequestHeaders as readonly string[]).includes(NEVER_LOGGED_HEADER)) {
    throw configError(`Invalid fastify-api-logging configuration:\n  ${ENV_NAMES.logRequestHeaders} lists ${NEVER_LOGGED_REASON}`)
  }
  const transports = resolveTransports(config.transports as TransportOptions[])
  if (typeof transports === 'string') rejectTransports(transports, raw)
  config.transports = transports
  rejectSignalClash(config as ApiLoggingConfig, raw)
  return Object.freeze(config) as ApiLoggingConfig
}

function rejectTransports (problem: string | null, raw: RawSetting[]): void {
  if (problem === null) return
  const setting = raw.find((s) => s.key === 'transports')
  const from = setting === undefined || setting.source === 'option' ? '' : ` (from ${setting.source})`
  throw configError(`Invalid fastify-api-logging configuration:\n  ${ENV_NAMES.transports}${from}: ${problem}; it must be ${allowedValues('transports')}`)
}

// One signal cannot both reopen the files and switch the level: the second meaning would be lost.
function rejectSignalClash (config: ApiLoggingConfig, raw: RawSetting[]): void {
  if (!config.levelSignal || config.reopenSignal !== 'SIGUSR2') return
  const from = (key: ApiLoggingConfigKey): string => {
    const source = raw.find((s) => s.key === key)?.source
    return source === undefined || source === 'option' ? '' : ` (from ${source})`
  }
  throw configError(`Invalid fastify-api-logging configuration:\n  ${ENV_NAMES.levelSignal}=true${from('levelSignal')} uses SIGUSR2, ` +
    `and ${ENV_NAMES.reopenSignal}=SIGUSR2${from('reopenSignal')} asks for the same signal: set ${ENV_NAMES.reopenSignal} to SIGHUP or SIGUSR1, or ${ENV_NAMES.levelSignal}=false`)
}

function rejectUnknownOptions (options: object, caller: 'load' | 'register'): void {
  const known = new Set<string>(SETTING_KEYS)
  for (const [name, takenBy] of Object.entries(NON_SETTING_OPTIONS)) if (caller === 'register' || takenBy === 'load') known.add(name)
  const unknown = Object.keys(options).filter((name) => !known.has(name))
  if (unknown.length === 0) return
  throw configError(`Unknown fastify-api-logging option${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}. Known options: ${[...known].join(', ')}`)
}

const VARIABLES: ReadonlySet<string> = new Set(Object.values(ENV_NAMES))
const warnedVariables = new Set<string>()

/** True when `a` becomes `b` by one insertion, deletion, substitution or swap of neighbours. */
export function oneEditApart (a: string, b: string): boolean {
  if (a === b || Math.abs(a.length - b.length) > 1) return false
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  if (a.length === b.length) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2)
  }
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1)
}

// A misspelt variable would otherwise be ignored in silence (`LOG_LEVLE=DEBUG`): say so, once.
function warnNearMisses (dotenv: Record<string, string>): void {
  for (const [names, where] of [[Object.keys(process.env), ''], [Object.keys(dotenv), ' (in .env)']] as const) {
    for (const name of names) {
      if (VARIABLES.has(name) || warnedVariables.has(name)) continue
      for (const variable of VARIABLES) {
        if (!oneEditApart(name, variable)) continue
        warnedVariables.add(name)
        unknownSettingWarning(name + where, variable)
        break
      }
    }
  }
}

// An empty variable (`LOG_LEVEL=`) reads as unset, except for lists, where it means "none".
function isSet (value: string | undefined, key: ApiLoggingConfigKey): value is string {
  if (value === undefined) return false
  return value.trim() !== '' || settingSchema(key).type === 'array'
}

function readDotenv (envFile: string | false | undefined): Record<string, string> {
  if (envFile === false) return {}
  const path = resolve(envFile ?? '.env')
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && envFile === undefined) return {}
    throw configError(`Cannot read the env file ${path}: ${(err as Error).message}`, { cause: err })
  }
  return parseEnv(text) as Record<string, string>
}

/** Brings the spellings environment variables allow to the schema's types; anything else is left for validation to reject. */
function normalize (key: ApiLoggingConfigKey, value: unknown): unknown {
  const schema = settingSchema(key)
  if (key === 'level') return normalizeLevel(value) ?? value
  // A JSON array in the environment; what does not parse is left for validation to name.
  if (key === 'transports' && typeof value === 'string') return value.trim() === '' ? [] : parseJson(value)
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
  if (schema.type === 'number') return /^[+-]?(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : value
  return text
}

function parseJson (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

// The schema keyed by variable name, without our own `env` keyword (Ajv's strict mode refuses
// keywords it does not know). A fresh object each time: env-schema writes into the schema.
function envKeyedSchema (): object {
  const properties: Record<string, unknown> = {}
  for (const key of SETTING_KEYS) {
    const { env, ...schema } = settingSchema(key)
    properties[env] = schema
  }
  return { type: 'object', properties }
}

/** One bad setting, as `error.settings` lists them for programs (the message says the same for people). */
export interface InvalidSetting {
  /** The setting's option name. */
  key: ApiLoggingConfigKey
  /** Its environment variable. */
  variable: string
  value: unknown
  /** Where the value came from. */
  source: Source | 'default'
  /** What the setting allows. */
  allowed: string
}

// The message names every bad setting; the details stay on a non-enumerable property, so a
// printed or uncaught error is those few lines and its stack, not Ajv's whole report.
function invalidConfig (err: unknown, raw: RawSetting[]): Error {
  const ajvErrors = (err as { errors?: Array<{ instancePath: string }> }).errors
  if (!Array.isArray(ajvErrors)) return configError(`Invalid fastify-api-logging configuration: ${(err as Error).message}`)
  const failing = new Set<string>()
  for (const e of ajvErrors) failing.add(e.instancePath.split('/')[1] ?? '')
  const lines: string[] = []
  const settings: InvalidSetting[] = []
  for (const key of SETTING_KEYS) {
    const envName = ENV_NAMES[key]
    if (!failing.has(envName)) continue
    const setting = raw.find((s) => s.key === key)
    const name = setting?.source === 'option' ? `option ${key} (${envName})` : envName
    const from = setting === undefined ? '' : setting.source === 'option' ? '' : ` (from ${setting.source})`
    lines.push(`${name}=${showValue(setting?.value)}${from} must be ${allowedValues(key)}`)
    settings.push({ key, variable: envName, value: setting?.value, source: setting?.source ?? 'default', allowed: allowedValues(key) })
  }
  const error = configError(`Invalid fastify-api-logging configuration:\n  ${lines.join('\n  ')}`)
  Object.defineProperty(error, 'settings', { value: Object.freeze(settings), enumerable: false })
  return error
}

function showValue (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? value.slice(0, 80) + '…' : value)
  return showJson(value)
}

/** A value as JSON for an error message; `String()` of it when it has no JSON form. */
export function showJson (value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

/** What a setting allows, worded from its schema so the message and the schema cannot drift. */
export function allowedValues (key: ApiLoggingConfigKey): string {
  const schema: TSchema = settingSchema(key)
  if (key === 'level') return `one of ${ACCEPTED_LEVELS}`
  if (key === 'transports') return TRANSPORTS_ALLOWED
  if (Array.isArray(schema.anyOf)) return `one of ${schema.anyOf.map((member: TSchema) => String(member.const)).join(', ')}`
  switch (schema.type) {
    case 'boolean': return 'a boolean: true, false, 1, 0, yes or no'
    case 'integer': {
      const bounds = [schema.minimum !== undefined ? `>= ${schema.minimum}` : '', schema.maximum !== undefined ? `<= ${schema.maximum}` : ''].filter(Boolean)
      return `an integer ${bounds.join(' and ')}`.trim()
    }
    case 'number': return `a number from ${String(schema.minimum)} to ${String(schema.maximum)}`
    case 'array':
      if (key === 'excludePaths') return 'a comma-separated list of paths, each starting with /'
      return key === 'logRequestHeaders' ? 'a comma-separated list of HTTP header names' : 'a comma-separated list of names'
    default:
      if (key === 'requestIdHeader') return 'an HTTP header name (letters, digits and !#$%&\'*+.^_`|~-)'
      if (key === 'workerId') return 'auto, none or a number'
      return 'a non-empty string'
  }
}
