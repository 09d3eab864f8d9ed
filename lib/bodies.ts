import { stringifyJson } from './format/escape'
import { RawJson } from './record'
import { searchWindow, truncate, type Redactor } from './redact'

/** Header values longer than this are cut in records: a 15 KB header costs a few hundred bytes. */
export const MAX_HEADER_VALUE = 256
/**
 * The one request header never logged, whatever LOG_HEADERS, LOG_REQUEST_HEADERS or a route's
 * `headers` say: W3C `tracestate` is opaque vendor data that any caller can fill with anything,
 * and the trace it goes with is on every line already (`trace_id`, `span_id`, `trace_flags`).
 */
export const NEVER_LOGGED_HEADER = 'tracestate'

/** Why a header list naming `tracestate` is refused, for the error that names the setting. */
export const NEVER_LOGGED_REASON = 'tracestate is never logged (opaque vendor data that a caller can fill with anything; the trace is on every line as trace_id, span_id and trace_flags): remove it'

// A JSON response body longer than this is summarized rather than parsed back.
const MAX_PARSE = 1024 * 1024

/** `application/json` from `application/json; charset=utf-8`, lower case; '' when absent. */
export function mediaType (contentType: unknown): string {
  if (typeof contentType !== 'string') return ''
  const semi = contentType.indexOf(';')
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
}

function isJson (type: string): boolean {
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))
}

const FORM = 'application/x-www-form-urlencoded'

function summary (type: string, body: unknown): string {
  const name = type === '' ? 'unknown type' : type
  const size = typeof body === 'string' ? Buffer.byteLength(body) : Buffer.isBuffer(body) ? body.length : undefined
  return size === undefined ? `[${name}]` : `[${name}, ${size} bytes]`
}

function objectForLog (value: unknown, redactor: Redactor, maxBytes: number): unknown {
  const json = stringifyJson(redactor.redact(value))
  return json.length > maxBytes ? truncate(json, maxBytes) : new RawJson(json)
}

function formToObject (text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [key, value] of new URLSearchParams(text)) {
    const seen = out[key]
    out[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value]
  }
  return out
}

/**
 * What a request or response body looks like in a record. JSON, form and text bodies are logged
 * as content (redacted, cut at `maxBytes`); anything else (binary, multipart, streams) as its
 * type and size, never its bytes.
 */
export function bodyForLog (body: unknown, contentType: unknown, redactor: Redactor, maxBytes: number): unknown {
  if (body === undefined || body === null) return undefined
  const type = mediaType(contentType)
  const asContent = isJson(type) || type === FORM || type.startsWith('text/')
  if (!asContent || Buffer.isBuffer(body) || typeof (body as { pipe?: unknown }).pipe === 'function') return summary(type, body)
  if (typeof body !== 'string') return objectForLog(body, redactor, maxBytes)
  // Structured text too large to parse back is not searched as plain text: a pattern cannot see a
  // secret nested under a sensitive key, so only its type and size are logged.
  if ((isJson(type) || type === FORM) && body.length > MAX_PARSE) return summary(type, body)
  if (isJson(type)) {
    try {
      return objectForLog(JSON.parse(body), redactor, maxBytes)
    } catch {
      // Not JSON after all: logged as text below.
    }
  }
  if (type === FORM) return objectForLog(formToObject(body), redactor, maxBytes)
  return redactor.redactAndTruncate(body, maxBytes)
}

/** Headers as a record field: sensitive names and values redacted, then values cut. */
export function headersForLog (headers: Record<string, unknown>, redactor: Redactor): RawJson {
  const raw: Record<string, string> = {}
  for (const name of Object.keys(headers)) {
    const value = headers[name]
    if (value === undefined || (name.length === NEVER_LOGGED_HEADER.length && name.toLowerCase() === NEVER_LOGGED_HEADER)) continue
    const text = Array.isArray(value) ? value.join(', ') : String(value)
    raw[name] = searchWindow(text, MAX_HEADER_VALUE)
  }
  const safe = redactor.redact(raw) as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const name of Object.keys(safe)) {
    const value = safe[name]
    out[name] = typeof value === 'string' && value.length > MAX_HEADER_VALUE ? truncate(value, MAX_HEADER_VALUE, String(headers[name] ?? value)) : value
  }
  return new RawJson(stringifyJson(out))
}
