import type { ServerResponse } from 'node:http'
import { performance } from 'node:perf_hooks'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import { requestStorage } from './context'
import { unwatchProcessExit, watchProcessExit } from './exit'
import { resolveConfig, type ApiLoggingConfig, type LoadConfigOptions } from './config'
import { ERROR, INFO, LEVEL_VALUES, WARNING } from './levels'
import { RequestLogger, activateOutput, deactivateOutput } from './logger'
import { LogSite } from './origin'
import { PLUGIN_LOGGER, capRecord, type LogRecord } from './record'
import { bodyForLog, headersForLog } from './bodies'
import { Redactor, errorType } from './redact'
import { createRequestIdGenerator, ensureValidRequestId, rejectedRequestId } from './request-id'
import { LogOutput, type ApiLoggingStats } from './sinks'

/** Register options: every setting of `ApiLoggingConfigSchema` in camelCase, plus `envFile` and `now`. */
export interface ApiLoggingOptions extends LoadConfigOptions {
  /**
   * Use `redactKeys` instead of the built-in sensitive names rather than in addition to them.
   * For users who must log a field the defaults hide; option only, never from the environment.
   * @defaultValue false
   */
  redactKeysReplaceDefaults?: boolean
  /**
   * The clock, in epoch milliseconds, used for record timestamps, daily rotation and retention.
   * @defaultValue Date.now
   */
  now?: () => number
}

/** `fastify.apiLogging`. */
export interface ApiLoggingDecorator {
  /** The resolved, validated configuration. */
  readonly config: ApiLoggingConfig
  /** Resolves once every line logged so far is written to its destination. */
  flush (): Promise<void>
  /** Lines and bytes written and lines dropped, per sink. */
  stats (): ApiLoggingStats
}

declare module 'fastify' {
  interface FastifyInstance {
    apiLogging: ApiLoggingDecorator
  }
}

// Options of the plugin that are not settings (no environment variable).
const REGISTER_ONLY: readonly string[] = ['now', 'redactKeysReplaceDefaults']
// Keys Fastify itself reads from register options; they are not ours to validate.
const REGISTER_KEYS = new Set(['prefix', 'logLevel', 'logSerializers'])
const MAX_PATH = 2048
const MAX_USER_AGENT = 256
const MAX_EXCEPTION_MESSAGE = 2048
const MAX_STACK = 8192
const MAX_REJECTED_ID = 128

const kState = Symbol('fastify-api-logging.request')

/** Per-request bookkeeping; it is also the request's `request.log` and its async-context scope. */
class RequestState extends RequestLogger {
  readonly request: FastifyRequest
  readonly reply: FastifyReply
  readonly startedAt: number
  excluded = false
  startLogged = false
  done = false
  failure: Error | null = null
  responseBody: unknown = undefined
  // Redacted once, for both lines of the request.
  path: string | null = null
  userAgent: string | null | undefined = undefined

  constructor (id: string, output: LogOutput, request: FastifyRequest, reply: FastifyReply) {
    super(id, output)
    this.request = request
    this.reply = reply
    this.startedAt = performance.now()
  }
}

type RequestWithState = FastifyRequest & { [kState]: RequestState | null }
type ResponseWithState = ServerResponse & { [kState]?: RequestState }

const START_SITE = new LogSite('onRequestLogger')
const COMPLETION_SITE = new LogSite('onResponseClosed')
const SLOW_SITE = new LogSite('onResponseClosed')
const SETUP_SITE = new LogSite('apiLogging')

function compileExclusions (paths: readonly string[]): (path: string) => boolean {
  const exact = new Set(paths.filter((path) => !path.endsWith('*')))
  const prefixes = paths.filter((path) => path.endsWith('*')).map((path) => path.slice(0, -1))
  if (exact.size === 0 && prefixes.length === 0) return () => false
  return (path) => exact.has(path) || prefixes.some((prefix) => path.startsWith(prefix))
}

