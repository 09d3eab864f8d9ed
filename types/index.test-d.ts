// Compile-only type tests: `tsc -p types/tsconfig.json` must pass. Every `@ts-expect-error`
// below is itself checked: if the line after it compiled, tsc would fail with "Unused
// '@ts-expect-error' directive".
import Fastify, { type FastifyPluginAsync } from 'fastify'
import apiLogging, {
  apiLoggingPlugin,
  fastifyApiLogging,
  ERR_LOGGER_OPTION,
  ERR_LOG_FILE_LOCKED,
  WARN_WRITE_FAILED,
  WARN_WRITE_RECOVERED,
  WARN_FILE_REOPENED,
  startPrimaryWriter,
  type PrimaryWriter,
  type ApiLogger,
  type ApiLoggerOptions,
  loadConfig,
  getLogger,
  getRequestId,
  logApiCall,
  wrapApiCall,
  apiCall,
  createApiLogger,
  WARN_FASTIFY_REQUEST_LOGGING,
  ApiLoggingError,
  ERR_INVALID_CONFIG,
  ERR_INVALID_ROUTE_CONFIG,
  type RouteLoggingOptions,
  ERR_LOG_DIR,
  ENV_NAMES,
  type ApiLoggingConfig,
  type ApiLoggingConfigKey,
  type ApiLoggingDecorator,
  type ApiLoggingOptions,
  type ApiLoggingSettings,
  type ApiLoggingStats,
  type LevelName,
  type SinkStats,
  getPropagationHeaders,
  createPropagatingDispatcher,
  type PropagationHeaders,
  type ComposableDispatcher,
  type TransportOptions,
  type TransportStats,
  WARN_TRANSPORT_FAILED,
  WARN_TRANSPORT_RECOVERED,
  WARN_TRANSPORT_CLOSE_TIMEOUT
} from '../dist/index.js'
import { Agent, request as undiciRequest, type Dispatcher as UndiciDispatcher } from 'undici'
import type { Dispatcher as FetchDispatcher } from 'undici-types'
import { NON_SETTING_OPTIONS } from '../dist/settings.js'

/** Passes when `value` is assignable to `T`. */
function expectType<T> (value: T): T {
  return value
}

