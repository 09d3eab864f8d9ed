import { format } from 'node:util'
import { stringifyJson } from '../format/escape'
import { RECORD_KEYS, RawJson, type LogRecord, type Origin } from '../record'
import { capRecord } from '../record-cap'
import { errorType, type Redactor } from '../redact'
import type { RequestScope } from '../context'
import type { LogTarget } from '../registry'
import type { TraceContext } from '../trace-context'

const MAX_MESSAGE = 8192

/** A serializer of one context field, as in pino's `serializers` option. */
export type Serializer = (value: any) => unknown

/** What a pino-style logger adds to each of its calls; none of it for `request.log`. */
export interface CallExtras {
  /** The logger's bindings (`child({...})`), already serialized. */
  readonly bindings: Readonly<Record<string, unknown>> | null
  readonly serializers: Readonly<Record<string | symbol, Serializer>> | null
  readonly mixin: ((mergeObject: object, level: number, logger: unknown) => object) | null
  readonly mixinMergeStrategy: ((mergeObject: object, mixinObject: object) => object) | null
  readonly msgPrefix: string | undefined
  /** The logger itself, the third argument of `mixin`. */
  readonly logger: unknown
}

// pino's wildcard serializer key: applied to every field after its own serializer.
const WILDCARD = Symbol.for('pino.*')

/**
 * Turns a pino-style call (`(msg, ...args)`, `(obj, msg?, ...args)`, `(err, msg?)`) into one
 * record for `target`: the message formatted, the context redacted and capped, an error turned
 * into the exception fields. This is the job of pino's own `tools.js`; pino never serializes
 * these calls, our formats do. `trace`: the trace of the request `requestId` names, if any.
 */
export function recordFromCall (target: LogTarget, level: number, logger: string, requestId: string | null, trace: TraceContext | null,
  extras: CallExtras | null, args: unknown[], origin: Origin, scope?: RequestScope): LogRecord {
  const first = args[0]
  let object: Record<string, unknown> | null = null
  let error: Error | null = null
  let rest = 0
  if (first !== null && typeof first === 'object') {
    rest = 1
    if (first instanceof Error) error = first
    else {
      object = first as Record<string, unknown>
      const err = object.err
      if (err instanceof Error) error = err
    }
  }
  const redactor = target.redactor
  let message: string
  let template = args[rest]
  if (template !== undefined && template !== null && extras?.msgPrefix !== undefined) template = extras.msgPrefix + String(template)
  if (template === undefined) {
    const msg = object?.msg
    message = typeof msg === 'string' ? msg : error !== null ? safeMessage(error) : ''
  } else if (args.length > rest + 1) {
    // Objects are redacted before util.format inspects them into the message (`%s`, `%o`, extra args).
    message = format(template, ...args.slice(rest + 1).map((arg) => arg !== null && typeof arg === 'object' ? redactor.redact(arg) : arg))
  } else {
    message = typeof template === 'string' ? template : format(template)
  }

  let merged: Record<string, unknown> | null = null
  if (extras !== null) {
    if (extras.bindings !== null) merged = { ...extras.bindings }
    if (extras.mixin !== null) {
      const own = object ?? {}
      const mixed = extras.mixinMergeStrategy !== null
        ? extras.mixinMergeStrategy(own, extras.mixin(own, level, extras.logger))
        : { ...extras.mixin(own, level, extras.logger), ...own }
      object = mixed as Record<string, unknown>
    }
  }
  if (object !== null) {
    merged ??= {}
    const serializers = extras?.serializers ?? null
    for (const key of Object.keys(object)) {
      if ((key === 'err' && error !== null) || (key === 'msg' && template === undefined)) continue
      merged[key] = serializers === null ? object[key] : serialize(serializers, key, object[key])
    }
  }
  if (error !== null) {
    merged ??= {}
    merged.exception_type = errorType(error)
    merged.exception_message = safeMessage(error)
    merged.exception = safeStack(error)
    // The request's completion line names this line instead of writing the same stack again.
    if (scope !== undefined) scope.noteStack(error, logger)
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' || typeof code === 'number') merged.exception_code = code
    const cause = (error as { cause?: unknown }).cause
    if (cause !== undefined) merged.exception_cause = cause
  }
  let [fields, boundId] = toFields(merged, redactor)
  // Inside a request its id wins; a different explicit `request_id` is kept, not lost.
  if (requestId !== null && boundId !== null && boundId !== requestId) {
    fields = { ...fields, field_request_id: boundId }
    boundId = null
  }
  const capped = capRecord(redactor.redactAndTruncate(message, MAX_MESSAGE), fields, target.maxRecordBytes)
  return {
    time: target.now(),
    level,
    logger,
    message: capped.message,
    origin,
    requestId: requestId ?? boundId,
    // A trace belongs to the request it was found for; an id bound by hand outside a request has none.
    trace: requestId === null ? null : trace,
    fields: capped.fields
  }
}

/** A value through its serializer and pino's wildcard serializer, as pino applies them. */
export function serialize (serializers: Readonly<Record<string | symbol, Serializer>>, key: string, value: unknown): unknown {
  const own = serializers[key]
  let out = own === undefined ? value : own(value)
  const wildcard = serializers[WILDCARD]
  if (wildcard !== undefined) out = wildcard(out)
  return out
}

// Context fields are redacted as one object; a key that would collide with the record's own keys
// is renamed, and an explicit string `request_id` is honoured outside a request.
function toFields (merged: Record<string, unknown> | null, redactor: Redactor): [Record<string, unknown> | null, string | null] {
  if (merged === null) return [null, null]
  const safe = redactor.redact(merged) as Record<string, unknown>
  let fields: Record<string, unknown> | null = null
  let boundId: string | null = null
  for (const key of Object.keys(safe)) {
    const value = safe[key]
    if (value === undefined) continue
    fields ??= {}
    // Objects are serialized once here, for every sink, and measured for the record cap.
    const item = value !== null && typeof value === 'object' && !(value instanceof Date) ? new RawJson(stringifyJson(value)) : value
    if (!RECORD_KEYS.has(key)) fields[key] = item
    else if (key === 'request_id' && typeof value === 'string') boundId = value
    else fields[`field_${key}`] = item
  }
  return [fields, boundId]
}

export function safeMessage (error: Error): string {
  try {
    return String(error.message)
  } catch {
    return '[unreadable message]'
  }
}

function safeStack (error: Error): string {
  try {
    return String(error.stack ?? `${errorType(error)}: ${safeMessage(error)}`)
  } catch {
    return '[unreadable stack]'
  }
}
