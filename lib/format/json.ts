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

// Most context values are strings and numbers: skip the guarded path for them.
function jsonValue (value: unknown): string {
  switch (typeof value) {
    case 'string': return jsonString(value)
    case 'number': return Number.isFinite(value) ? String(value) : 'null'
    case 'boolean': return value ? 'true' : 'false'
    default: return value === null ? 'null' : value instanceof RawJson ? value.json : stringifyJson(value)
  }
}

/** One JSON object per line; key order fixed, keys unique. */
export function formatJsonLine (record: LogRecord): string {
  const origin = record.origin
  let line = '{"timestamp":"' + isoTimestamp(record.time) +
    '","level":"' + levelLabel(record.level) +
    '","logger":' + quote(record.logger) +
    ',"message":' + jsonString(record.message) +
    ',"module":' + quote(origin.module) +
    ',"function":' + quote(origin.function) +
    ',"line":' + origin.line +
    ',"request_id":' + (record.requestId === null ? 'null' : jsonValue(record.requestId))
  const fields = record.fields
  if (fields !== null) {
    for (const key in fields) {
      const value = fields[key]
      if (value === undefined) continue
      line += ',' + quote(key) + ':' + jsonValue(value)
    }
  }
  return line + '}\n'
}
