import { formatTextLine } from '../format/text'
import { RECORD_KEYS, type LogRecord } from '../record'
import { levelNumber } from './line'
import { TraceContext } from '../trace-context'

const TRACE_ID = /^[0-9a-f]{32}$/
const SPAN_ID = /^[0-9a-f]{16}$/
const FLAGS = /^[0-9a-f]{2}$/

// A line's trace fields, when they are the plugin's (its text layout writes them after request_id).
function traceOf (object: Record<string, unknown>): TraceContext | null {
  const { trace_id: traceId, span_id: spanId, trace_flags: flags } = object
  if (typeof traceId !== 'string' || typeof spanId !== 'string' || !TRACE_ID.test(traceId) || !SPAN_ID.test(spanId)) return null
  return new TraceContext(traceId, spanId, typeof flags === 'string' && FLAGS.test(flags) ? flags : '00', null)
}

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
    trace: traceOf(object),
    fields
  }
}

/** The record in the text layout of `api.log`, the level colored when asked. */
export function textLine (object: Record<string, unknown>, color: boolean): string {
  return formatTextLine(toLogRecord(object), color)
}
