import { format } from 'node:util'
import { performance } from 'node:perf_hooks'
import pino from 'pino'
import type { FastifyBaseLogger } from 'fastify'
import { requestStorage, type RequestScope } from './context'
import { formatConsoleLine } from './format/text'
import { CRITICAL, DEBUG, ERROR, INFO, TRACE, WARNING } from './levels'
import { FRAMEWORK_ORIGIN, callerOrigin } from './origin'
import { RECORD_KEYS, RawJson, capRecord, type LogRecord, type Origin } from './record'
import { stringifyJson } from './format/escape'
import { defaultRedactor, errorType, type Redactor } from './redact'
import type { LogOutput } from './sinks'

/** The logger name of `request.log` lines. */
export const REQUEST_LOGGER = 'app'
/** The logger name of `logApiCall` lines. */
export const API_CALL_LOGGER = 'api_call'

const MAX_MESSAGE = 8192
const MAX_LOGGER_NAME = 128
const DEFAULT_MAX_RECORD = 16384

const kOutput = Symbol('fastify-api-logging.output')
const kRequestId = Symbol('fastify-api-logging.requestId')
const kLoggerName = Symbol('fastify-api-logging.loggerName')

// The most recently registered plugin instance that is still open receives lines logged outside
// any request (background jobs, start-up code).
const openOutputs: LogOutput[] = []

export function activateOutput (output: LogOutput): void {
  openOutputs.push(output)
  const name = pinoLevelOf(output.minLevel)
  root.level = name
  for (const logger of namedLoggers.values()) logger.level = name
}

export function deactivateOutput (output: LogOutput): void {
  const index = openOutputs.lastIndexOf(output)
  if (index !== -1) openOutputs.splice(index, 1)
}

function activeOutput (): LogOutput | null {
  return openOutputs.length > 0 ? openOutputs[openOutputs.length - 1] : null
}

function pinoLevelOf (minLevel: number): string {
  if (minLevel === Infinity) return 'silent'
  return pino.levels.labels[minLevel] ?? 'info'
}

/**
 * Turns a pino-style call (`(msg, ...args)`, `(obj, msg?, ...args)`, `(err, msg?)`) into one
 * record and hands it to the output, or to stderr when no plugin instance is open.
 */
export function emitCall (output: LogOutput | null, level: number, logger: string, requestId: string | null,
  bindings: Record<string, unknown> | null, args: unknown[], origin: Origin): void {
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
  const redactor = output !== null ? output.redactor : defaultRedactor
  let message: string
  const template = args[rest]
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
  if (bindings !== null) merged = { ...bindings }
  if (object !== null) {
    merged ??= {}
    for (const key of Object.keys(object)) {
      if ((key === 'err' && error !== null) || (key === 'msg' && template === undefined)) continue
      merged[key] = object[key]
    }
  }
  if (error !== null) {
    merged ??= {}
    merged.exception_type = errorType(error)
    merged.exception_message = safeMessage(error)
    merged.exception = safeStack(error)
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
  const capped = capRecord(redactor.redactAndTruncate(message, MAX_MESSAGE), fields, output !== null ? output.maxRecordBytes : DEFAULT_MAX_RECORD)
  const record: LogRecord = {
    time: output !== null ? output.now() : Date.now(),
    level,
    logger,
    message: capped.message,
    origin,
    requestId: requestId ?? boundId,
    fields: capped.fields
  }
  if (output !== null) output.emit(record)
  else writeToStderr(record)
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
    // Objects are serialised once here, for every sink, and measured for the record cap.
    const item = value !== null && typeof value === 'object' && !(value instanceof Date) ? new RawJson(stringifyJson(value)) : value
    if (!RECORD_KEYS.has(key)) fields[key] = item
    else if (key === 'request_id' && typeof value === 'string') boundId = value
    else fields[`field_${key}`] = item
  }
  return [fields, boundId]
}

