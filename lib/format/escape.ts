// C0 controls, DEL, C1 controls and the two JavaScript line separators: anything that could end a
// line early or drive a terminal.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/
const UNSAFE_ALL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

function escapeChar (c: string): string {
  const named = NAMED[c]
  if (named !== undefined) return named
  const code = c.charCodeAt(0)
  return code > 0xff ? '\\u' + code.toString(16).padStart(4, '0') : '\\x' + code.toString(16).padStart(2, '0')
}

/** The text with every control character written as an escape, so it stays on one line. */
export function escapeText (text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeChar) : text
}

const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029]/
const JSON_UNSAFE_ALL = /[\u007f-\u009f\u2028\u2029]/g

function jsonEscapeChar (c: string): string {
  return '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')
}

/**
 * JSON text with the characters `JSON.stringify` leaves raw (DEL, C1, U+2028, U+2029) escaped:
 * still valid JSON that parses to the same value, and safe for line-based tools and terminals.
 */
export function escapeJson (json: string): string {
  return JSON_UNSAFE.test(json) ? json.replace(JSON_UNSAFE_ALL, jsonEscapeChar) : json
}

// What keeps a string from being written between quotes as it is: quotes, backslashes, controls,
// the separators, and surrogates (JSON.stringify escapes a lone one; most strings have none).
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\u009f\u2028\u2029\ud800-\udfff]/

/** A string as a JSON string literal, escaped for line-based tools; the common case without JSON.stringify. */
export function jsonString (text: string): string {
  return NEEDS_ESCAPE.test(text) ? escapeJson(JSON.stringify(text)) : '"' + text + '"'
}

/** JSON.stringify that never throws (BigInt, hostile toJSON) and never leaves a raw separator. */
export function stringifyJson (value: unknown): string {
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch (err) {
    json = JSON.stringify(`[Unserializable: ${err instanceof Error ? err.message : 'error'}]`)
  }
  return json === undefined ? 'null' : escapeJson(json)
}
