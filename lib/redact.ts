/**
 * Key-based redaction and sanitising of values before they reach any sink.
 *
 * pino's `redact` matches exact, case-sensitive paths (FINDINGS.md); here a key is sensitive by
 * its normalised name at any depth. Values come back untouched (same reference) unless something
 * had to change, so the application's objects are never mutated and nothing is copied needlessly.
 */

export const REDACTED = '[REDACTED]'

/** Sensitive names, normalised (lower case, no `_`, `-` or `.`). */
export const DEFAULT_SENSITIVE_KEYS: readonly string[] = Object.freeze([
  'password', 'passwd', 'pwd', 'secret', 'token', 'accesstoken', 'refreshtoken', 'idtoken',
  'apikey', 'authorization', 'proxyauthorization', 'cookie', 'setcookie', 'session', 'sessionid',
  'creditcard', 'cardnumber', 'cvv', 'ssn', 'privatekey'
])

// Fragments that make a key sensitive wherever they appear (`passwordConfirmation`).
const SENSITIVE_FRAGMENTS = ['password', 'passwd', 'secret']

const MAX_DEPTH = 20
const MAX_KEYS = 1000
const MAX_ITEMS = 1000
const MAX_STRING = 16384
const KEY_CACHE_LIMIT = 10000

export function normalizeKey (key: string): string {
  return key.toLowerCase().replace(/[-_.]/g, '')
}

const keyVerdicts = new Map<string, boolean>()

/** True when a key's value must never be logged: its normalised form equals or ends with a sensitive name. */
export function isSensitiveKey (key: string): boolean {
  const cached = keyVerdicts.get(key)
  if (cached !== undefined) return cached
  const normal = normalizeKey(key)
  let verdict = SENSITIVE_FRAGMENTS.some((fragment) => normal.includes(fragment))
  if (!verdict) verdict = DEFAULT_SENSITIVE_KEYS.some((name) => normal.endsWith(name))
  // Keys come from request bodies: bound the cache so an attacker cannot grow it without limit.
  if (keyVerdicts.size >= KEY_CACHE_LIMIT) keyVerdicts.clear()
  keyVerdicts.set(key, verdict)
  return verdict
}

/**
 * Returns a JSON-safe version of `value` with sensitive keys replaced by `[REDACTED]`, cycles by
 * `[Circular]`, errors as `{ type, message, stack }`, and depth and width bounded.
 */
export function redact (value: unknown): unknown {
  return walk(value, 0, [])
}

function walk (value: unknown, depth: number, ancestors: object[]): unknown {
  switch (typeof value) {
    case 'string':
      return value.length > MAX_STRING ? value.slice(0, MAX_STRING) + `…[truncated ${value.length - MAX_STRING} chars]` : value
    case 'number':
    case 'boolean':
    case 'undefined':
      return value
    case 'bigint':
      return value.toString()
    case 'symbol':
      return value.toString()
    case 'function':
      return `[Function ${value.name || 'anonymous'}]`
  }
  if (value === null) return null
  const object = value as object
  if (ancestors.includes(object)) return '[Circular]'
  if (depth >= MAX_DEPTH) return '[Max depth]'
  if (object instanceof Error) return errorToObject(object, depth, ancestors)
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? 'Invalid Date' : object
  if (ArrayBuffer.isView(object)) return `[${object.constructor.name} ${object.byteLength} bytes]`
  ancestors.push(object)
  try {
    if (Array.isArray(object)) return walkArray(object, depth, ancestors)
    const toJSON = (object as { toJSON?: unknown }).toJSON
    if (typeof toJSON === 'function') return walk(toJSON.call(object), depth + 1, ancestors)
    return walkObject(object as Record<string, unknown>, depth, ancestors)
  } catch (err) {
    return `[Unserializable: ${describeError(err)}]`
  } finally {
    ancestors.pop()
  }
}

