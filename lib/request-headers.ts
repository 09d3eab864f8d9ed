import type { IncomingHttpHeaders } from 'node:http'
import { headersForLog } from './bodies'
import type { RawJson } from './record'
import type { Redactor } from './redact'

/**
 * A list of request header names to log, as the lookups need it: lower case (Node gives the
 * headers lower-cased), each once, in the order given.
 */
export function headerNames (names: readonly string[]): readonly string[] {
  return Object.freeze([...new Set(names.map((name) => name.toLowerCase()))])
}

/**
 * The `request_headers` object of a completion line: the named headers the request has,
 * redacted and shortened like every header; undefined when it has none of them.
 */
export function selectedHeaders (headers: IncomingHttpHeaders, names: readonly string[], redactor: Redactor): RawJson | undefined {
  let picked: Record<string, unknown> | undefined
  for (const name of names) {
    const value = headers[name]
    if (value === undefined) continue
    picked ??= {}
    picked[name] = value
  }
  return picked === undefined ? undefined : headersForLog(picked, redactor)
}
