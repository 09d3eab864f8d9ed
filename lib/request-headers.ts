import type { IncomingHttpHeaders } from 'node:http'
import { headersForLog } from './bodies'
import type { RawJson } from './record'
import type { Redactor } from './redact'

/**
 * The `request_headers` field of a completion line for a chosen list of headers
 * (`LOG_REQUEST_HEADERS`): the headers of `names` (lower case, as Node keys them) that the
 * request carries, redacted by name and value and cut as every logged header is. `undefined`
 * when it carries none of them, so the line gets no empty field.
 */
export function selectRequestHeaders (names: readonly string[], headers: IncomingHttpHeaders, redactor: Redactor): RawJson | undefined {
  let chosen: Record<string, unknown> | undefined
  for (const name of names) {
    const value = headers[name]
    if (value === undefined) continue
    chosen ??= {}
    chosen[name] = value
  }
  return chosen === undefined ? undefined : headersForLog(chosen, redactor)
}