function pathname (url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

function roundMs (ms: number): number {
  return Math.round(ms * 100) / 100
}

async function apiLogging (fastify: FastifyInstance, options: ApiLoggingOptions): Promise<void> {
  const { now, redactKeysReplaceDefaults, ...rest } = options
  const settings: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(rest)) if (!REGISTER_KEYS.has(key)) settings[key] = value
  const config = resolveConfig(settings as LoadConfigOptions, REGISTER_ONLY)
  const clock = now ?? Date.now
  const minLevel = LEVEL_VALUES[config.level]
  const redactor = new Redactor({ keys: config.redactKeys, replaceDefaults: redactKeysReplaceDefaults === true, values: config.redactValues })
  const output = await LogOutput.open({
    redactor,
    maxRecordBytes: config.maxRecordBytes,
    minLevel,
    logDir: config.logDir,
    console: config.enableConsoleLogging,
    file: config.enableFileLogging,
    json: config.enableJsonLogging,
    logFileMaxBytes: config.logFileMaxBytes,
    logFileBackupCount: config.logFileBackupCount,
    jsonLogBackupDays: config.jsonLogBackupDays,
    maxBufferBytes: config.maxBufferBytes,
    now: clock
  })
  activateOutput(output)
  watchProcessExit(output)
  try {
    setUp(fastify, config, output, clock)
  } catch (err) {
    deactivateOutput(output)
    unwatchProcessExit(output)
    await output.close()
    throw err
  }
}

