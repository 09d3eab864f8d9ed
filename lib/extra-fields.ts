import { stringifyJson } from './format/escape'
import { RECORD_KEYS, RawJson } from './record'
import { errorType, type Redactor } from './redact'

const MAX_ERROR = 512

/** The outcome of one `extraFields` call: the fields to add, or why there are none. */
export type ExtraFieldsResult = { fields: Record<string, unknown>, error: null } | { fields: null, error: string }

/**
 * Calls the application's `extraFields` and makes its answer safe for a record: redacted as
 * every field is, objects serialized once (so the record cap can measure them), and keys that the
 * line already has renamed `field_<key>` rather than overwriting them. A throw, a promise or a
 * value that is not an object is reported, never thrown: the response and its line must not
 * depend on application code that runs after the response.
 */
export function callExtraFields (fn: () => unknown, taken: (key: string) => boolean, redactor: Redactor): ExtraFieldsResult | null {
  let value: unknown
  try {
    value = fn()
    if (value === undefined || value === null) return null
    if (typeof value !== 'object' || Array.isArray(value)) return { fields: null, error: `extraFields() must return an object, got ${Array.isArray(value) ? 'an array' : typeof value}` }
    if (typeof (value as { then?: unknown }).then === 'function') return { fields: null, error: 'extraFields() must return its fields, not a promise: the completion line is written when the response ends' }
    const safe = redactor.redact(value) as Record<string, unknown>
    const fields: Record<string, unknown> = {}
    for (const key of Object.keys(safe)) {
      const item = safe[key]
      if (item === undefined) continue
      const name = RECORD_KEYS.has(key) || taken(key) ? `field_${key}` : key
      fields[name] = item !== null && typeof item === 'object' ? new RawJson(stringifyJson(item)) : item
    }
    return { fields, error: null }
  } catch (err) {
    return { fields: null, error: redactor.redactAndTruncate(`extraFields() threw ${errorType(err)}: ${messageOf(err)}`, MAX_ERROR) }
  }
}

function messageOf (err: unknown): string {
  try {
    return err instanceof Error ? String(err.message) : String(err)
  } catch {
    return '[unreadable]'
  }
}