function safeMessage (error: Error): string {
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

function writeToStderr (record: LogRecord): void {
  try {
    process.stderr.write(formatConsoleLine(record, false))
  } catch {
    // stderr closed: there is nowhere left to report to.
  }
}

// pino gives users the API they know (child, level, bindings, isLevelEnabled); its logMethod
// hook takes the call's arguments before pino serialises anything, and our sinks format them.
function logMethod (this: pino.Logger, args: unknown[], _method: unknown, level: number): void {
  const self = this as unknown as Record<symbol, unknown>
  const scope = requestStorage.getStore()
  const output = (self[kOutput] as LogOutput | undefined) ?? scope?.output ?? activeOutput()
  if (output !== null && level < output.minLevel) return
  const requestId = (self[kRequestId] as string | undefined) ?? scope?.id ?? null
  emitCall(output, level, (self[kLoggerName] as string | undefined) ?? REQUEST_LOGGER, requestId, bindingsOf(this), args, callerOrigin())
}

const nowhere = { write (): void {} }
const root = pino({ level: 'info', base: null, timestamp: false, hooks: { logMethod } }, nowhere)

const bindingCache = new Map<string, Record<string, unknown> | null>()

function bindingsOf (logger: pino.Logger): Record<string, unknown> | null {
  const chindings = (logger as unknown as Record<symbol, unknown>)[pino.symbols.chindingsSym]
  if (typeof chindings !== 'string' || chindings.length === 0) return null
  let bindings = bindingCache.get(chindings)
  if (bindings === undefined) {
    try {
      bindings = JSON.parse('{' + chindings.slice(1) + '}') as Record<string, unknown>
    } catch {
      bindings = null
    }
    if (bindingCache.size >= 1000) bindingCache.clear()
    bindingCache.set(chindings, bindings)
  }
  return bindings
}

const namedLoggers = new Map<string, pino.Logger>()

/**
 * A logger for application code. Its lines carry `logger: name` and, inside a request, that
 * request's `request_id`, with nothing passed; they go to the sinks of the open plugin instance.
 * It is a pino logger: `child`, `level`, `isLevelEnabled` work as usual.
 */
export function getLogger (name: string): pino.Logger {
  let logger = namedLoggers.get(name)
  if (logger === undefined) {
    logger = root.child({})
    ;(logger as unknown as Record<symbol, unknown>)[kLoggerName] = String(name).slice(0, MAX_LOGGER_NAME)
    namedLoggers.set(name, logger)
  }
  return logger
}

function emitOwn (level: number, message: string, fields: Record<string, unknown>, origin: Origin): void {
  const scope = requestStorage.getStore()
  const output = scope?.output ?? activeOutput()
  if (output !== null && level < output.minLevel) return
  emitCall(output, level, API_CALL_LOGGER, scope?.id ?? null, null, [fields, message], origin)
}

/**
 * Runs `fn` (sync or async) and logs its start, its completion with `duration_ms`, or its
 * failure with the exception, under the current request id. Returns or rethrows what `fn` does.
 */
export function logApiCall<T> (name: string, fn: () => T): T {
  const origin = callerOrigin()
  const started = performance.now()
  emitOwn(INFO, `API call started: ${name}`, { operation: name }, origin)
  const completed = (): void => {
    const duration = Math.round((performance.now() - started) * 100) / 100
    emitOwn(INFO, `API call completed: ${name} (${duration}ms)`, { operation: name, duration_ms: duration }, origin)
  }
  const failed = (err: unknown): void => {
    const duration = Math.round((performance.now() - started) * 100) / 100
    const reason = err instanceof Error ? safeMessage(err) : String(err)
    emitOwn(ERROR, `API call failed: ${name} - ${reason}`, { operation: name, duration_ms: duration, err: err instanceof Error ? err : undefined }, origin)
  }
  let result: T
  try {
    result = fn()
  } catch (err) {
    failed(err)
    throw err
  }
  if (isPromiseLike(result)) {
    return result.then((value) => {
      completed()
      return value
    }, (err: unknown) => {
      failed(err)
      throw err
    }) as T
  }
  completed()
  return result
}

function isPromiseLike (value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function'
}

/**
 * `request.log` for one request. It writes straight to the sinks with the request's id; a pino
 * child logger is created only if the handler asks for `child()`, because a child per request
 * costs more than the request's own lines.
 */
export class RequestLogger implements FastifyBaseLogger, RequestScope {
  readonly id: string
  readonly output: LogOutput
  private minLevel: number

  constructor (id: string, output: LogOutput) {
    this.id = id
    this.output = output
    this.minLevel = output.minLevel
  }

  get level (): string {
    return pinoLevelOf(this.minLevel)
  }

  set level (name: string) {
    const value = name === 'silent' ? Infinity : pino.levels.values[name]
    if (value === undefined) throw new Error(`unknown level ${name}`)
    this.minLevel = Math.max(value, this.output.minLevel)
  }

  isLevelEnabled (name: string): boolean {
    const value = pino.levels.values[name]
    return value !== undefined && value >= this.minLevel
  }

  trace (...args: unknown[]): void { this.log(TRACE, args) }
  debug (...args: unknown[]): void { this.log(DEBUG, args) }
  info (...args: unknown[]): void { this.log(INFO, args) }
  warn (...args: unknown[]): void { this.log(WARNING, args) }
  error (...args: unknown[]): void { this.log(ERROR, args) }
  fatal (...args: unknown[]): void { this.log(CRITICAL, args) }
  silent (): void {}

  child (bindings: pino.Bindings, options?: pino.ChildLoggerOptions): FastifyBaseLogger {
    const child = root.child(bindings, options)
    const own = child as unknown as Record<symbol, unknown>
    own[kOutput] = this.output
    own[kRequestId] = this.id
    own[kLoggerName] = REQUEST_LOGGER
    child.level = pinoLevelOf(this.minLevel)
    return child
  }

  private log (level: number, args: unknown[]): void {
    if (level < this.minLevel) return
    const origin = callerOrigin()
    if (origin === FRAMEWORK_ORIGIN) return
    emitCall(this.output, level, REQUEST_LOGGER, this.id, null, args, origin)
  }
}

