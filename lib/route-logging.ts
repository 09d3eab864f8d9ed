import type { ApiLoggingInstance } from './instance'
import type { LogRecord } from './record'
import type { Redactor } from './redact'
import type { LogTarget } from './registry'
import { RequestLines, type ExtraFieldsHook } from './request-lines'
import type { RouteOverrides } from './route-settings'

/** How the requests of one route are logged; resolved once per route, read once per request. */
export interface RouteLogging {
  /** `config.apiLogging: false`: no request lines (the request id header stays). */
  readonly off: boolean
  /** Where the route's lines go: the registration itself, or a view of it with the route's level and redaction. */
  readonly target: LogTarget
  readonly lines: RequestLines
  /** LOG_SAMPLE_RATE, or the route's own `sampleRate`. */
  readonly sampleRate: number
}

/**
 * A registration as one route with its own `level` or `redactKeys` sees it. Without a `level`
 * it follows the registration's, `setLevel` included.
 */
export class RouteTarget implements LogTarget {
  readonly registration: ApiLoggingInstance
  readonly redactor: Redactor
  readonly #level: number | undefined

  constructor (registration: ApiLoggingInstance, redactor: Redactor, level: number | undefined) {
    this.registration = registration
    this.redactor = redactor
    this.#level = level
  }

  get minLevel (): number {
    const registration = this.registration
    return this.#level === undefined || registration.output.isEmpty ? registration.minLevel : this.#level
  }

  get maxRecordBytes (): number {
    return this.registration.maxRecordBytes
  }

  now (): number {
    return this.registration.now()
  }

  emit (record: LogRecord): void {
    if (record.level >= this.minLevel) this.registration.write(record)
  }
}

function emitForRequest (record: LogRecord, state: { readonly target: LogTarget }): void {
  state.target.emit(record)
}

/**
 * The logging of a route: the registration's settings with the route's overrides applied.
 * `extraFields`: the register option, one for every route.
 */
export function routeLogging (instance: ApiLoggingInstance, overrides: RouteOverrides | false | null, extraFields: ExtraFieldsHook | null = null, monotonic?: () => number): RouteLogging {
  const config = instance.config
  const own = overrides === false || overrides === null ? {} : overrides
  let target: LogTarget = instance
  if (own.minLevel !== undefined || own.redactKeys !== undefined) {
    target = new RouteTarget(instance, own.redactKeys === undefined ? instance.redactor : instance.redactorWith(own.redactKeys), own.minLevel)
    if (own.minLevel !== undefined) instance.addRouteLevel(own.minLevel)
  }
  const lineTarget = target
  const lines = new RequestLines({
    redactor: target.redactor,
    get minLevel () { return lineTarget.minLevel },
    slowRequestThresholdMs: own.slowRequestThresholdMs ?? config.slowRequestThresholdMs,
    logRequestStart: config.logRequestStart,
    logRequestBody: own.logRequestBody ?? config.logRequestBody,
    logResponseBody: own.logResponseBody ?? config.logResponseBody,
    logHeaders: config.logHeaders,
    // The route's own list, else LOG_REQUEST_HEADERS.
    requestHeaders: own.headers ?? config.logRequestHeaders,
    extraFields,
    bodyMaxBytes: config.bodyMaxBytes,
    maxRecordBytes: config.maxRecordBytes,
    excludePaths: config.excludePaths,
    now: instance.now,
    monotonic
  }, emitForRequest)
  return Object.freeze({ off: overrides === false, target, lines, sampleRate: own.sampleRate ?? config.sampleRate })
}
