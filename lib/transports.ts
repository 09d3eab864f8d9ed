import { ACCEPTED_LEVELS, normalizeLevel, type LevelInput } from './levels'
import type { TransportTarget } from './sinks/transport'

/** One pino transport, as the `transports` option and `LOG_TRANSPORTS` take it. */
export interface TransportOptions {
  /**
   * The transport: a package name (`pino-socket`), an absolute path or a `file:` URL, resolved
   * from the working directory first, then from beside this package.
   */
  target: string
  /** What the transport's own function is given, as with `pino.transport()`; structured-clonable (it crosses into a worker thread). */
  options?: Record<string, unknown>
  /**
   * Lowest level sent to this transport; lines below the registration's own level never reach it.
   * @defaultValue the registration's level
   */
  level?: LevelInput
  /**
   * `pino`: pino's line form, which transports expect (numeric `level`, `time` in epoch ms,
   * `msg`); `json`: the line of api_structured.jsonl as it is.
   * @defaultValue 'pino'
   */
  format?: 'pino' | 'json'
}

/** What `LOG_TRANSPORTS` allows, for the configuration error. */
export const TRANSPORTS_ALLOWED = 'a JSON array of { "target": "<package or path>", "options": { ... }, "level": "<level>", "format": "pino" | "json" } objects ' +
  `(target required; level one of ${ACCEPTED_LEVELS})`

const TARGET_KEYS: ReadonlySet<string> = new Set(['target', 'options', 'level', 'format'])

/**
 * An entry's keys that a transport does not have, as a message; null when there are none. Checked
 * before validation: the schema's `additionalProperties: false` would only have them removed
 * (env-schema's Ajv removes additional properties).
 */
export function unknownTransportKeys (entries: unknown): string | null {
  if (!Array.isArray(entries)) return null
  for (const [index, entry] of entries.entries()) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) continue
    const unknown = Object.keys(entry).filter((key) => !TARGET_KEYS.has(key))
    const target = (entry as { target?: unknown }).target
    if (unknown.length > 0) return `entry ${index}${typeof target === 'string' ? ` (${target})` : ''} has ${unknown.map((key) => JSON.stringify(key)).join(', ')}, not a key of a transport`
  }
  return null
}

/**
 * The entries as the sinks take them, their levels named canonically (none: no level of its own);
 * a string saying which entry is wrong otherwise.
 */
export function resolveTransports (entries: readonly TransportOptions[]): readonly TransportTarget[] | string {
  const targets: TransportTarget[] = []
  for (const [index, entry] of entries.entries()) {
    const target: TransportTarget = { target: entry.target, options: Object.freeze({ ...entry.options }), format: entry.format ?? 'pino' }
    if (entry.level !== undefined) {
      const level = normalizeLevel(entry.level)
      if (level === undefined) return `entry ${index} (${entry.target}) has level ${JSON.stringify(entry.level)}`
      target.level = level
    }
    targets.push(Object.freeze(target))
  }
  return Object.freeze(targets)
}
