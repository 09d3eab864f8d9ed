import { performance } from 'node:perf_hooks'
import { bodyForLog, headersForLog } from './bodies'
import { callExtraFields } from './extra-fields'
import { ERROR, INFO, WARNING } from './levels'
import { LogSite } from './origin'
import { PLUGIN_LOGGER, type LogRecord, type Origin } from './record'
import { capRecord } from './record-cap'
import { errorType, type Redactor } from './redact'
import { selectedHeaders } from './request-headers'
import type { ReplyView, RequestState, RequestView } from './request-state'

/**
 * The `extraFields` register option, shared by the lines of every route of a registration, so
 * its failures are counted, and said on a line of their own, once for the registration.
 */
export interface ExtraFieldsHook {
  readonly fn: (request: RequestView, reply: ReplyView) => unknown
  /** Completion lines whose call threw or returned something else than an object. */
  errors: number
}

/** What decides the content of request lines; resolved once per registration. */
export interface RequestLineSettings {
  readonly redactor: Redactor
  /** Lowest level written; read at each line, so it may change (`setLevel`). */
  readonly minLevel: number
  readonly slowRequestThresholdMs: number
  readonly logRequestStart: boolean
  readonly logRequestBody: boolean
  readonly logResponseBody: boolean
  readonly logHeaders: boolean
  /** Request headers for `request_headers` when LOG_HEADERS is off (lower case): the route's `headers`, else LOG_REQUEST_HEADERS; null for none. */
  readonly requestHeaders?: readonly string[] | null
  readonly bodyMaxBytes: number
  readonly maxRecordBytes: number
  readonly excludePaths: readonly string[]
  /** The application's fields for the completion line (the `extraFields` register option). */
  readonly extraFields?: ExtraFieldsHook | null
  /** The clock of record timestamps (epoch ms). */
  readonly now: () => number
  /** The clock of response times (ms, monotonic); `performance.now` unless a test gives one. */
  readonly monotonic?: () => number
}

/** The fields of a completion line, in the order they are written. */
interface CompletionFields {
  [key: string]: unknown
  method: string
  path: string
  endpoint: string | null
  status_code: number
  response_time_ms: number
  content_length: number | null
  slow_request: boolean
  client_ip: string
  user_agent: string | null
  parent_span_id: string | undefined
  error_class: string | undefined
  aborted: true | undefined
  exception_type: string | undefined
  exception_message: string | undefined
  exception_code: string | undefined
  exception: string | undefined
  exception_logged_by: string | undefined
  rejected_request_id: string | undefined
  request_body: unknown
  response_body: unknown
  request_headers: unknown
  response_headers: unknown
}

const MAX_PATH = 2048
const MAX_USER_AGENT = 256
const MAX_EXCEPTION_MESSAGE = 2048
const MAX_STACK = 8192
const MAX_REJECTED_ID = 128

const START_SITE = new LogSite('onRequestLogger')
const COMPLETION_SITE = new LogSite('onResponseClosed')
const SLOW_SITE = new LogSite('onResponseClosed')
const EXTRA_FIELDS_SITE = new LogSite('extraFields')

