import type { ServerResponse } from 'node:http'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { resolveConfig, type LoadConfigOptions } from './config'
import { requestStorage } from './context'
import { EXPOSE_HEADERS, withExposedHeader } from './cors-expose'
import { configError } from './errors'
import { watchProcessExit } from './exit'
import { attachLogger, detachLogger, ensureLoggerFree, loggerLinkOf, ownOptions, warnOnFastifyRequestLogging } from './fastify-logger'
import { ApiLoggingInstance } from './instance'
import { ACCEPTED_LEVELS, ERROR, WARNING, normalizeLevel, type LevelInput, type LevelName } from './levels'
import { addLevelAliases, type LevelAliases } from './logger/aliases'
import { boundLogger, type ApiLogger } from './logger/app-logger'
import { RequestLogger } from './logger/request-logger'
import { LogSite } from './origin'
import { otelApi, otelTraceOf } from './otel'
import { PLUGIN_LOGGER } from './record'
import { addInstance, removeInstance, retireInstance } from './registry'
import { RequestState } from './request-state'
import { routeLogging, type RouteLogging } from './route-logging'
import type { ExtraFieldsHook } from './request-lines'
import { parseRouteLogging, type RouteLoggingOptions } from './route-settings'
import { HeldRequest, sampledIn } from './sampling'
import { createRequestIdGenerator, ensureValidRequestId, rejectedRequestId } from './request-id'
import type { ApiLoggingConfig } from './settings'
import { traceFromHeader } from './trace-context'
import type { ApiLoggingStats as SinkTotals } from './sinks/output'

/** What `fastify.apiLogging.stats()` returns: each sink's counters, the requests sampling left out, and `extraFields` failures. */
export interface ApiLoggingStats extends SinkTotals {
  /** Requests that LOG_SAMPLE_RATE (or a route's `sampleRate`) left out of the logs, whole. */
  sampledOut: number
  /** Completion lines whose `extraFields` call threw or returned something else than an object. */
  extraFieldsErrors: number
}

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
   * Lines and bytes written and lines dropped, per sink; requests left out by sampling; and
   * `extraFieldsErrors`, the completion lines whose `extraFields` call threw or returned
   * something else than an object.
   */
  stats (): ApiLoggingStats
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
  /**
   * Changes the lowest level written by this registration, now (LOG_LEVEL's names, any case),
   * and writes a WARNING line with the old and new level. Routes with their own `level` keep it.
   * Other registrations in the process keep theirs.
   */
  setLevel (level: LevelInput): void
  /** The level in force: LOG_LEVEL, or the last `setLevel` or level signal. */
  getLevel (): LevelName
}

declare module 'fastify' {
  interface FastifyInstance {
    apiLogging: ApiLoggingDecorator
  }
  // With the plugin registered, request.log, fastify.log and their children all have the guide's
  // level names as methods (the plugin adds them to Fastify's own logger).
  interface FastifyBaseLogger extends LevelAliases {}
  // `config: { apiLogging: false }` or `{ apiLogging: { ... } }` on a route (docs/api.md).
  interface FastifyContextConfig {
    apiLogging?: false | RouteLoggingOptions
  }
}

const kState = Symbol('fastify-api-logging.request')
// On each route's config: how that route is logged, resolved once (Fastify copies the route's
// config, symbols included, into the context every request of the route reads).
const kRouteLogging = Symbol('fastify-api-logging.route')
const LATE_ROUTE_SITE = new LogSite('onRequestLogger')
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

type RouteConfig = Record<string | symbol, unknown> & { [kRouteLogging]?: RouteLogging }

function appendHook<T> (existing: T | T[] | undefined, hook: T): T[] {
  if (existing === undefined) return [hook]
  return Array.isArray(existing) ? [...existing, hook] : [existing, hook]
}

function levelOf (level: unknown): LevelName {
  const name = normalizeLevel(level)
  if (name === undefined) throw configError(`fastify.apiLogging.setLevel(${JSON.stringify(level) ?? String(level)}): the level must be one of ${ACCEPTED_LEVELS}`)
  return name
}

