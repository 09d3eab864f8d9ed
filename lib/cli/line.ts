import { LEVEL_VALUES, normalizeLevel } from '../levels'
import { normalizeTimestamp } from './time'

/**
 * One line of a JSON file, classified. The plugin writes its records in a fixed layout (the eight
 * record keys first, in order, then the completion fields in order), so its lines are recognised
 * by that layout and only the bytes a command needs are read, without `JSON.parse`: that is
 * what makes `report` several times faster than parsing every line. A completion line is walked
 * key by key; of the plugin's other lines the first keys and the closing brace are checked, and
 * the reader looks for a second record inside (a torn write always breaks one of these). Any line
 * that does not fit the layout exactly goes through `JSON.parse`, and the tests check that both
 * ways give the same answer for every line the plugin can write.
 */

/** A record: a JSON object with a string `timestamp` (a date), `level` and `message`. */
export const RECORD = 0
/** A JSON value that is not such a record: a line from another program. */
export const FOREIGN = 1
/** Not JSON. */
export const MALFORMED = 2
export type LineKind = typeof RECORD | typeof FOREIGN | typeof MALFORMED

/**
 * What a completion line (one per request) says about its request. The one a LineView gives is
 * valid during the callback only (the view reuses it, and reads `requestId` and `path` from the
 * line when asked): copy what you keep.
 */
export interface Completion {
  /** `timestamp`, in the file's format (UTC, milliseconds). */
  readonly time: string
  readonly requestId: string | null
  readonly method: string
  /** The route pattern; null when no route matched. */
  readonly endpoint: string | null
  readonly path: string
  readonly status: number
  readonly ms: number
  readonly slow: boolean
  readonly level: number
}

export const PREFIX = Buffer.from('{"timestamp":"')
const STATUS_KEY = Buffer.from(',"status_code":')
const LEVEL_KEY = Buffer.from('","level":"')
const LOGGER_KEY = Buffer.from('","logger":"')
const API_MESSAGE = Buffer.from('api","message":"')
// The messages of the plugin's completion lines (docs/formats.md): one per request.
const COMPLETION_MESSAGES = ['API Response: ', 'API Error: ', 'API Request Aborted: ']
const COMPLETION_PREFIXES = COMPLETION_MESSAGES.map((message) => Buffer.from(message))
const REQUEST_ID_KEY = Buffer.from(',"request_id":')
// The trace fields that may follow the request id, each of a fixed length (docs/formats.md).
const TRACE_PARTS: ReadonlyArray<readonly [Buffer, number]> = [
  [Buffer.from(',"trace_id":"'), 32],
  [Buffer.from('","span_id":"'), 16],
  [Buffer.from('","trace_flags":"'), 2]
]
// What follows the message of every completion line the plugin writes, up to the line number.
const PLUGIN_ORIGIN = Buffer.from('","module":"plugin","function":"onResponseClosed","line":')
const METHOD_KEY = Buffer.from(',"method":"')
const PATH_KEY = Buffer.from(',"path":"')
const ENDPOINT_KEY = Buffer.from(',"endpoint":')
const TIME_KEY = Buffer.from(',"response_time_ms":')
const LENGTH_KEY = Buffer.from(',"content_length":')
const SLOW_KEY = Buffer.from(',"slow_request":')
const NULL = Buffer.from('null')
const TRUE = Buffer.from('true')
const FALSE = Buffer.from('false')

const QUOTE = 0x22
const BACKSLASH = 0x5c
const CLOSE = 0x7d
const TIMESTAMP_END = PREFIX.length + 24

// Most lines first.
const LABELS: ReadonlyArray<readonly [Buffer, number]> = [['INFO', 30], ['WARNING', 40], ['ERROR', 50], ['DEBUG', 20], ['CRITICAL', 60]]
  .map(([label, level]) => [Buffer.from(label as string), level as number] as const)

/** The level of a record as a number on pino's scale; 0 when it names none. */
export function levelNumber (value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : 0
  const name = normalizeLevel(value)
  return name === undefined || name === 'SILENT' ? 0 : LEVEL_VALUES[name]
}

// Byte loops rather than Buffer#compare or #indexOf: the patterns are short and near, and each
// call into a native Buffer method costs more than comparing the bytes here.
function bytesAt (buf: Buffer, at: number, end: number, bytes: Buffer): boolean {
  if (at + bytes.length > end) return false
  for (let i = 0; i < bytes.length; i++) if (buf[at + i] !== bytes[i]) return false
  return true
}

