import { Type, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { oneEditApart, showJson } from './config'
import { routeConfigError } from './errors'
import { ACCEPTED_LEVELS, LEVEL_VALUES, normalizeLevel, type LevelInput } from './levels'
import { NEVER_LOGGED_HEADER, NEVER_LOGGED_REASON } from './bodies'
import { headerNames } from './request-headers'
import { HEADER_NAME } from './settings'

/** What a route may say in `config.apiLogging` (`false` turns its request lines off). */
export interface RouteLoggingOptions {
  /** Log this route's request bodies, or not, whatever LOG_REQUEST_BODY says. */
  requestBody?: boolean
  /** Log this route's response bodies, or not, whatever LOG_RESPONSE_BODY says. */
  responseBody?: boolean
  /** This route's slow-request threshold in ms (0: never slow), in place of SLOW_REQUEST_THRESHOLD_MS. */
  slowRequestThresholdMs?: number
  /** The lowest level of every line of this route's requests, in place of LOG_LEVEL (as Fastify's `logLevel`). */
  level?: LevelInput
  /** Sensitive key names hidden on this route's lines, on top of the built-in ones and LOG_REDACT_KEYS. */
  redactKeys?: readonly string[]
  /** The fraction of this route's successful, fast requests logged, in place of LOG_SAMPLE_RATE. */
  sampleRate?: number
  /** Request headers written on this route's completion lines, under `request_headers` (redacted). */
  headers?: readonly string[]
}

// The schema of each option, and what it allows in words, for the error message.
const OPTIONS: Readonly<Record<keyof RouteLoggingOptions, { schema: TSchema, allowed: string }>> = {
  requestBody: { schema: Type.Boolean(), allowed: 'true or false' },
  responseBody: { schema: Type.Boolean(), allowed: 'true or false' },
  slowRequestThresholdMs: { schema: Type.Integer({ minimum: 0 }), allowed: 'an integer >= 0 (milliseconds; 0 turns the check off)' },
  level: { schema: Type.String(), allowed: `one of ${ACCEPTED_LEVELS}` },
  redactKeys: { schema: Type.Array(Type.String({ minLength: 1 })), allowed: 'an array of non-empty key names' },
  sampleRate: { schema: Type.Number({ minimum: 0, maximum: 1 }), allowed: 'a number from 0 to 1' },
  headers: { schema: Type.Array(Type.String({ pattern: HEADER_NAME })), allowed: 'an array of header names' }
}
const OPTION_NAMES = Object.keys(OPTIONS) as Array<keyof RouteLoggingOptions>

/** `config.apiLogging` as checked at startup: each override present, in the plugin's terms. */
export interface RouteOverrides {
  readonly logRequestBody?: boolean
  readonly logResponseBody?: boolean
  readonly slowRequestThresholdMs?: number
  /** pino's number of `level`. */
  readonly minLevel?: number
  readonly redactKeys?: readonly string[]
  readonly sampleRate?: number
  /** Lower-cased. */
  readonly headers?: readonly string[]
}

/**
 * Checks a route's `config.apiLogging` and turns it into overrides; `null` for a route that
 * says nothing. Throws one error naming the route, every bad key and what it allows.
 */
export function parseRouteLogging (value: unknown, route: string): RouteOverrides | false | null {
  if (value === undefined || value === null) return null
  if (value === false) return false
  const where = `route ${route}: config.apiLogging`
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw routeConfigError(`Invalid fastify-api-logging route option on ${where}=${showJson(value)}: it must be false or an object with any of ${OPTION_NAMES.join(', ')}`)
  }
  const given = value as Record<string, unknown>
  const problems: string[] = []
  for (const key of Object.keys(given)) {
    const option = OPTIONS[key as keyof RouteLoggingOptions]
    if (option === undefined) {
      const near = OPTION_NAMES.find((name) => oneEditApart(key.toLowerCase(), name.toLowerCase()))
      problems.push(`${key} is not an option${near === undefined ? '' : ` (did you mean ${near}?)`}; the options are ${OPTION_NAMES.join(', ')}`)
      continue
    }
    const item = given[key]
    if (item === undefined) continue
    const valid = Value.Check(option.schema, item) && (key !== 'level' || normalizeLevel(item) !== undefined)
    if (!valid) problems.push(`${key}=${showJson(item)} must be ${option.allowed}`)
    else if (key === 'headers' && (item as string[]).some((name) => name.toLowerCase() === NEVER_LOGGED_HEADER)) problems.push(`headers lists ${NEVER_LOGGED_REASON}`)
  }
  if (problems.length > 0) throw routeConfigError(`Invalid fastify-api-logging route option on ${where}:\n  ${problems.join('\n  ')}`)
  const options = given as RouteLoggingOptions
  const level = normalizeLevel(options.level)
  return Object.freeze({
    logRequestBody: options.requestBody,
    logResponseBody: options.responseBody,
    slowRequestThresholdMs: options.slowRequestThresholdMs,
    minLevel: level === undefined ? undefined : LEVEL_VALUES[level],
    redactKeys: options.redactKeys === undefined ? undefined : Object.freeze([...options.redactKeys]),
    sampleRate: options.sampleRate,
    headers: options.headers === undefined ? undefined : headerNames(options.headers)
  })
}
