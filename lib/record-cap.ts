import { escapeJson } from './format/escape'
import { RawJson } from './record'

// The record's own keys and values (timestamp, level, logger, origin, request id) and separators.
const FIXED_PART = 512
const SHORTEST = 64

function serializedBytes (value: unknown): number {
  if (value instanceof RawJson) return Buffer.byteLength(value.json)
  if (typeof value === 'string') return Buffer.byteLength(escapeJson(JSON.stringify(value)))
  return 24
}

function shorten (value: unknown, bytes: number, allowed: number): string | undefined {
  const text = typeof value === 'string' ? value : value instanceof RawJson ? value.json : undefined
  if (text === undefined || text.length <= SHORTEST) return undefined
  // Escapes and multi-byte characters make bytes outgrow characters: scale, then the caller re-measures.
  const keep = Math.max(SHORTEST, Math.floor(text.length * (allowed / bytes)) - 40)
  return keep >= text.length ? undefined : text.slice(0, keep) + `…[truncated ${text.length - keep} chars]`
}

/**
 * Keeps a record's JSON line within `maxBytes` by shortening its largest parts (message included),
 * so one oversized value never makes a shipper drop or split the line. Measured in serialized
 * bytes (escapes and multi-byte characters counted) only when a cheap bound says it might not fit.
 */
export function capRecord (message: string, fields: Record<string, unknown> | null, maxBytes: number): { message: string, fields: Record<string, unknown> | null } {
  // Every character serializes to at most 6 bytes (`\u001b`): below that bound it fits, unmeasured.
  let chars = message.length
  if (fields !== null) {
    for (const key in fields) {
      const value = fields[key]
      if (value === undefined) continue
      chars += key.length + (typeof value === 'string' ? value.length : value instanceof RawJson ? value.json.length : 24)
    }
  }
  if (FIXED_PART + chars * 6 <= maxBytes) return { message, fields }

  const parts = new Map<string, unknown>()
  parts.set('', message)
  if (fields !== null) for (const key in fields) if (fields[key] !== undefined) parts.set(key, fields[key])
  const sizes = new Map<string, number>()
  let total = FIXED_PART
  for (const [key, value] of parts) {
    const size = Buffer.byteLength(key) + 4 + serializedBytes(value)
    sizes.set(key, size)
    total += size
  }
  const settled = new Set<string>()
  for (let round = 0; total > maxBytes && round < parts.size * 3; round++) {
    let largest: string | undefined
    for (const [key, size] of sizes) if (!settled.has(key) && (largest === undefined || size > (sizes.get(largest) as number))) largest = key
    if (largest === undefined) break
    const size = sizes.get(largest) as number
    const shortened = shorten(parts.get(largest), size, Math.max(SHORTEST, size - (total - maxBytes)))
    if (shortened === undefined) {
      settled.add(largest)
      continue
    }
    const newSize = Buffer.byteLength(largest) + 4 + serializedBytes(shortened)
    total += newSize - size
    parts.set(largest, shortened)
    sizes.set(largest, newSize)
  }
  // Many small fields can still be too many: the last ones go, and the record says how many.
  const keys = [...parts.keys()].filter((key) => key !== '')
  let dropped = 0
  while (total > maxBytes && keys.length > 0) {
    const key = keys.pop() as string
    total -= sizes.get(key) as number
    parts.delete(key)
    dropped++
  }
  const capped: Record<string, unknown> = {}
  for (const [key, value] of parts) if (key !== '') capped[key] = value
  if (dropped > 0) capped.fields_truncated = `${dropped} more fields`
  return { message: parts.get('') as string, fields: fields === null ? null : capped }
}
