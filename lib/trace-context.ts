import { randomFillSync } from 'node:crypto'

/**
 * The trace a request's lines belong to, built once per request: the ids as OpenTelemetry's
 * "Trace Context in non-OTLP Log Formats" names them (lowercase hex; `trace_flags` as the W3C
 * two-digit hex byte), and the strings the formats write, made here so a line costs no more
 * than a concatenation.
 */
export class TraceContext {
  /** 32 lowercase hex digits. */
  readonly traceId: string
  /** 16 lowercase hex digits: the span the request's lines are recorded in (this service's span of the request). */
  readonly spanId: string
  /** 2 lowercase hex digits, as in `traceparent`. */
  readonly traceFlags: string
  /** The span that called this service (the incoming `traceparent`'s parent id), when known. */
  readonly parentSpanId: string | null
  /** `,"trace_id":"…","span_id":"…","trace_flags":"01"`, as the JSON format writes it after `request_id`. */
  readonly json: string
  /** ` trace_id=… span_id=…`, as the text format writes it after `request_id`. */
  readonly text: string
  #pinoJson: string | null = null

  constructor (traceId: string, spanId: string, traceFlags: string, parentSpanId: string | null) {
    this.traceId = traceId
    this.spanId = spanId
    this.traceFlags = traceFlags
    this.parentSpanId = parentSpanId
    this.json = ',"trace_id":"' + traceId + '","span_id":"' + spanId + '","trace_flags":"' + traceFlags + '"'
    this.text = ' trace_id=' + traceId + ' span_id=' + spanId
  }

  /** The JSON form with `trace_flags` as a number (`,"trace_flags":1`), as pino transports hand it to OpenTelemetry. */
  get pinoJson (): string {
    this.#pinoJson ??= ',"trace_id":"' + this.traceId + '","span_id":"' + this.spanId + '","trace_flags":' + parseInt(this.traceFlags, 16)
    return this.#pinoJson
  }

  /** A `traceparent` value for a call made from this span: version 00, this trace and its flags, a new span id each time. */
  outgoingTraceparent (): string {
    return '00-' + this.traceId + '-' + newSpanId() + '-' + this.traceFlags
  }
}

/** What a valid `traceparent` header says. */
export interface Traceparent {
  readonly version: string
  readonly traceId: string
  readonly parentId: string
  readonly traceFlags: string
}

// Version 00 is exactly these 55 characters; a later version starts with the same fields.
const TRACEPARENT_LENGTH = 55
const LOWER_HEX = /^[0-9a-f]*$/
const OWS = /^[ \t]|[ \t]$/
const OWS_EDGES = /^[ \t]+|[ \t]+$/g
const ZERO_TRACE_ID = '0'.repeat(32)
const ZERO_SPAN_ID = '0'.repeat(16)

function isLowerHex (text: string): boolean {
  return LOWER_HEX.test(text)
}

/**
 * A `traceparent` header value read as W3C Trace Context says: `version-traceid-parentid-flags`
 * in lowercase hex. Version `ff` is invalid; version `00` is exactly 55 characters; a later
 * version is read for the fields `00` defines and the rest ignored (at least 55 characters, and
 * a `-` right after the flags when there is more). Anything else (uppercase, other separators,
 * all-zero ids, a header sent twice) is `null`: the header is ignored, as the spec asks.
 */
export function parseTraceparent (value: unknown): Traceparent | null {
  if (typeof value !== 'string') return null
  // HTTP allows optional whitespace (spaces, tabs) around a field value; Node's parser strips it,
  // other callers may not.
  const text = OWS.test(value) ? value.replace(OWS_EDGES, '') : value
  if (text.length < TRACEPARENT_LENGTH) return null
  const version = text.slice(0, 2)
  if (!isLowerHex(version) || version === 'ff') return null
  if (version === '00' ? text.length !== TRACEPARENT_LENGTH : text.length > TRACEPARENT_LENGTH && text[TRACEPARENT_LENGTH] !== '-') return null
  if (text[2] !== '-' || text[35] !== '-' || text[52] !== '-') return null
  const traceId = text.slice(3, 35)
  const parentId = text.slice(36, 52)
  const traceFlags = text.slice(53, 55)
  if (!isLowerHex(traceId) || !isLowerHex(parentId) || !isLowerHex(traceFlags)) return null
  if (traceId === ZERO_TRACE_ID || parentId === ZERO_SPAN_ID) return null
  return { version, traceId, parentId, traceFlags }
}

// Span ids come from a pool of random bytes, refilled when used up: one randomBytes(8) call per
// id cost about 3 µs per traced request here, the pool about a tenth of that.
const POOL_SIZE = 8 * 512
const pool = Buffer.alloc(POOL_SIZE)
let poolAt = POOL_SIZE

/** A random span id: 16 lowercase hex digits, never all zeros. */
export function newSpanId (): string {
  let id: string
  do {
    if (poolAt === POOL_SIZE) {
      randomFillSync(pool)
      poolAt = 0
    }
    id = pool.toString('hex', poolAt, poolAt + 8)
    poolAt += 8
  } while (id === ZERO_SPAN_ID)
  return id
}

/**
 * The trace of a request that came with a valid `traceparent` and no OpenTelemetry span: the
 * request is a new span of that trace (its id generated here), whose parent is the caller's span.
 * That is what lets the caller's outgoing span id and this service's lines be joined, and what
 * this service's own outgoing calls name as their parent's trace.
 */
export function traceFromHeader (value: unknown): TraceContext | null {
  const parent = parseTraceparent(value)
  return parent === null ? null : new TraceContext(parent.traceId, newSpanId(), parent.traceFlags, parent.parentId)
}

/** The two-digit hex form of a flags byte (OpenTelemetry keeps them as a number). */
export function flagsHex (flags: number): string {
  return (flags & 0xff).toString(16).padStart(2, '0')
}