function wireHooks (fastify: FastifyInstance, instance: ApiLoggingInstance, extraFieldsOption: ApiLoggingOptions['extraFields'] | null): void {
  const { config, redactor, output } = instance
  const header = config.requestIdHeader.toLowerCase()
  // One for every route's lines, so its failures are counted (and said) once per registration.
  const extraFields: ExtraFieldsHook | null = extraFieldsOption == null ? null : { fn: extraFieldsOption as ExtraFieldsHook['fn'], errors: 0 }
  // The logging of every route without `config.apiLogging`.
  const defaults = routeLogging(instance, null, extraFields)

  if (fastify.initialConfig.requestIdHeader) {
    instance.emit({
      time: instance.now(),
      level: WARNING,
      logger: PLUGIN_LOGGER,
      message: 'Fastify\'s requestIdHeader option is set: incoming ids are still checked, but set REQUEST_ID_HEADER instead',
      origin: SETUP_SITE.origin(),
      requestId: null,
      trace: null,
      fields: { fastify_request_id_header: String(fastify.initialConfig.requestIdHeader) }
    })
  }

  addLevelAliases(fastify.log)
  // Looked up once, at startup: requests then cost no lookup whether it is installed or not.
  otelApi()
  fastify.setGenReqId(createRequestIdGenerator(header, redactor))
  fastify.decorateRequest(kState, null)
  fastify.decorate('apiLogging', Object.freeze({
    config,
    flush: () => output.flush(),
    stats: (): ApiLoggingStats => ({ ...output.stats(), sampledOut: instance.sampledOut, extraFieldsErrors: extraFields?.errors ?? 0 }),
    reopen: () => output.reopen(),
    getLogger: (name: string) => boundLogger(name, instance),
    setLevel: (level: LevelInput) => instance.setLevel(levelOf(level), 'setLevel()'),
    getLevel: () => instance.level
  }))

  function resolveRoute (value: unknown, route: string): RouteLogging {
    const overrides = parseRouteLogging(value, route)
    return overrides === null ? defaults : routeLogging(instance, overrides, extraFields)
  }

  // Every route declared after the registration, in any child plugin: its `config.apiLogging`
  // is checked here, at startup, and its logging kept on its config for its requests.
  function onRouteLogging (routeOptions: RouteOptions): void {
    const options = routeOptions as RouteOptions & { config?: RouteConfig }
    const method = Array.isArray(options.method) ? options.method.join(',') : options.method
    const route = resolveRoute(options.config?.apiLogging, `${method} ${options.url}`)
    options.config = { ...options.config, [kRouteLogging]: route }
    // The response-body hooks are on every route when LOG_RESPONSE_BODY is on; otherwise only
    // on the routes that ask for the body.
    if (route.lines.capturesResponseBody && !defaults.lines.capturesResponseBody) {
      options.preSerialization = appendHook(options.preSerialization, captureSerializedBody as never)
      options.onSend = appendHook(options.onSend, captureSentBody as never)
    }
  }

  // A route declared before the registration (the onRoute hook never saw it), or the 404
  // handler: resolved at its first request, then kept like the others. A mistake in its
  // `config.apiLogging` cannot stop the startup any more: it is written as an ERROR line once,
  // and the route logged with the global settings.
  function lateRoute (config: RouteConfig, method: string, url: string | undefined): RouteLogging {
    let route = defaults
    try {
      route = resolveRoute(config.apiLogging, `${method} ${url ?? '(no route)'}`)
    } catch (err) {
      instance.emit({
        time: instance.now(),
        level: ERROR,
        logger: PLUGIN_LOGGER,
        message: `${(err as Error).message}\n(the route was declared before fastify-api-logging was registered, so this was found at its first request; it is logged with the global settings)`,
        origin: LATE_ROUTE_SITE.origin(),
        requestId: null,
        trace: null,
        fields: { error_code: (err as { code?: string }).code }
      })
    }
    config[kRouteLogging] = route
    return route
  }

  function onRequestLogger (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const id = ensureValidRequestId(request.id, request.raw, redactor)
    if (id !== request.id) (request as { id: string }).id = id
    reply.header(header, id)
    // Read once per request (Fastify builds this object at each read): the route's logging, and
    // the endpoint the completion line names.
    const routeOptions = request.routeOptions
    const routeConfig = routeOptions.config as unknown as RouteConfig | undefined
    const route = routeConfig === undefined
      ? defaults
      : routeConfig[kRouteLogging] ?? lateRoute(routeConfig, request.method, routeOptions.url)
    const lines = route.lines
    const excluded = route.off || !lines.active || lines.isExcluded(request.url)
    // At a sample rate of 1 (the default) nothing is hashed and nothing held.
    const target = excluded || route.sampleRate >= 1 || sampledIn(id, route.sampleRate) ? route.target : new HeldRequest(route.target)
    const state = new RequestState(id, target, request, reply, lines.clock(), rejectedRequestId(request.raw), route)
    // OpenTelemetry's span of the request, when there is one (its propagator already read the
    // incoming traceparent); else the incoming traceparent, with a span of our own for the request.
    state.trace = otelTraceOf(request) ?? traceFromHeader(request.headers.traceparent)
    state.requestIdHeader = header
    state.endpoint = routeOptions.url ?? null
    state.excluded = excluded
    ;(request as RequestWithState)[kState] = state
    request.log = new RequestLogger(state)
    if (!excluded) {
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
    if (state !== null) (state.route ?? defaults).lines.captureResponseBody(state, payload, 'application/json')
    done(null, payload)
  }

  function captureSentBody (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: Error | null, payload: unknown) => void): void {
    const state = (request as RequestWithState)[kState]
    if (state !== null) (state.route ?? defaults).lines.captureResponseBody(state, payload, reply.getHeader('content-type'))
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
    ;(state.route ?? defaults).lines.completion(state, !this.writableEnded, this.headersSent)
    const target = state.target
    if (target instanceof HeldRequest && target.settle()) instance.sampledOut++
  }

  // Retired first (lines from outside any request go to an older registration, if any), removed
  // once closed: a process that exits during close still has its last lines written.
  async function closeApiLogging (): Promise<void> {
    retireInstance(instance)
    await output.close()
    removeInstance(instance)
  }

  fastify.addHook('onRoute', onRouteLogging)
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
