import type { ServerResponse } from 'node:http'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import { resolveConfig, type LoadConfigOptions } from './config'
import { requestStorage } from './context'
import { EXPOSE_HEADERS, withExposedHeader } from './cors-expose'
import { configError } from './errors'
import { watchProcessExit } from './exit'
import { attachLogger, detachLogger, ensureLoggerFree, loggerLinkOf, ownOptions, warnOnFastifyRequestLogging } from './fastify-logger'
import { ApiLoggingInstance } from './instance'
import { WARNING } from './levels'
import { addLevelAliases, type LevelAliases } from './logger/aliases'
import { boundLogger, type ApiLogger } from './logger/app-logger'
import { RequestLogger } from './logger/request-logger'
import { LogSite } from './origin'
import { PLUGIN_LOGGER } from './record'
import { addInstance, removeInstance, retireInstance } from './registry'
import { RequestLines } from './request-lines'
import { RequestState } from './request-state'
import { createRequestIdGenerator, ensureValidRequestId, rejectedRequestId } from './request-id'
import type { ApiLoggingConfig } from './settings'
import type { ApiLoggingStats } from './sinks/output'

/** Register options: every setting of `ApiLoggingConfigSchema` in camelCase, plus `envFile` and these. */
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
  /**
   * Fields for each request's completion line, read when the response ends: a user id from
   * `request.user`, a tenant. Redacted like every field; a key the line already has is written as
   * `field_<key>`. It must return an object (or nothing) synchronously; when it throws or returns
   * anything else the line is still written, with `extra_fields_error` instead, and counted in
   * `stats().extraFieldsErrors`.
   * @defaultValue none
   */
  extraFields?: (request: FastifyRequest, reply: FastifyReply) => Record<string, unknown> | null | undefined
}

/** `fastify.apiLogging`. */
export interface ApiLoggingDecorator {
  /** The resolved, validated configuration. */
  readonly config: ApiLoggingConfig
  /** Resolves once every line logged so far is written to its destination. */
  flush (): Promise<void>
  /**
   * Lines and bytes written and lines dropped, per sink; and `extraFieldsErrors`, the completion
   * lines whose `extraFields` call threw or returned something else than an object.
   */
  stats (): ApiLoggingStats & { readonly extraFieldsErrors: number }
  /**
   * Closes every log file and opens its path again, as after logrotate renamed them
   * (LOG_REOPEN_SIGNAL does the same on a signal). Resolves once reopened.
   */
  reopen (): Promise<void>
  /**
   * A logger whose lines always go to this registration's sinks, inside or outside a request
   * (`getLogger` outside a request goes to the newest open registration).
   */
  getLogger (name: string): ApiLogger
}

declare module 'fastify' {
  interface FastifyInstance {
    apiLogging: ApiLoggingDecorator
  }
  // With the plugin registered, request.log, fastify.log and their children all have the guide's
  // level names as methods (the plugin adds them to Fastify's own logger).
  interface FastifyBaseLogger extends LevelAliases {}
}

const kState = Symbol('fastify-api-logging.request')
const SETUP_SITE = new LogSite('apiLogging')

type RequestWithState = FastifyRequest & { [kState]: RequestState | null }
type ResponseWithState = ServerResponse & { [kState]?: RequestState }

async function apiLogging (fastify: FastifyInstance, registerOptions: ApiLoggingOptions): Promise<void> {
  // With Fastify({ loggerInstance: createApiLogger(options) }), those options are the base and the
  // register options are added on top; either way the files are opened here, once.
  const link = loggerLinkOf(fastify)
  const options = link === null ? ownOptions(registerOptions) : { ...link.options, ...ownOptions(registerOptions) }
  if (link !== null) ensureLoggerFree(link)
  const config = resolveConfig(options, 'register')
  if (options.extraFields !== undefined && typeof options.extraFields !== 'function') {
    throw configError(`Invalid fastify-api-logging option extraFields: must be a function (request, reply) returning an object of fields, got ${typeof options.extraFields}`)
  }
  const instance = await ApiLoggingInstance.open(config, {
    now: options.now ?? Date.now,
    redactKeysReplaceDefaults: options.redactKeysReplaceDefaults === true
  })
  watchProcessExit()
  addInstance(instance)
  try {
    if (link !== null) attachLogger(link, instance)
    wireHooks(fastify, instance, options.extraFields ?? null)
  } catch (err) {
    if (link !== null) detachLogger(link, instance)
    removeInstance(instance)
    await instance.output.close()
    throw err
  }
  if (link === null) {
    warnOnFastifyRequestLogging(fastify)
    return
  }
  fastify.addHook('onClose', function detachFastifyLogger (_instance, done) {
    detachLogger(link, instance)
    done()
  })
}