// `2025-01-14T10:30:15.123Z`
function isIsoAt (buf: Buffer, at: number): boolean {
  return buf[at + 4] === 0x2d && buf[at + 7] === 0x2d && buf[at + 10] === 0x54 && buf[at + 13] === 0x3a &&
    buf[at + 16] === 0x3a && buf[at + 19] === 0x2e && buf[at + 23] === 0x5a
}

// Where the JSON string whose content starts at `at` ends (its closing quote), or `end` when it
// does not (then the key expected after it is not found); `escaped`: it holds an escape.
let escaped = false
function stringEnd (buf: Buffer, at: number, end: number): number {
  escaped = false
  for (let i = at; i < end; i++) {
    const c = buf[i]
    if (c === QUOTE) return i
    if (c === BACKSLASH) {
      escaped = true
      i++
    }
  }
  return end
}

function isHexRun (buf: Buffer, at: number, length: number): boolean {
  for (let i = at; i < at + length; i++) {
    const c = buf[i]
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false
  }
  return true
}

// Past the trace fields after the request id: `at` itself when there are none, -1 when they are
// not in the plugin's layout (then JSON.parse reads the line).
function traceEnd (buf: Buffer, at: number, end: number): number {
  if (!bytesAt(buf, at, end, TRACE_PARTS[0][0])) return at
  let i = at
  for (const [key, length] of TRACE_PARTS) {
    if (!bytesAt(buf, i, end, key) || i + key.length + length >= end || !isHexRun(buf, i + key.length, length)) return -1
    i += key.length + length
  }
  return buf[i] === QUOTE ? i + 1 : -1
}

// A JSON string's content (between its quotes), escapes decoded.
function decodeString (buf: Buffer, at: number, close: number, withEscapes: boolean): string {
  return withEscapes ? JSON.parse(buf.toString('utf8', at - 1, close + 1)) as string : buf.toString('utf8', at, close)
}

// A JSON number starting at `at`: its value in `numberValue`, its end returned, -1 when it is none.
let numberValue = 0
function numberEnd (buf: Buffer, at: number, end: number): number {
  let i = at
  let whole = 0
  let digits = 0
  while (i < end && buf[i] >= 0x30 && buf[i] <= 0x39) {
    whole = whole * 10 + buf[i] - 0x30
    i++
    digits++
  }
  if (digits === 0 || (digits > 1 && buf[at] === 0x30)) return -1
  let scale = 1
  if (buf[i] === 0x2e) {
    i++
    const from = i
    while (i < end && buf[i] >= 0x30 && buf[i] <= 0x39) {
      whole = whole * 10 + buf[i] - 0x30
      scale *= 10
      i++
    }
    if (i === from) return -1
    digits += i - from
  }
  const next = buf[i]
  // Exponents, signs and numbers past double precision: left to JSON.parse.
  if (digits > 15 || next === 0x65 || next === 0x45 || buf[at] === 0x2d) return -1
  // Both integers are exact, so one division gives the double nearest to the decimal, as Number() does.
  numberValue = whole / scale
  return i
}

// A completion read by its layout: the strings a report rarely needs decoded only when read.
class LayoutCompletion implements Completion {
  time = ''
  method = ''
  endpoint: string | null = null
  status = 0
  ms = 0
  slow = false
  level = 0
  buf: Buffer = Buffer.alloc(0)
  idAt = -1
  idEnd = 0
  idEscaped = false
  pathAt = 0
  pathEnd = 0
  pathEscaped = false

  get requestId (): string | null {
    return this.idAt === -1 ? null : decodeString(this.buf, this.idAt, this.idEnd, this.idEscaped)
  }

  get path (): string {
    return decodeString(this.buf, this.pathAt, this.pathEnd, this.pathEscaped)
  }
}

/**
 * A reusable view of the current line. Commands read what they need (`level`, `time()`,
 * `completion`, `text()`, `object()`) inside the callback; the view changes with the next line.
 */
export class LineView {
  buf: Buffer = Buffer.alloc(0)
  start = 0
  end = 0
  kind: LineKind = MALFORMED
  /** pino's scale: 20 DEBUG, 30 INFO, 40 WARNING, 50 ERROR, 60 CRITICAL. */
  level = 0
  /** Set for the plugin's completion lines. */
  completion: Completion | null = null
  private timeText: string | null = null
  private parsed: Record<string, unknown> | null = null
  private readonly layout = new LayoutCompletion()

