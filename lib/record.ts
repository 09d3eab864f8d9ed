import type { TraceContext } from './trace-context'

/** Where a line was logged from: the `module`, `function` and `line` fields of every record. */
export interface Origin {
  readonly module: string
  readonly function: string
  readonly line: number
  /** The same, as the JSON format writes it, when it is worth keeping (origins that never change). */
  readonly json?: string
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
  /** The trace of the line's request (`trace_id`, `span_id`, `trace_flags`), one object per request; null without one. */
  readonly trace: TraceContext | null
  readonly fields: Readonly<Record<string, unknown>> | null
}

/** Top-level keys of a JSON line; a context field of the same name is written as `field_<name>`. */
export const RECORD_KEYS: ReadonlySet<string> = new Set(['timestamp', 'level', 'logger', 'message', 'module', 'function', 'line', 'request_id', 'trace_id', 'span_id', 'trace_flags'])

/** The logger name of the plugin's own request lines. */
export const PLUGIN_LOGGER = 'api'

/**
 * A value already serialized to JSON (and escaped for line-based tools), written as it is by
 * every sink: an object is serialized once per record, not once per sink.
 */
export class RawJson {
  readonly json: string
  constructor (json: string) {
    this.json = json
  }
}
