import { formatTextLine } from '../format/text'
import { RECORD_KEYS, type LogRecord } from '../record'
import { levelNumber } from './line'

/**
 * A parsed JSON line back as the record it was written from, so `trace` and `tail` print it with
 * the plugin's own text formatter: the same line `api.log` has for it (the time in this
 * machine's time zone, as there).
 */
export function toLogRecord (object: Record<string, unknown>): LogRecord {
  let fields: Record<string, unknown> | null = null
  for (const key in object) {
    if (RECORD_KEYS.has(key)) continue
    fields ??= {}
    fields[key] = object[key]
  }
  return {
    time: Date.parse(String(object.timestamp)),
    level: levelNumber(object.level),
    logger: typeof object.logger === 'string' ? object.logger : '',
    message: typeof object.message === 'string' ? object.message : '',
    origin: {
      module: typeof object.module === 'string' ? object.module : '',
      function: typeof object.function === 'string' ? object.function : '',
      line: typeof object.line === 'number' ? object.line : 0
    },
    requestId: typeof object.request_id === 'string' ? object.request_id : null,
    fields
  }
}

/** The record in the text layout of `api.log`, the level colored when asked. */
export function textLine (object: Record<string, unknown>, color: boolean): string {
  return formatTextLine(toLogRecord(object), color)
}