  /** The line as text. */
  text (): string {
    return this.buf.toString('utf8', this.start, this.end)
  }

  /** The timestamp in the file's format. */
  time (): string {
    // A parsed line has it already; a line read by its layout has it at a fixed place.
    if (this.timeText === null) this.timeText = this.buf.toString('latin1', this.start + PREFIX.length, this.start + TIMESTAMP_END)
    return this.timeText
  }

  /** The record, parsed. */
  object (): Record<string, unknown> {
    if (this.parsed === null) this.parsed = JSON.parse(this.text()) as Record<string, unknown>
    return this.parsed
  }

  /**
   * Classifies `buf[start, end)`. `glued`: it contains a second `{"timestamp":"` (a torn line
   * glued to the next one, or a body that happens to start with that key), which the reader finds
   * in one pass over each chunk.
   */
  classify (buf: Buffer, start: number, end: number, glued: boolean): LineKind {
    this.buf = buf
    this.start = start
    this.end = end
    this.completion = null
    this.timeText = null
    this.parsed = null
    if (!glued && this.classifyFast()) return this.kind
    return this.classifyParsed()
  }

  /** Classifies a line on its own (the reader's hints computed here). */
  classifyLine (buf: Buffer, start: number, end: number): LineKind {
    return this.classify(buf, start, end, buf.subarray(start, end).indexOf(PREFIX, 1) !== -1)
  }

  private classifyFast (): boolean {
    const { buf, start, end } = this
    if (end - start < TIMESTAMP_END + 40 || buf[end - 1] !== CLOSE || !bytesAt(buf, start, end, PREFIX) ||
      !isIsoAt(buf, start + PREFIX.length) || !bytesAt(buf, start + TIMESTAMP_END, end, LEVEL_KEY)) return false
    const labelAt = start + TIMESTAMP_END + LEVEL_KEY.length
    let level = 0
    let at = 0
    for (const [label, value] of LABELS) {
      if (bytesAt(buf, labelAt, end, label) && buf[labelAt + label.length] === QUOTE) {
        level = value
        at = labelAt + label.length
        break
      }
    }
    if (level === 0 || !bytesAt(buf, at, end, LOGGER_KEY)) return false
    this.level = level
    this.kind = RECORD
    // Only the plugin's own completion lines (logger `api`, their messages) describe a request.
    at += LOGGER_KEY.length
    if (!bytesAt(buf, at, end, API_MESSAGE)) return true
    at += API_MESSAGE.length
    for (const prefix of COMPLETION_PREFIXES) if (bytesAt(buf, at, end, prefix)) return this.completionFast(at + prefix.length)
    return true
  }

