/** Where a line was logged from: the `module`, `function` and `line` fields of every record. */
export interface Origin {
  readonly module: string
  readonly function: string
  readonly line: number
}

/**
 * One log record, the single shape every sink formats. `fields` hold the line's context, already
 * redacted and JSON-safe, with no key that collides with the record's own keys.
 */
export interface LogRecord {
  readonly time: number
  readonly level: number
  readonly logger: string
  readonly message: string
  readonly origin: Origin
  readonly requestId: string | null
  readonly fields: Readonly<Record<string, unknown>> | null
}

/** Top-level keys of a JSON line; a context field of the same name is written as `field_<name>`. */
export const RECORD_KEYS: ReadonlySet<string> = new Set(['timestamp', 'level', 'logger', 'message', 'module', 'function', 'line', 'request_id'])

/** The logger name of the plugin's own request lines. */
export const PLUGIN_LOGGER = 'api'

/**
 * A value already serialised to JSON (and escaped for line-based tools), written as it is by
 * every sink: an object is serialised once per record, not once per sink.
 */
export class RawJson {
  readonly json: string
  constructor (json: string) {
    this.json = json
  }
}

// What a field costs in a JSON line, about: its key, quotes, separators and value.
function fieldSize (key: string, value: unknown): number {
  const size = typeof value === 'string' ? value.length + 2 : value instanceof RawJson ? value.json.length : 8
  return key.length + 4 + size
}

const FIXED_PART = 400
const SHORTEST = 64

/**
 * Shortens the largest fields until the record fits in `maxBytes`, so one oversized value never
 * makes a shipper drop (or split) the whole line. A shortened value becomes a string ending in
 * `…[truncated N chars]`. Returns the fields unchanged when they fit.
 */
export function capFields (fields: Record<string, unknown>, messageLength: number, maxBytes: number): Record<string, unknown> {
  let total = FIXED_PART + messageLength
  for (const key in fields) total += fieldSize(key, fields[key])
  if (total <= maxBytes) return fields
  const capped = { ...fields }
  const bySize = Object.keys(capped).sort((a, b) => fieldSize(b, capped[b]) - fieldSize(a, capped[a]))
  for (const key of bySize) {
    if (total <= maxBytes) break
    const value = capped[key]
    const text = typeof value === 'string' ? value : value instanceof RawJson ? value.json : undefined
    if (text === undefined || text.length <= SHORTEST) continue
    const keep = Math.max(SHORTEST, text.length - (total - maxBytes) - 40)
    if (keep >= text.length) continue
    const shortened = text.slice(0, keep) + `…[truncated ${text.length - keep} chars]`
    total += fieldSize(key, shortened) - fieldSize(key, value)
    capped[key] = shortened
  }
  return capped
}
