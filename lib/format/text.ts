import { levelLabel } from '../levels'
import { RawJson, type LogRecord } from '../record'
import { localTimestamp } from './time'
import { escapeText, stringifyJson } from './escape'

// A value is written bare when a reader can tell where it ends; otherwise as a JSON string.
const BARE = /^[^\s"\\=\u0000-\u001f\u007f-\u009f\u2028\u2029]+$/

function formatValue (value: unknown): string {
  switch (typeof value) {
    case 'string': return BARE.test(value) ? value : stringifyJson(value)
    case 'number':
    case 'boolean': return String(value)
    default: return value === null ? 'null' : value instanceof RawJson ? value.json : stringifyJson(value)
  }
}

// ` key=` for each field name, escaped once.
const keyPrefixes = new Map<string, string>()

function keyPrefix (key: string): string {
  let prefix = keyPrefixes.get(key)
  if (prefix === undefined) {
    prefix = ' ' + escapeText(key) + '='
    if (keyPrefixes.size < 1000) keyPrefixes.set(key, prefix)
  }
  return prefix
}

const COLORS: Record<string, string> = {
  DEBUG: '\u001b[90m',
  INFO: '\u001b[32m',
  WARNING: '\u001b[33m',
  ERROR: '\u001b[31m',
  CRITICAL: '\u001b[1;31m'
}
const RESET = '\u001b[0m'

/**
 * `api.log` layout: `[2025-01-14 10:30:15] INFO [api:125] message request_id=... key=value ...`,
 * one record per line whatever its content. `color`: the level colored as on the console (for
 * `api-logs tail` on a terminal; the file never is).
 */
export function formatTextLine (record: LogRecord, color = false): string {
  const label = levelLabel(record.level)
  let line = '[' + localTimestamp(record.time) + '] ' + (color ? COLORS[label] + label + RESET : label) + ' [' +
    escapeText(record.logger) + ':' + record.origin.line + '] ' + escapeText(record.message)
  if (record.requestId !== null) line += ' request_id=' + formatValue(record.requestId)
  if (record.trace !== null) line += record.trace.text
  const fields = record.fields
  if (fields !== null) {
    for (const key in fields) {
      const value = fields[key]
      if (value === undefined) continue
      line += keyPrefix(key) + formatValue(value)
    }
  }
  return line + '\n'
}

/** Console layout: `[2025-01-14 10:30:15] INFO [api] message`, the level colored when asked. */
export function formatConsoleLine (record: LogRecord, color: boolean): string {
  const label = levelLabel(record.level)
  let line = '[' + localTimestamp(record.time) + '] ' + (color ? COLORS[label] + label + RESET : label) +
    ' [' + escapeText(record.logger) + '] ' + escapeText(record.message)
  const fields = record.fields
  if (fields !== null && typeof fields.exception_type === 'string') {
    line += ' (' + escapeText(fields.exception_type) + ': ' + escapeText(String(fields.exception_message ?? '')) + ')'
  }
  return line + '\n'
}