/** `path` without its query string. */
export function pathname (url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

function roundMs (ms: number): number {
  return Math.round(ms * 100) / 100
}

/** A matcher for `LOG_EXCLUDE_PATHS`: exact paths, or prefixes written with a trailing `*`. */
export function compileExclusions (paths: readonly string[]): (path: string) => boolean {
  const exact = new Set(paths.filter((path) => !path.endsWith('*')))
  const prefixes = paths.filter((path) => path.endsWith('*')).map((path) => path.slice(0, -1))
  if (exact.size === 0 && prefixes.length === 0) return () => false
  return (path) => exact.has(path) || prefixes.some((prefix) => path.startsWith(prefix))
}

/**
 * What the plugin writes about each request: the "API Request" line on arrival, the completion
 * line (level by status, timing, exception, bodies, headers, capped), and the slow-request
 * warning. It decides content only; the records go to `emit`, and the hooks that call it live in
 * the plugin entry. It needs no Fastify: anything shaped like a request and a reply will do.
 */
export class RequestLines {
  private readonly settings: RequestLineSettings
  private readonly emit: (record: LogRecord, state: RequestState) => void
  private readonly monotonic: () => number
  private readonly excluded: (path: string) => boolean
  private readonly requestHeaders: readonly string[] | null
  private readonly extraFields: ExtraFieldsHook | null

  /** `emit` writes a record of the request `state`. */
  constructor (settings: RequestLineSettings, emit: (record: LogRecord, state: RequestState) => void) {
    this.settings = settings
    this.emit = emit
    this.monotonic = settings.monotonic ?? performance.now.bind(performance)
    this.excluded = compileExclusions(settings.excludePaths)
    const names = settings.requestHeaders ?? null
    this.requestHeaders = settings.logHeaders || names === null || names.length === 0 ? null : names
    this.extraFields = settings.extraFields ?? null
  }

  /** Whether any request line can be written at this level (false for SILENT, or every sink off). */
  get active (): boolean {
    return this.settings.minLevel !== Infinity
  }

  /** Whether the completion lines carry the response body (the plugin then captures it). */
  get capturesResponseBody (): boolean {
    return this.settings.logResponseBody
  }

  /** Now, on the clock of `RequestState.startedAt`. */
  clock (): number {
    return this.monotonic()
  }

  /** Whether requests to this URL are never logged (`LOG_EXCLUDE_PATHS`). */
  isExcluded (url: string): boolean {
    return this.excluded(pathname(url))
  }

  /** The "API Request" line, when it is on. */
  start (state: RequestState): void {
    if (!this.settings.logRequestStart || state.excluded || INFO < this.settings.minLevel) return
    const request = state.request
    const fields: Record<string, unknown> = {
      method: request.method,
      path: this.pathOf(state),
      client_ip: request.ip,
      user_agent: this.userAgentOf(state)
    }
    if (state.trace?.parentSpanId != null) fields.parent_span_id = state.trace.parentSpanId
    if (state.rejectedId !== undefined) fields.rejected_request_id = this.rejectedIdOf(state.rejectedId)
    this.write(INFO, `API Request: ${request.method} ${fields.path as string}`, START_SITE.origin(), state, fields)
    state.startLogged = true
  }

  /**
   * The response body as the completion line shows it: `payload` is what the handler returned
   * (before serialization) or what was sent; the first one seen is kept.
   */
  captureResponseBody (state: RequestState, payload: unknown, contentType: unknown): void {
    if (!this.settings.logResponseBody || state.excluded || state.responseBody !== undefined) return
    state.responseBody = bodyForLog(payload, contentType, this.settings.redactor, this.settings.bodyMaxBytes)
  }

  /**
   * The completion line (and the slow-request warning before it). `aborted`: the client went
   * away before the response was complete; `headersSent`: whether a status reached it.
   */
  completion (state: RequestState, aborted: boolean, headersSent: boolean): void {
    const settings = this.settings
    const { request, reply } = state
    // 499 is nginx's "client closed request": the client left before any status was sent.
    const status = aborted && !headersSent ? 499 : reply.statusCode
    const elapsed = roundMs(this.monotonic() - state.startedAt)
    const slowThreshold = settings.slowRequestThresholdMs
    const slow = slowThreshold > 0 && elapsed > slowThreshold
    const level = status >= 500 ? ERROR : status >= 400 ? WARNING : INFO
    const minLevel = settings.minLevel
    if (level < minLevel && !(slow && WARNING >= minLevel)) return
    const path = this.pathOf(state)
    const method = request.method
    if (slow) this.write(WARNING, `Slow API Request: ${method} ${path} - ${Math.round(elapsed)}ms`, SLOW_SITE.origin(), state, { method, path, response_time_ms: elapsed, slow_threshold_ms: slowThreshold })
    if (level < minLevel) return
    const contentLength = Number(reply.getHeader('content-length'))
    // Every completion line has this one shape (absent fields are undefined, which no format
    // writes), so the formats see one object layout instead of one per combination.
    const fields: CompletionFields = {
      method,
      path,
      endpoint: state.endpoint ?? request.routeOptions.url ?? null,
      status_code: status,
      response_time_ms: elapsed,
      content_length: Number.isFinite(contentLength) ? contentLength : null,
      slow_request: slow,
      client_ip: request.ip,
      user_agent: this.userAgentOf(state),
      parent_span_id: state.trace?.parentSpanId ?? undefined,
      error_class: status >= 500 ? 'server_error' : status >= 400 ? 'client_error' : undefined,
      aborted: aborted ? true : undefined,
      exception_type: undefined,
      exception_message: undefined,
      exception_code: undefined,
      exception: undefined,
      exception_logged_by: undefined,
      rejected_request_id: !state.startLogged && state.rejectedId !== undefined ? this.rejectedIdOf(state.rejectedId) : undefined,
      request_body: settings.logRequestBody ? bodyForLog(request.body, request.headers['content-type'], settings.redactor, settings.bodyMaxBytes) : undefined,
      response_body: settings.logResponseBody ? state.responseBody : undefined,
      request_headers: settings.logHeaders
        ? headersForLog(request.headers, settings.redactor)
        : this.requestHeaders !== null ? selectedHeaders(request.headers, this.requestHeaders, settings.redactor) : undefined,
      response_headers: settings.logHeaders ? headersForLog(reply.getHeaders(), settings.redactor) : undefined
    }
    if (state.failure !== null) this.addException(fields, state, state.failure, status)
    if (this.extraFields !== null) this.addExtraFields(fields, state)
    const message = aborted
      ? `API Request Aborted: ${method} ${path} - ${status}`
      : `${status >= 400 ? 'API Error' : 'API Response'}: ${method} ${path} - ${status}`
    const capped = capRecord(message, fields, settings.maxRecordBytes)
    this.write(level, capped.message, COMPLETION_SITE.origin(), state, capped.fields)
  }

  private addExtraFields (fields: CompletionFields, state: RequestState): void {
    const extraFields = this.extraFields as ExtraFieldsHook
    const result = callExtraFields(() => extraFields.fn(state.request, state.reply), (key) => Object.hasOwn(fields, key), this.settings.redactor)
    if (result === null) return
    if (result.error === null) {
      Object.assign(fields, result.fields)
      return
    }
    fields.extra_fields_error = result.error
    // The first failure is said on a line of its own; later ones are counted, and named on their line.
    if (extraFields.errors++ === 0) {
      this.write(WARNING, `${result.error}; the completion lines carry extra_fields_error instead of its fields`, EXTRA_FIELDS_SITE.origin(), state, null)
    }
  }

  // The exception goes on the one completion line of its request; the stack only for 5xx, and
  // only when no application line of the request carried it already (that line is named).
  private addException (fields: CompletionFields, state: RequestState, error: Error, status: number): void {
    const redactor = this.settings.redactor
    fields.exception_type = errorType(error)
    fields.exception_message = redactor.redactAndTruncate(String(error.message), MAX_EXCEPTION_MESSAGE)
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string') fields.exception_code = code
    if (status < 500) return
    if (state.loggedError === error) fields.exception_logged_by = state.loggedErrorBy ?? undefined
    else fields.exception = redactor.redactAndTruncate(String(error.stack ?? ''), MAX_STACK)
  }

  private pathOf (state: RequestState): string {
    state.path ??= this.settings.redactor.redactAndTruncateUrl(state.request.url, MAX_PATH)
    return state.path
  }

  private userAgentOf (state: RequestState): string | null {
    if (state.userAgent === undefined) {
      const agent = state.request.headers['user-agent']
      state.userAgent = typeof agent === 'string' ? this.settings.redactor.redactAndTruncate(agent, MAX_USER_AGENT) : null
    }
    return state.userAgent
  }

  private rejectedIdOf (raw: string): string {
    return this.settings.redactor.redactString(raw).slice(0, MAX_REJECTED_ID)
  }

  private write (level: number, message: string, origin: Origin, state: RequestState, fields: Record<string, unknown> | null): void {
    if (level < this.settings.minLevel) return
    this.emit({ time: this.settings.now(), level, logger: PLUGIN_LOGGER, message, origin, requestId: state.id, trace: state.trace, fields }, state)
  }
}