/** Exact type equality: `Equal<A, B>` is `true` only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function expectExact<T extends true> (): T | undefined {
  return undefined
}

type Level = 'TRACE' | 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL' | 'SILENT'

const app = Fastify()

// --- the plugin and its options ------------------------------------------------------------

// The default export is what require() returns: the plugin, with the named exports on it.
expectType<FastifyPluginAsync<ApiLoggingOptions>>(apiLogging)
expectType<typeof getLogger>(apiLogging.getLogger)
expectType<FastifyPluginAsync<ApiLoggingOptions>>(apiLogging.default)
expectExact<Equal<typeof fastifyApiLogging, FastifyPluginAsync<ApiLoggingOptions>>>()
expectExact<Equal<typeof apiLoggingPlugin, FastifyPluginAsync<ApiLoggingOptions>>>()
// Types through the default export's namespace, as `import x = require()` users reach them.
expectExact<Equal<apiLogging.ApiLoggingOptions, ApiLoggingOptions>>()
expectType<string>(ERR_LOGGER_OPTION)
expectType<string>(WARN_WRITE_FAILED)
app.register(apiLogging, { level: 'debug', logDir: 'x', excludePaths: ['/a'] })
app.register(apiLogging, { level: 'WARNING', envFile: false, now: () => 0, enableConsoleLogging: false })
app.register(apiLogging, { level: 'warn' })
app.register(apiLogging, { level: 'fatal' })
app.register(apiLogging, { envFile: '.env.local', logFileMaxBytes: 2048, requestIdHeader: 'x-correlation-id' })
app.register(apiLogging, { logRequestHeaders: ['x-tenant'], extraFields: (request, reply) => ({ route: request.routeOptions.url, status: reply.statusCode }) })
app.register(apiLogging, { extraFields: () => undefined })
// @ts-expect-error extraFields returns an object of fields
app.register(apiLogging, { extraFields: () => 'tenant' })
// @ts-expect-error a list of header names, not one string
app.register(apiLogging, { logRequestHeaders: 'x-tenant' })
app.register(apiLogging)
app.register(apiLogging, { prefix: '/api' })

app.register(apiLogging, {
  // @ts-expect-error unknown option name
  levle: 'debug'
})
app.register(apiLogging, {
  // @ts-expect-error wrong option type: a number, not a string with a unit
  logFileMaxBytes: '10MB'
})
app.register(apiLogging, {
  // @ts-expect-error not a level
  level: 'verbose'
})
app.register(apiLogging, {
  // @ts-expect-error envFile is a path or false, never true
  envFile: true
})

// Every register option that is not a setting is known to the loader (or it would refuse it).
expectExact<Equal<Exclude<keyof ApiLoggingOptions, keyof ApiLoggingSettings>, keyof typeof NON_SETTING_OPTIONS>>()

const options: ApiLoggingOptions = { level: 'info' }
expectType<ApiLoggingOptions>(options)
// @ts-expect-error unknown option name on loadConfig too
loadConfig({ levle: 'debug' })
// @ts-expect-error wrong option type on loadConfig
loadConfig({ logFileMaxBytes: '10MB' })
// @ts-expect-error bad level literal on loadConfig
loadConfig({ level: 'verbose' })

// --- the decorator -------------------------------------------------------------------------

expectType<ApiLoggingDecorator>(app.apiLogging)
expectType<Level>(app.apiLogging.config.level)
expectExact<Equal<typeof app.apiLogging.config.level, Level>>()
expectExact<Equal<LevelName, Level>>()
expectExact<Equal<typeof app.apiLogging.config.logFileMaxBytes, number>>()
expectExact<Equal<typeof app.apiLogging.config.excludePaths, string[]>>()
expectExact<Equal<typeof app.apiLogging.config.enableJsonLogging, boolean>>()
// @ts-expect-error the config is read-only
app.apiLogging.config = loadConfig()

expectType<number>(app.apiLogging.stats().json.dropped)
expectType<number>(app.apiLogging.stats().extraFieldsErrors)
// The sinks' counters, and the request lines' own (sampling, extraFields).
expectExact<Equal<typeof app.apiLogging.stats extends () => infer R ? R : never, ApiLoggingStats>>()
expectExact<Equal<ReturnType<ApiLoggingDecorator['stats']>['json']['dropped'], number>>()
expectType<SinkStats>(app.apiLogging.stats().console)
// @ts-expect-error dropped is a number
expectType<string>(app.apiLogging.stats().json.dropped)

expectType<Promise<void>>(app.apiLogging.flush())
expectExact<Equal<ReturnType<ApiLoggingDecorator['flush']>, Promise<void>>>()
expectExact<Equal<ReturnType<ApiLoggingDecorator['reopen']>, Promise<void>>>()
expectType<boolean>(app.apiLogging.stats().file.failing)
expectType<number>(app.apiLogging.stats().json.reopens)
expectType<Promise<PrimaryWriter>>(startPrimaryWriter({ envFile: false, logDir: 'logs' }))
expectType<string>(ERR_LOG_FILE_LOCKED + WARN_WRITE_RECOVERED + WARN_FILE_REOPENED)
// @ts-expect-error reopenSignal is one of the listed signals
loadConfig({ reopenSignal: 'SIGTERM' })

// --- functions -----------------------------------------------------------------------------

expectType<ApiLoggingConfig>(loadConfig())
expectExact<Equal<ReturnType<typeof loadConfig>, ApiLoggingConfig>>()
expectType<ApiLoggingConfig>(loadConfig({ envFile: false, level: 'error' }))

getLogger('x').info('m')
getLogger('x').info({ user: 1 }, 'm')
getLogger('x').child({ a: 1 }).warn('m')
expectType<ApiLogger>(getLogger('x'))
expectType<ApiLogger>(getLogger('x', { level: 'WARNING', msgPrefix: '[x] ', serializers: { user: (u: { id: number }) => u.id }, mixin: () => ({ region: 'eu' }) }))
const loggerOptions: ApiLoggerOptions = { mixinMergeStrategy: (merge, mixin) => ({ ...mixin, ...merge }) }
expectType<ApiLoggerOptions>(loggerOptions)
// @ts-expect-error redact is not an option of getLogger (the plugin redacts)
getLogger('x', { redact: ['a'] })
// @ts-expect-error mixin returns an object
getLogger('x', { mixin: () => 'no' })
expectType<ApiLogger>(app.apiLogging.getLogger('audit'))

const asyncResult = logApiCall('x', async () => 1)
expectType<Promise<number>>(asyncResult)
expectExact<Equal<typeof asyncResult, Promise<number>>>()
const syncResult = logApiCall('x', () => 'a')
expectType<string>(syncResult)
expectExact<Equal<typeof syncResult, string>>()
// @ts-expect-error logApiCall returns what fn returns
expectType<number>(logApiCall('x', () => 'a'))

// createApiLogger is a logger Fastify takes as loggerInstance; it takes the register options.
const withOwnLogger = Fastify({ loggerInstance: createApiLogger({ logDir: 'logs', level: 'debug', extraFields: () => ({ tenant: 't' }) }) })
withOwnLogger.log.warning('fastify.log has the aliases')
expectType<ApiLogger>(createApiLogger())
expectType<string>(WARN_FASTIFY_REQUEST_LOGGING)
// @ts-expect-error a misspelt option
createApiLogger({ logdir: 'logs' })

// wrapApiCall keeps fn's parameters, return type and this.
const wrappedAsync = wrapApiCall('create_video', async (engine: string, seconds: number) => ({ engine, seconds }))
expectExact<Equal<typeof wrappedAsync, (this: unknown, engine: string, seconds: number) => Promise<{ engine: string, seconds: number }>>>()
expectType<Promise<{ engine: string, seconds: number }>>(wrappedAsync('runway', 10))
const wrappedSync = wrapApiCall('cost', (seconds: number): number => seconds * 2)
expectExact<Equal<ReturnType<typeof wrappedSync>, number>>()
expectExact<Equal<Parameters<typeof wrappedSync>, [seconds: number]>>()
// @ts-expect-error the wrapped function takes a number
wrappedSync('10')
// @ts-expect-error and exactly one argument
wrappedSync(1, 2)
// @ts-expect-error a name is required
wrapApiCall(() => 1)
const counter = { count: 1, bump: wrapApiCall('bump', function (this: { count: number }, by: number) { return this.count + by }) }
expectType<number>(counter.bump(2))

// @apiCall is a TypeScript 5 standard method decorator: the method's type is unchanged.
class Videos {
  prefix = 'v'
  @apiCall('create_video')
  async create (engine: string): Promise<{ id: string }> { return { id: this.prefix + engine } }

  @apiCall('cost')
  cost (seconds: number): number { return seconds * 2 }
}
const videos = new Videos()
expectExact<Equal<ReturnType<Videos['create']>, Promise<{ id: string }>>>()
expectType<number>(videos.cost(3))
// @ts-expect-error the decorated method still takes a number
videos.cost('3')
class NotAMethod {
  // @ts-expect-error @apiCall decorates methods, not fields
  @apiCall('field') value = 1
}
expectType<number>(new NotAMethod().value)

const id = getRequestId()
expectType<string | undefined>(id)
expectExact<Equal<typeof id, string | undefined>>()
// @ts-expect-error may be undefined outside a request
expectType<string>(getRequestId())

// --- errors and constants ------------------------------------------------------------------

const err = new ApiLoggingError(ERR_INVALID_CONFIG, 'x')
expectType<Error>(err)
expectType<string>(err.code)
expectType<string>(ERR_LOG_DIR)
expectType<string>(ENV_NAMES.logFileMaxBytes)
expectType<ApiLoggingConfigKey>('maxBufferBytes')
// @ts-expect-error not a setting
expectType<ApiLoggingConfigKey>('levle')

// --- inside a route ------------------------------------------------------------------------

app.log.warning('from fastify.log')
app.log.child({}).critical('from a child of fastify.log')
getLogger('x').warning('w')
getLogger('x').critical({ a: 1 }, 'c')
getLogger('x').child({ a: 1 }).warning('w')
// @ts-expect-error no such level name
getLogger('x').notice('n')

app.get('/x', async (request, reply) => {
  request.log.warning('x')
  request.log.critical({ a: 1 }, 'y')
  request.log.child({ b: 2 }).warning('z')
  request.log.info('x')
  request.log.warn({ a: 1 }, 'y')
  request.log.child({ b: 2 }).debug('z')
  expectType<string | undefined>(getRequestId())
  expectType<ApiLoggingConfig>(request.server.apiLogging.config)
  reply.header('x-a', '1')
  return { ok: true }
})

// --- route options (config.apiLogging) and the runtime level -----------------------------

app.get('/off', { config: { apiLogging: false } }, async () => 'off')
app.post('/upload', {
  config: { apiLogging: { requestBody: false, responseBody: true, slowRequestThresholdMs: 5000, level: 'warning', redactKeys: ['pin'], sampleRate: 0.1, headers: ['x-tenant'] } }
}, async () => 'stored')
// Fastify infers each route's config type from the literal given (its ContextConfig type
// parameter) and intersects it with FastifyContextConfig: a misspelt key type-checks in both the
// shorthand and the route() form (the startup check refuses it). `satisfies` catches it.
app.get('/misspelt-short', { config: { apiLogging: { sampelRate: 0.5 } } }, async () => 'x')
app.route({ method: 'GET', url: '/misspelt', config: { apiLogging: { requestBdy: false } }, handler: async () => 'x' })
app.get('/checked', {
  // @ts-expect-error misspelt key, caught by satisfies
  config: { apiLogging: { sampelRate: 0.5 } satisfies RouteLoggingOptions }
}, async () => 'x')
const checked: RouteLoggingOptions = {
  // @ts-expect-error misspelt key in a typed object
  requestBdy: false
}
app.get('/typed', { config: { apiLogging: checked } }, async () => 'x')
// @ts-expect-error a level that is not one
app.get('/bad-level', { config: { apiLogging: { level: 'loud' } } }, async () => 'x')
// @ts-expect-error a number where a boolean is expected
app.get('/bad-type', { config: { apiLogging: { requestBody: 1 } } }, async () => 'x')
// A config object built beforehand is not an object literal at the call: no excess property check.
const prebuilt = { apiLogging: { sampleRate: 0.5, sampelRate: 0.1 } }
app.get('/prebuilt', { config: prebuilt }, async () => 'x')
const typedRoute: RouteLoggingOptions = { level: 'DEBUG', headers: ['x-tenant'] }
expectType<RouteLoggingOptions>(typedRoute)
expectType<string>(ERR_INVALID_ROUTE_CONFIG)

app.apiLogging.setLevel('DEBUG')
app.apiLogging.setLevel('warn')
// @ts-expect-error not a level
app.apiLogging.setLevel('verbose')
expectType<LevelName>(app.apiLogging.getLevel())
expectType<number>(app.apiLogging.stats().sampledOut)

// Trace context and propagation.
const propagated = getPropagationHeaders()
expectType<PropagationHeaders>(propagated)
expectType<string | undefined>(propagated.traceparent)
expectType<Record<string, string>>(propagated)
// @ts-expect-error takes no argument
getPropagationHeaders({})
// Without an argument: Node's own fetch dispatcher (the type @types/node gives fetch's `dispatcher`).
const forFetch = createPropagatingDispatcher()
expectType<FetchDispatcher>(forFetch)
expectType<FetchDispatcher.ComposedDispatcher>(forFetch.compose((dispatch) => dispatch))
fetch('http://127.0.0.1/', { dispatcher: forFetch } as RequestInit).catch(() => {})
// Given the undici package's Agent: that undici's own dispatcher type, for its request().
const forUndici = createPropagatingDispatcher(new Agent())
expectType<UndiciDispatcher.ComposedDispatcher>(forUndici)
undiciRequest('http://127.0.0.1/', { dispatcher: forUndici }).catch(() => {})
expectType<ComposableDispatcher<UndiciDispatcher.ComposedDispatcher>>(new Agent())
// @ts-expect-error not a dispatcher
createPropagatingDispatcher({})
// @ts-expect-error not a dispatcher
createPropagatingDispatcher('http://127.0.0.1')

// Transports: each entry typed; a misspelt level or format and a missing target are compile errors.
const transports: TransportOptions[] = [
  { target: 'pino-socket', options: { address: 'logs.internal', port: 5170 }, level: 'warn' },
  { target: '/opt/transports/audit.mjs', format: 'json', level: 'ERROR' }
]
app.register(apiLogging, { transports, transportCloseTimeoutMs: 2000 })
// @ts-expect-error -- not a level
app.register(apiLogging, { transports: [{ target: 'pino-socket', level: 'loud' }] })
// @ts-expect-error -- not a format
app.register(apiLogging, { transports: [{ target: 'pino-socket', format: 'xml' }] })
// @ts-expect-error -- a target is required
app.register(apiLogging, { transports: [{ options: {} }] })
expectType<TransportStats[]>(app.apiLogging.stats().transports)
expectType<string>(app.apiLogging.stats().transports[0]?.target ?? '')
expectType<number>(app.apiLogging.stats().transports[0]?.restarts ?? 0)
expectType<string>(WARN_TRANSPORT_FAILED + WARN_TRANSPORT_RECOVERED + WARN_TRANSPORT_CLOSE_TIMEOUT)
