import { stringifyJson } from './format/escape'
import { RawJson } from './record'
import type { Redactor } from './redact'

/** Header values longer than this are cut in records: a 15 KB header costs a few hundred bytes. */
export const MAX_HEADER_VALUE = 256
// A JSON response body longer than this is summarised rather than parsed back.
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

/** The text cut to `max` bytes (about: UTF-16 units), ending in `…[truncated N bytes]`. */
export function truncate (text: string, max: number): string {
  if (text.length <= max) return text
  const kept = text.slice(0, max)
  return `${kept}…[truncated ${Buffer.byteLength(text) - Buffer.byteLength(kept)} bytes]`
}

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
  if (isJson(type) && body.length <= MAX_PARSE) {
    try {
      return objectForLog(JSON.parse(body), redactor, maxBytes)
    } catch {
      // Not JSON after all: logged as text below.
    }
  }
  if (type === FORM && body.length <= MAX_PARSE) return objectForLog(formToObject(body), redactor, maxBytes)
  return redactor.redactString(truncate(body, maxBytes))
}

/** Headers as a record field: values cut, sensitive names and values redacted. */
export function headersForLog (headers: Record<string, unknown>, redactor: Redactor): RawJson {
  const out: Record<string, unknown> = {}
  for (const name of Object.keys(headers)) {
    const value = headers[name]
    if (value === undefined) continue
    const text = Array.isArray(value) ? value.join(', ') : String(value)
    out[name] = text.length > MAX_HEADER_VALUE ? truncate(text, MAX_HEADER_VALUE) : text
  }
  return new RawJson(stringifyJson(redactor.redact(out)))
}
