/**
 * Redaction and sanitizing of everything that reaches a sink.
 *
 * pino's `redact` matches exact, case-sensitive paths (docs/security.md). Here a key is sensitive by
 * its normalized name at any depth, and strings are searched for secrets in known shapes (Bearer
 * and Basic credentials, JWTs, card numbers, URL passwords, `key=value` pairs). Values come back
 * untouched (the same reference) unless something had to change, so the application's objects are
 * never mutated and nothing is copied when nothing matches.
 */

export const REDACTED = '[REDACTED]'

/** Sensitive names, normalized (lower case, no `_`, `-` or `.`). */
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

export interface RedactorOptions {
  /** Extra sensitive names (any spelling: they are normalized). */
  keys?: readonly string[]
  /** Use `keys` instead of the defaults, not in addition to them. */
  replaceDefaults?: boolean
  /** Search strings for secrets in known shapes. */
  values?: boolean
}

// Secret shapes that need no key name: a string without any of these skips them.
const SHAPE_HINT = /bearer|basic|eyJ|\d[\d -]{11,}\d|:\/\/[^\s/?#@]*@/i
const PAIR_HINT = /[=:]/
const JWT_SHAPE = /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/
// Shapes found in one pass (one scan of the string instead of one per shape):
//  1-2 Bearer token, 3-4 Basic credentials (base64, 6+ chars), 5 JWT, 6 13-19 digit card number
//  (not inside a longer run of letters, digits or dashes: hex ids are not cards), 7 URL user info.
// Each Redactor appends its `"name": value` and `name=value` / `name: value` rules, built from its
// sensitive names so that a harmless pair is never consumed (and cannot hide what follows it).
const SHAPES = [
  '\\b(Bearer)(\\s+)[A-Za-z0-9\\-._~+/]+=*',
  '\\b(Basic)(\\s+)[A-Za-z0-9+/]{6,}={0,2}',
  '(\\beyJ[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*)',
  '((?<![0-9A-Za-z-])\\d(?:[ -]?\\d){12,18}(?![0-9A-Za-z-]))',
  '\\b([a-z][a-z0-9+.-]*:\\/\\/)[^\\s/?#@]+@'
]
const NAME_CHARS = '[A-Za-z0-9_.\\-\\[\\]]'

/**
 * The part of a value worth searching before it is cut to `max`: secrets past 4 × max are cut off
 * anyway, and looking at them would only cost time (a 15 KB header stays cheap).
 */
export function searchWindow (text: string, max: number): string {
  return text.length > max * 4 ? text.slice(0, max * 4) : text
}

/** The text cut to `max` UTF-16 units, ending in `…[truncated N bytes]` (N counted on `whole`). */
export function truncate (text: string, max: number, whole: string = text): string {
  if (text.length <= max) return text
  const kept = text.slice(0, max)
  return `${kept}…[truncated ${Buffer.byteLength(whole) - Buffer.byteLength(kept)} bytes]`
}

function luhn (digits: string): boolean {
  let sum = 0
  let double = false
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return sum % 10 === 0
}

function escapeRegExp (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function decodeName (name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '))
  } catch {
    return name
  }
}

/**
 * One set of redaction rules. The plugin builds one from its configuration; lines logged when no
 * plugin instance is open use the defaults.
 */
export class Redactor {
  private readonly names: readonly string[]
  private readonly fragments: readonly string[]
  private readonly values: boolean
  private readonly verdicts = new Map<string, boolean>()
  // Matches wherever a sensitive name could be written, separators allowed between its letters
  // (`api_key`, `X-Api-Key`): without one, no `name=value` pair in a string can be sensitive.
  private readonly nameHint: RegExp
  private readonly secrets: RegExp

  constructor (options: RedactorOptions = {}) {
    const extra = (options.keys ?? []).map(normalizeKey).filter((name) => name !== '')
    const replace = options.replaceDefaults === true
    this.names = replace ? extra : [...DEFAULT_SENSITIVE_KEYS, ...extra]
    this.fragments = replace ? [] : SENSITIVE_FRAGMENTS
    this.values = options.values ?? true
    const spell = (name: string): string => name.split('').map(escapeRegExp).join('[-_.]?')
    const spelled = [...this.names, ...this.fragments].map(spell)
    this.nameHint = spelled.length > 0 ? new RegExp(spelled.join('|'), 'i') : /(?!)/
    // A sensitive name: one that ends with a name, or contains a fragment, starting at a word edge.
    const forms: string[] = []
    if (this.names.length > 0) forms.push(`${NAME_CHARS}*(?:${this.names.map(spell).join('|')})`)
    if (this.fragments.length > 0) forms.push(`${NAME_CHARS}*(?:${this.fragments.map(spell).join('|')})${NAME_CHARS}*`)
    const name = forms.length > 0 ? `(?<!${NAME_CHARS})(?:${forms.join('|')})` : '(?!)'
    this.secrets = new RegExp([
      ...SHAPES,
      //  8-10 `"name": "value"` or `"name": 123` (JSON inside a string)
      `"(${name})"(\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*"|-?\\d[\\d.eE+-]*|true|false)`,
      //  11-13 `name=value`, `name: value`
      `(${name})(=|\\s*:\\s*)(?!\\/\\/|Bearer\\b|Basic\\b|\\[REDACTED\\])([^&\\s#;,'"]+)`
    ].join('|'), 'gi')
  }

  /** True when an incoming request id has the shape of a credential (a JWT): it is not used as an id. */
  looksLikeCredential (text: string): boolean {
    return JWT_SHAPE.test(text)
  }

  /** Redacts, then cuts to `max`: a cut never leaves half a secret that the redaction could not see. */
  redactAndTruncate (text: string, max: number): string {
    return truncate(this.redactString(searchWindow(text, max)), max, text)
  }

  /** True when a key's value must never be logged: its normalized form equals or ends with a sensitive name. */
  isSensitiveKey (key: string): boolean {
    const cached = this.verdicts.get(key)
    if (cached !== undefined) return cached
    const normal = normalizeKey(key)
    let verdict = this.fragments.some((fragment) => normal.includes(fragment))
    if (!verdict) verdict = this.names.some((name) => normal.endsWith(name))
    // Keys come from request bodies: bound the cache so an attacker cannot grow it without limit.
    if (this.verdicts.size >= KEY_CACHE_LIMIT) this.verdicts.clear()
    this.verdicts.set(key, verdict)
    return verdict
  }

  /** The string with secrets in known shapes replaced; the same string when there are none. */
  redactString (text: string): string {
    if (!this.values || (!SHAPE_HINT.test(text) && !this.nameHint.test(text))) return text
    return this.replaceSecrets(text)
  }

  private replaceSecrets (text: string): string {
    const out = text.replace(this.secrets, (match: string, bearer?: string, bearerGap?: string, basic?: string, basicGap?: string,
      jwt?: string, card?: string, scheme?: string, qName?: string, qColon?: string, _qValue?: string,
      name?: string, separator?: string) => {
      if (bearer !== undefined) return `${bearer}${bearerGap as string}${REDACTED}`
      if (basic !== undefined) return `${basic}${basicGap as string}${REDACTED}`
      if (jwt !== undefined) return REDACTED
      if (card !== undefined) {
        const digits = card.replace(/[ -]/g, '')
        return digits.length >= 13 && digits.length <= 19 && luhn(digits) ? REDACTED : match
      }
      if (scheme !== undefined) return `${scheme}${REDACTED}@`
      if (qName !== undefined) return this.isSensitiveKey(qName) ? `"${qName}"${qColon as string}"${REDACTED}"` : match
      if (name !== undefined) return this.isSensitiveKey(decodeName(name)) ? `${name}${separator as string}${REDACTED}` : match
      return match
    })
    return out === text ? text : out
  }

  /** `redactUrl`, then cut to `max`. */
  redactAndTruncateUrl (url: string, max: number): string {
    return truncate(this.redactUrl(searchWindow(url, max)), max, url)
  }

  /**
   * A URL (path and query) with sensitive query values and secrets in known shapes replaced. Shapes
   * are also looked for in the percent-decoded URL; when one is found there, the decoded, redacted
   * form is logged.
   */
  redactUrl (url: string): string {
    const q = url.indexOf('?')
    let out = url
    if (q !== -1 && this.nameHint.test(url)) {
      const parts = url.slice(q + 1).split('&')
      let changed = false
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i]
        const eq = part.indexOf('=')
        if (eq !== -1 && this.isSensitiveKey(decodeName(part.slice(0, eq)))) {
          parts[i] = part.slice(0, eq + 1) + REDACTED
          changed = true
        }
      }
      if (changed) out = url.slice(0, q + 1) + parts.join('&')
    }
    out = this.redactString(out)
    if (this.values && out.includes('%')) {
      const decoded = decodeName(out)
      const safe = this.redactString(decoded)
      if (safe !== decoded) return safe
    }
    return out
  }

  /**
   * A JSON-safe version of `value`: sensitive keys replaced by `[REDACTED]`, strings searched,
   * cycles as `[Circular]`, errors as `{ type, message, stack, cause }`, depth, width and string
   * length bounded, so a hostile body costs time and space in proportion to the caps.
   */
  redact (value: unknown): unknown {
    return this.walk(value, 0, [])
  }

  /** An error as a plain record, its own fields and its `cause` chain redacted too. */
  errorToObject (error: Error, depth = 0, ancestors: object[] = []): Record<string, unknown> {
    ancestors.push(error)
    try {
      const out: Record<string, unknown> = { type: errorType(error), message: this.redactString(safeString(() => error.message)) }
      const stack = safeString(() => error.stack)
      if (stack !== '') out.stack = this.redactString(stack)
      for (const key of Object.keys(error)) {
        if (key === 'message' || key === 'stack') continue
        let item: unknown
        try {
          item = (error as unknown as Record<string, unknown>)[key]
        } catch (err) {
          out[key] = `[Unreadable: ${describeError(err)}]`
          continue
        }
        out[key] = this.isSensitiveKey(key) && item != null ? REDACTED : this.walk(item, depth + 1, ancestors)
      }
      const cause = (error as { cause?: unknown }).cause
      if (cause !== undefined && !('cause' in out)) out.cause = this.walk(cause, depth + 1, ancestors)
      return out
    } finally {
      ancestors.pop()
    }
  }

  private walk (value: unknown, depth: number, ancestors: object[]): unknown {
    switch (typeof value) {
      case 'string':
        return value.length > MAX_STRING ? this.redactAndTruncate(value, MAX_STRING) : this.redactString(value)
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
    if (object instanceof Error) return this.errorToObject(object, depth, ancestors)
    if (object instanceof Date) return Number.isNaN(object.getTime()) ? 'Invalid Date' : object
    if (ArrayBuffer.isView(object)) return `[${object.constructor.name} ${object.byteLength} bytes]`
    ancestors.push(object)
    try {
      if (Array.isArray(object)) return this.walkArray(object, depth, ancestors)
      const toJSON = (object as { toJSON?: unknown }).toJSON
      if (typeof toJSON === 'function') return this.walk(toJSON.call(object), depth + 1, ancestors)
      return this.walkObject(object as Record<string, unknown>, depth, ancestors)
    } catch (err) {
      return `[Unserializable: ${describeError(err)}]`
    } finally {
      ancestors.pop()
    }
  }

  private walkArray (array: unknown[], depth: number, ancestors: object[]): unknown {
    const length = Math.min(array.length, MAX_ITEMS)
    let copy: unknown[] | undefined
    for (let i = 0; i < length; i++) {
      const item = array[i]
      const safe = this.walk(item, depth + 1, ancestors)
      if (safe !== item && copy === undefined) copy = array.slice(0, i)
      if (copy !== undefined) copy.push(safe)
    }
    if (array.length > length) {
      copy ??= array.slice(0, length)
      copy.push(`[${array.length - length} more items]`)
    }
    return copy ?? array
  }

  private walkObject (object: Record<string, unknown>, depth: number, ancestors: object[]): unknown {
    const keys = Object.keys(object)
    const length = Math.min(keys.length, MAX_KEYS)
    let copy: Record<string, unknown> | undefined
    for (let i = 0; i < length; i++) {
      const key = keys[i]
      let item: unknown
      let safe: unknown
      try {
        item = object[key]
        safe = this.isSensitiveKey(key) && item !== undefined && item !== null ? REDACTED : this.walk(item, depth + 1, ancestors)
      } catch (err) {
        item = undefined
        safe = `[Unreadable: ${describeError(err)}]`
      }
      // A key can carry a secret too (`{ "Bearer abc": 1 }`); only the shapes are looked for.
      const safeKey = this.values && (SHAPE_HINT.test(key) || (PAIR_HINT.test(key) && this.nameHint.test(key))) ? this.replaceSecrets(key) : key
      if ((safe !== item || safeKey !== key) && copy === undefined) copy = copyKeys(object, keys, i)
      if (copy !== undefined) copy[safeKey] = safe
    }
    if (keys.length > length) {
      copy ??= copyKeys(object, keys, length)
      copy['[truncated]'] = `${keys.length - length} more keys`
    }
    return copy ?? object
  }
}

function copyKeys (object: Record<string, unknown>, keys: string[], count: number): Record<string, unknown> {
  const copy: Record<string, unknown> = {}
  for (let i = 0; i < count; i++) copy[keys[i]] = object[keys[i]]
  return copy
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

/** The rules used where no plugin instance is open (stderr fallback). */
export const defaultRedactor = new Redactor()