function wireHooks (fastify: FastifyInstance, instance: ApiLoggingInstance, extraFields: ApiLoggingOptions['extraFields'] | null): void {
  const { config, redactor, output } = instance
  const header = config.requestIdHeader.toLowerCase()
  const lines = new RequestLines({
    redactor,
    minLevel: instance.minLevel,
    slowRequestThresholdMs: config.slowRequestThresholdMs,
    logRequestStart: config.logRequestStart,
    logRequestBody: config.logRequestBody,
    logResponseBody: config.logResponseBody,
    logHeaders: config.logHeaders,
    bodyMaxBytes: config.bodyMaxBytes,
    maxRecordBytes: config.maxRecordBytes,
    excludePaths: config.excludePaths,
    requestHeaders: config.logRequestHeaders,
    extraFields,
    now: instance.now
  }, (record) => instance.emit(record))
  const logsRequests = lines.active

  if (fastify.initialConfig.requestIdHeader) {
    instance.emit({
      time: instance.now(),
      level: WARNING,
      logger: PLUGIN_LOGGER,
      message: 'Fastify\'s requestIdHeader option is set: incoming ids are still checked, but set REQUEST_ID_HEADER instead',
      origin: SETUP_SITE.origin(),
      requestId: null,
      fields: { fastify_request_id_header: String(fastify.initialConfig.requestIdHeader) }
    })
  }

  addLevelAliases(fastify.log)
  fastify.setGenReqId(createRequestIdGenerator(header, redactor))
  fastify.decorateRequest(kState, null)
  fastify.decorate('apiLogging', Object.freeze({
    config,
    flush: () => output.flush(),
    stats: () => ({ ...output.stats(), extraFieldsErrors: lines.extraFieldsErrors }),
    reopen: () => output.reopen(),
    getLogger: (name: string) => boundLogger(name, instance)
  }))

  function onRequestLogger (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const id = ensureValidRequestId(request.id, request.raw, redactor)
    if (id !== request.id) (request as { id: string }).id = id
    reply.header(header, id)
    const state = new RequestState(id, instance, request, reply, lines.clock(), rejectedRequestId(request.raw))
    ;(request as RequestWithState)[kState] = state
    request.log = new RequestLogger(state)
    state.excluded = !logsRequests || lines.isExcluded(request.url)
    if (!state.excluded) {
      lines.start(state)
      ;(reply.raw as ResponseWithState)[kState] = state
      // `on`, not `once`: the listener runs once anyway (state.done), and once() would wrap it.
      reply.raw.on('close', onResponseClosed)
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
    if (state !== null) lines.captureResponseBody(state, payload, 'application/json')
    done(null, payload)
  }

  function captureSentBody (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: Error | null, payload: unknown) => void): void {
    const state = (request as RequestWithState)[kState]
    if (state !== null) lines.captureResponseBody(state, payload, reply.getHeader('content-type'))
    done(null, payload)
  }

  // Browsers let front-end code read a cross-origin response's headers only when they are listed
  // in Access-Control-Expose-Headers: list the request-id header, so an error report can quote
  // it. Done in onSend, after every onRequest hook, because @fastify/cors (before or after this
  // plugin) replaces the header rather than adding to it. Only requests that carry an Origin
  // need it: same-origin scripts read every header.
  function exposeRequestIdHeader (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: Error | null, payload: unknown) => void): void {
    if (request.headers.origin !== undefined) reply.header(EXPOSE_HEADERS, withExposedHeader(reply.getHeader(EXPOSE_HEADERS), config.requestIdHeader))
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
    lines.completion(state, !this.writableEnded, this.headersSent)
  }

  // Retired first (lines from outside any request go to an older registration, if any), removed
  // once closed: a process that exits during close still has its last lines written.
  async function closeApiLogging (): Promise<void> {
    retireInstance(instance)
    await output.close()
    removeInstance(instance)
  }

  fastify.addHook('onRequest', onRequestLogger)
  fastify.addHook('preValidation', restoreRequestContext)
  fastify.addHook('onError', captureError)
  if (config.logResponseBody) {
    fastify.addHook('preSerialization', captureSerializedBody)
    fastify.addHook('onSend', captureSentBody)
  }
  fastify.addHook('onSend', exposeRequestIdHeader)
  fastify.addHook('onClose', closeApiLogging)
}

/** The plugin: register it once per Fastify instance, on the root. */
export const fastifyApiLogging: FastifyPluginAsync<ApiLoggingOptions> = fp(apiLogging, { fastify: '5.x', name: 'fastify-api-logging' })