  // Inside a JSON string every `"` is escaped, so a key pattern that starts with `,"` can only be
  // found where the line's structure has it: after the message, the rest of a completion line is
  // walked key by key, in the order the plugin writes them.
  private completionFast (messageAt: number): boolean {
    const { buf, end } = this
    // module, function, line: three keys to step over (in one compare when they are the plugin's).
    const messageEnd = stringEnd(buf, messageAt, end)
    let at = messageEnd + 1
    if (bytesAt(buf, messageEnd, end, PLUGIN_ORIGIN)) {
      at = numberEnd(buf, messageEnd + PLUGIN_ORIGIN.length, end)
    } else {
      for (let key = 0; key < 3 && at !== -1; key++) at = nextKey(buf, at, end)
    }
    if (at === -1) return false
    if (!bytesAt(buf, at, end, REQUEST_ID_KEY)) return false
    at += REQUEST_ID_KEY.length
    const c = this.layout
    c.idAt = -1
    if (buf[at] === QUOTE) {
      const close = stringEnd(buf, at + 1, end)
      c.idAt = at + 1
      c.idEnd = close
      c.idEscaped = escaped
      at = traceEnd(buf, close + 1, end)
      if (at === -1 || !bytesAt(buf, at, end, METHOD_KEY)) return false
    } else if (bytesAt(buf, at, end, NULL)) {
      at += NULL.length
    } else {
      return false
    }
    if (!bytesAt(buf, at, end, METHOD_KEY)) return false
    at += METHOD_KEY.length
    const methodEnd = stringEnd(buf, at, end)
    if (escaped || !bytesAt(buf, methodEnd + 1, end, PATH_KEY)) return false
    const method = methodName(buf, at, methodEnd)
    at = methodEnd + 1 + PATH_KEY.length
    const pathEnd = stringEnd(buf, at, end)
    if (!bytesAt(buf, pathEnd + 1, end, ENDPOINT_KEY)) return false
    c.pathAt = at
    c.pathEnd = pathEnd
    c.pathEscaped = escaped
    at = pathEnd + 1 + ENDPOINT_KEY.length
    let endpoint: string | null = null
    if (buf[at] === QUOTE) {
      const close = stringEnd(buf, at + 1, end)
      if (!bytesAt(buf, close + 1, end, STATUS_KEY)) return false
      endpoint = decodeString(buf, at + 1, close, escaped)
      at = close + 1
    } else if (bytesAt(buf, at, end, NULL)) {
      at += NULL.length
    } else {
      return false
    }
    if (!bytesAt(buf, at, end, STATUS_KEY)) return false
    at = numberEnd(buf, at + STATUS_KEY.length, end)
    if (at === -1 || !Number.isInteger(numberValue)) return false
    const status = numberValue
    if (!bytesAt(buf, at, end, TIME_KEY)) return false
    at = numberEnd(buf, at + TIME_KEY.length, end)
    if (at === -1) return false
    const ms = numberValue
    if (!bytesAt(buf, at, end, LENGTH_KEY)) return false
    at += LENGTH_KEY.length
    at = bytesAt(buf, at, end, NULL) ? at + NULL.length : numberEnd(buf, at, end)
    if (at === -1 || !bytesAt(buf, at, end, SLOW_KEY)) return false
    at += SLOW_KEY.length
    let slow: boolean
    if (bytesAt(buf, at, end, TRUE)) slow = true
    else if (bytesAt(buf, at, end, FALSE)) slow = false
    else return false
    c.buf = buf
    c.time = this.time()
    c.method = method
    c.endpoint = endpoint
    c.status = status
    c.ms = ms
    c.slow = slow
    c.level = this.level
    this.completion = c
    return true
  }

  private classifyParsed (): LineKind {
    this.completion = null
    let value: unknown
    try {
      value = JSON.parse(this.text())
    } catch {
      this.kind = MALFORMED
      return MALFORMED
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.kind = FOREIGN
      return FOREIGN
    }
    const record = value as Record<string, unknown>
    const time = normalizeTimestamp(record.timestamp)
    const level = levelNumber(record.level)
    if (time === null || level === 0 || typeof record.message !== 'string') {
      this.kind = FOREIGN
      return FOREIGN
    }
    this.parsed = record
    this.timeText = time
    this.level = level
    this.kind = RECORD
    this.completion = completionOf(record, time, level)
    return RECORD
  }
}

/** The completion facts of a parsed record, or null when it is not a completion line. */
export function completionOf (record: Record<string, unknown>, time: string, level: number): Completion | null {
  if (record.logger !== 'api' || typeof record.status_code !== 'number' || typeof record.response_time_ms !== 'number' || typeof record.method !== 'string' ||
    !COMPLETION_MESSAGES.some((message) => (record.message as string).startsWith(message))) return null
  return {
    time,
    requestId: typeof record.request_id === 'string' ? record.request_id : null,
    method: record.method,
    endpoint: typeof record.endpoint === 'string' ? record.endpoint : null,
    path: typeof record.path === 'string' ? record.path : '',
    status: record.status_code,
    ms: record.response_time_ms,
    slow: record.slow_request === true,
    level
  }
}

// From the end of a value, past `,"key":` and its value (a string or a number): the start of the
// next key, or -1 when the layout is not the one expected.
function nextKey (buf: Buffer, at: number, end: number): number {
  if (buf[at] !== 0x2c || buf[at + 1] !== QUOTE) return -1
  const keyEnd = stringEnd(buf, at + 2, end)
  if (buf[keyEnd + 1] !== 0x3a) return -1
  const value = keyEnd + 2
  // An unterminated string ends at `end`, where no key follows.
  return buf[value] === QUOTE ? stringEnd(buf, value + 1, end) + 1 : numberEnd(buf, value, end)
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'].map((name) => [name, Buffer.from(name)] as const)

// The usual methods without a new string per line.
function methodName (buf: Buffer, at: number, end: number): string {
  for (const [name, bytes] of METHODS) if (bytes.length === end - at && bytesAt(buf, at, end, bytes)) return name
  return buf.toString('latin1', at, end)
}