function walkArray (array: unknown[], depth: number, ancestors: object[]): unknown {
  const length = Math.min(array.length, MAX_ITEMS)
  let copy: unknown[] | undefined
  for (let i = 0; i < length; i++) {
    const item = array[i]
    const safe = walk(item, depth + 1, ancestors)
    if (safe !== item && copy === undefined) copy = array.slice(0, i)
    if (copy !== undefined) copy.push(safe)
  }
  if (array.length > length) {
    copy ??= array.slice(0, length)
    copy.push(`[${array.length - length} more items]`)
  }
  return copy ?? array
}

function walkObject (object: Record<string, unknown>, depth: number, ancestors: object[]): unknown {
  const keys = Object.keys(object)
  const length = Math.min(keys.length, MAX_KEYS)
  let copy: Record<string, unknown> | undefined
  for (let i = 0; i < length; i++) {
    const key = keys[i]
    let item: unknown
    let safe: unknown
    try {
      item = object[key]
      safe = isSensitiveKey(key) && item !== undefined && item !== null ? REDACTED : walk(item, depth + 1, ancestors)
    } catch (err) {
      item = undefined
      safe = `[Unreadable: ${describeError(err)}]`
    }
    if (safe !== item && copy === undefined) copy = copyKeys(object, keys, i)
    if (copy !== undefined) copy[key] = safe
  }
  if (keys.length > length) {
    copy ??= copyKeys(object, keys, length)
    copy['[truncated]'] = `${keys.length - length} more keys`
  }
  return copy ?? object
}

function copyKeys (object: Record<string, unknown>, keys: string[], count: number): Record<string, unknown> {
  const copy: Record<string, unknown> = {}
  for (let i = 0; i < count; i++) copy[keys[i]] = object[keys[i]]
  return copy
}

/** An error as a plain record, its own enumerable fields and `cause` chain redacted too. */
export function errorToObject (error: Error, depth = 0, ancestors: object[] = []): Record<string, unknown> {
  ancestors.push(error)
  try {
    const out: Record<string, unknown> = { type: errorType(error), message: safeString(() => error.message) }
    const stack = safeString(() => error.stack)
    if (stack !== '') out.stack = stack
    for (const key of Object.keys(error)) {
      if (key === 'message' || key === 'stack') continue
      let item: unknown
      try {
        item = (error as unknown as Record<string, unknown>)[key]
      } catch (err) {
        out[key] = `[Unreadable: ${describeError(err)}]`
        continue
      }
      out[key] = isSensitiveKey(key) && item != null ? REDACTED : walk(item, depth + 1, ancestors)
    }
    const cause = (error as { cause?: unknown }).cause
    if (cause !== undefined && !('cause' in out)) out.cause = walk(cause, depth + 1, ancestors)
    return out
  } finally {
    ancestors.pop()
  }
}

export function errorType (error: unknown): string {
  if (error instanceof Error) {
    const name = safeString(() => error.name)
    return name !== '' && name !== 'Error' ? name : (error.constructor?.name || 'Error')
  }
  return typeof error
}

function safeString (read: () => unknown): string {
  try {
    const value = read()
    return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value)
  } catch (err) {
    return `[Unreadable: ${describeError(err)}]`
  }
}

function describeError (err: unknown): string {
  try {
    return err instanceof Error ? err.message : String(err)
  } catch {
    return 'unknown error'
  }
}

/** The URL with the values of sensitive query parameters replaced (`?token=[REDACTED]`). */
export function redactUrl (url: string): string {
  const q = url.indexOf('?')
  if (q === -1) return url
  const query = url.slice(q + 1)
  let changed = false
  const parts = query.split('&')
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]
    const eq = part.indexOf('=')
    const name = decodeQueryName(eq === -1 ? part : part.slice(0, eq))
    if (eq !== -1 && isSensitiveKey(name)) {
      parts[i] = part.slice(0, eq + 1) + REDACTED
      changed = true
    }
  }
  return changed ? url.slice(0, q + 1) + parts.join('&') : url
}

function decodeQueryName (name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '))
  } catch {
    return name
  }
}
