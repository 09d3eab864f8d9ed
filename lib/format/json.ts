import { levelLabel } from '../levels'
import { RawJson, type LogRecord } from '../record'
import { isoTimestamp } from './time'
import { jsonString, stringifyJson } from './escape'

// Logger names, origins and keys repeat on every line: keep their JSON form. (Request ids never
// repeat, so they do not go through this cache.)
const quoted = new Map<string, string>()

function quote (text: string): string {
  let json = quoted.get(text)
  if (json === undefined) {
    json = jsonString(text)
    if (quoted.size < 1000) quoted.set(text, json)
  }
  return json
}

// `,"key":` for each field name: one lookup instead of two and three concatenations.
const keyPrefixes = new Map<string, string>()

function keyPrefix (key: string): string {
  let prefix = keyPrefixes.get(key)
  if (prefix === undefined) {
    prefix = ',' + quote(key) + ':'
    if (keyPrefixes.size < 1000) keyPrefixes.set(key, prefix)
  }
  return prefix
}

/** `,"module":…,"function":…,"line":N` of an origin; the plugin's own origins carry it ready. */
function originPart (origin: LogRecord['origin']): string {
  return origin.json ?? jsonOriginPart(origin.module, origin.function, origin.line)
}

// Most context values are strings and numbers: skip the guarded path for them.
function jsonValue (value: unknown): string {
  switch (typeof value) {
    case 'string': return jsonString(value)
    case 'number': return Number.isFinite(value) ? String(value) : 'null'
    case 'boolean': return value ? 'true' : 'false'
    default: return value === null ? 'null' : value instanceof RawJson ? value.json : stringifyJson(value)
  }
}

/** `,"module":"plugin","function":"name","line":N`, as `formatJsonLine` writes an origin. */
export function jsonOriginPart (module: string, fn: string, line: number): string {
  return ',"module":' + quote(module) + ',"function":' + quote(fn) + ',"line":' + line
}

/** One JSON object per line; key order fixed, keys unique. */
export function formatJsonLine (record: LogRecord): string {
  let line = '{"timestamp":"' + isoTimestamp(record.time) +
    '","level":"' + levelLabel(record.level) +
    '","logger":' + quote(record.logger) +
    ',"message":' + jsonString(record.message) +
    originPart(record.origin) +
    ',"request_id":' + (record.requestId === null ? 'null' : jsonValue(record.requestId))
  // Top-level, right after the request id, as OpenTelemetry's log formats place them; absent without a trace.
  if (record.trace !== null) line += record.trace.json
  const fields = record.fields
  if (fields !== null) {
    for (const key in fields) {
      const value = fields[key]
      if (value === undefined) continue
      line += keyPrefix(key) + jsonValue(value)
    }
  }
  return line + '}\n'
}

// pino's own keys in its line form: a field of that name would shadow them.
const PINO_KEYS: ReadonlySet<string> = new Set(['time', 'msg', 'pid', 'hostname'])

/**
 * The record as a pino log line, the form pino transports read: the numeric `level`, `time` in
 * epoch milliseconds and `msg` first (pino's own keys), then the JSON format's keys from `logger`
 * on, with `trace_flags` as the number OpenTelemetry's span context holds. A field named like one
 * of pino's keys is written as `field_<key>`, as the JSON format does for its own keys.
 */
export function formatPinoLine (record: LogRecord): string {
  let line = '{"level":' + record.level +
    ',"time":' + record.time +
    ',"msg":' + jsonString(record.message) +
    ',"logger":' + quote(record.logger) +
    originPart(record.origin) +
    ',"request_id":' + (record.requestId === null ? 'null' : jsonValue(record.requestId))
  if (record.trace !== null) line += record.trace.pinoJson
  const fields = record.fields
  if (fields !== null) {
    for (const key in fields) {
      const value = fields[key]
      if (value === undefined) continue
      line += keyPrefix(PINO_KEYS.has(key) ? 'field_' + key : key) + jsonValue(value)
    }
  }
  return line + '}\n'
}