function setUp (fastify: FastifyInstance, config: ApiLoggingConfig, output: LogOutput, clock: () => number): void {
  const minLevel = output.minLevel
  const redactor = output.redactor
  const bodyMaxBytes = config.bodyMaxBytes
  const maxRecordBytes = config.maxRecordBytes
  const logHeaders = config.logHeaders
  const header = config.requestIdHeader.toLowerCase()
  const isExcluded = compileExclusions(config.excludePaths)
  const slowThreshold = config.slowRequestThresholdMs
  const logStart = config.logRequestStart && INFO >= minLevel
  const logRequestBody = config.logRequestBody
  const logResponseBody = config.logResponseBody

  function emit (level: number, message: string, origin: LogRecord['origin'], requestId: string | null, fields: Record<string, unknown> | null): void {
    if (level < minLevel) return
    output.emit({ time: clock(), level, logger: PLUGIN_LOGGER, message, origin, requestId, fields })
  }

  if (fastify.initialConfig.requestIdHeader) {
    emit(WARNING, `Fastify's requestIdHeader option is set: incoming ids are still checked, but set REQUEST_ID_HEADER instead`, SETUP_SITE.origin(), null,
      { fastify_request_id_header: String(fastify.initialConfig.requestIdHeader) })
  }

  fastify.setGenReqId(createRequestIdGenerator(header, redactor))
  fastify.decorateRequest(kState, null)
  fastify.decorate('apiLogging', Object.freeze({
    config,
    flush: () => output.flush(),
    stats: () => output.stats()
  }))

  function pathOf (state: RequestState): string {
    state.path ??= redactor.redactAndTruncateUrl(state.request.url, MAX_PATH)
    return state.path
  }

  function userAgentOf (state: RequestState): string | null {
    if (state.userAgent === undefined) {
      const agent = state.request.headers['user-agent']
      state.userAgent = typeof agent === 'string' ? redactor.redactAndTruncate(agent, MAX_USER_AGENT) : null
    }
    return state.userAgent
  }

  function onRequestLogger (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const id = ensureValidRequestId(request.id, request.raw, redactor)
    if (id !== request.id) (request as { id: string }).id = id
    reply.header(header, id)
    const state = new RequestState(id, output, request, reply)
    ;(request as RequestWithState)[kState] = state
    request.log = state
    state.excluded = isExcluded(pathname(request.url))
    if (logStart && !state.excluded) {
      const fields: Record<string, unknown> = {
        method: request.method,
        path: pathOf(state),
        client_ip: request.ip,
        user_agent: userAgentOf(state)
      }
      const rejected = rejectedRequestId(request.raw)
      if (rejected !== undefined) fields.rejected_request_id = redactor.redactString(rejected).slice(0, MAX_REJECTED_ID)
      emit(INFO, `API Request: ${request.method} ${fields.path as string}`, START_SITE.origin(), id, fields)
      state.startLogged = true
    }
    if (!state.excluded) {
      ;(reply.raw as ResponseWithState)[kState] = state
      reply.raw.once('close', onResponseClosed)
    }
    requestStorage.run(state, done)
  }

  // Body parsing resumes the request from the socket's async context; put ours back for the handler.
  function restoreRequestContext (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const state = (request as RequestWithState)[kState]
    if (state === null || requestStorage.getStore() === state) done()
    else requestStorage.run(state, done)
  }

  function captureError (request: FastifyRequest, _reply: FastifyReply, error: Error, done: HookHandlerDoneFunction): void {
    const state = (request as RequestWithState)[kState]
    if (state !== null) state.failure = error
    done()
  }

  function captureSerializedBody (request: FastifyRequest, _reply: FastifyReply, payload: unknown, done: (err: Error | null, payload: unknown) => void): void {
    const state = (request as RequestWithState)[kState]
    if (state !== null && !state.excluded) state.responseBody = bodyForLog(payload, 'application/json', redactor, bodyMaxBytes)
    done(null, payload)
  }

  function captureSentBody (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: Error | null, payload: unknown) => void): void {
    const state = (request as RequestWithState)[kState]
    if (state !== null && !state.excluded && state.responseBody === undefined) state.responseBody = bodyForLog(payload, reply.getHeader('content-type'), redactor, bodyMaxBytes)
    done(null, payload)
  }

  // One 'close' listener on the raw response sees both ends of a request: after 'finish' when the
  // response was sent, alone when the client went away first. Fastify's onResponse and
  // onRequestAbort hooks would see the same, at about 3 µs more per request (measured in
  // benchmarks: an onResponse hook makes Fastify set up its own per-request listeners).
  function onResponseClosed (this: ResponseWithState): void {
    const state = this[kState]
    if (state === undefined || state.done) return
    state.done = true
    logCompletion(state, !this.writableEnded)
  }

  function logCompletion (state: RequestState, aborted: boolean): void {
    const { request, reply } = state
    // 499 is nginx's "client closed request": the client left before any status was sent.
    const status = aborted && !reply.raw.headersSent ? 499 : reply.statusCode
    const elapsed = roundMs(performance.now() - state.startedAt)
    const slow = slowThreshold > 0 && elapsed > slowThreshold
    const level = status >= 500 ? ERROR : status >= 400 ? WARNING : INFO
    if (level < minLevel && !(slow && WARNING >= minLevel)) return
    const path = pathOf(state)
    const method = request.method
    if (slow) emit(WARNING, `Slow API Request: ${method} ${path} - ${Math.round(elapsed)}ms`, SLOW_SITE.origin(), state.id, { method, path, response_time_ms: elapsed, slow_threshold_ms: slowThreshold })
    if (level < minLevel) return
    const contentLength = Number(reply.getHeader('content-length'))
    const fields: Record<string, unknown> = {
      method,
      path,
      endpoint: request.routeOptions.url ?? null,
      status_code: status,
      response_time_ms: elapsed,
      content_length: Number.isFinite(contentLength) ? contentLength : null,
      slow_request: slow,
      client_ip: request.ip,
      user_agent: userAgentOf(state)
    }
    if (status >= 400) fields.error_class = status >= 500 ? 'server_error' : 'client_error'
    if (aborted) fields.aborted = true
    const error = state.failure
    if (error !== null) {
      fields.exception_type = errorType(error)
      fields.exception_message = redactor.redactAndTruncate(String(error.message), MAX_EXCEPTION_MESSAGE)
      const code = (error as { code?: unknown }).code
      if (typeof code === 'string') fields.exception_code = code
      if (status >= 500) fields.exception = redactor.redactAndTruncate(String(error.stack ?? ''), MAX_STACK)
    }
    if (!state.startLogged) {
      const rejected = rejectedRequestId(request.raw)
      if (rejected !== undefined) fields.rejected_request_id = redactor.redactString(rejected).slice(0, MAX_REJECTED_ID)
    }
    if (logRequestBody) {
      const body = bodyForLog(request.body, request.headers['content-type'], redactor, bodyMaxBytes)
      if (body !== undefined) fields.request_body = body
    }
    if (logResponseBody && state.responseBody !== undefined) fields.response_body = state.responseBody
    if (logHeaders) {
      fields.request_headers = headersForLog(request.headers, redactor)
      fields.response_headers = headersForLog(reply.getHeaders(), redactor)
    }
    const message = aborted
      ? `API Request Aborted: ${method} ${path} - ${status}`
      : `${status >= 400 ? 'API Error' : 'API Response'}: ${method} ${path} - ${status}`
    const capped = capRecord(message, fields, maxRecordBytes)
    emit(level, capped.message, COMPLETION_SITE.origin(), state.id, capped.fields)
  }

  fastify.addHook('onRequest', onRequestLogger)
  fastify.addHook('preValidation', restoreRequestContext)
  fastify.addHook('onError', captureError)
  if (logResponseBody) {
    fastify.addHook('preSerialization', captureSerializedBody)
    fastify.addHook('onSend', captureSentBody)
  }
  fastify.addHook('onClose', async function closeApiLogging () {
    deactivateOutput(output)
    await output.close()
    unwatchProcessExit(output)
  })
}


/** The plugin: register it once, on the root instance. */
export const apiLoggingPlugin = fp(apiLogging, { fastify: '5.x', name: 'fastify-api-logging' })
