import pino from 'pino'
import { requestStorage } from '../context'
import { loggerOptionError } from '../errors'
import { LEVEL_VALUES, normalizeLevel, pinoLevelOf } from '../levels'
import { callerOrigin } from '../origin'
import { activeTarget, onInstancesChanged, type LogTarget, type OpenInstance } from '../registry'
import type { TraceContext } from '../trace-context'
import { addLevelAliases, type LevelAliases } from './aliases'
import { recordFromCall, serialize, type CallExtras, type Serializer } from './record-call'

/** The logger name of `request.log` lines. */
export const REQUEST_LOGGER = 'app'

const MAX_LOGGER_NAME = 128

/**
 * A logger of this package: a pino logger whose lines go to the plugin's sinks, with the guide's
 * level names as methods too (`warning`, `critical`).
 */
export type ApiLogger = Omit<pino.Logger, 'child'> & LevelAliases & {
  /** A child logger, as pino's `child`; the options this package takes are those of `ApiLoggerOptions`. */
  child (bindings: pino.Bindings, options?: pino.ChildLoggerOptions): ApiLogger
}

/**
 * Options of `getLogger(name, options)`: the pino options that make sense when the plugin, not
 * pino, writes and formats the lines. Any other pino option is refused with an error.
 */
export interface ApiLoggerOptions {
  /** Lowest level of this logger (pino's names or ours, any case); the plugin's level still applies. */
  level?: string
  /** Functions applied to the context field of the same name (as pino's `serializers`). */
  serializers?: Record<string, Serializer>
  /** Called on every line; its fields are added to the line, under those of the call (as pino's `mixin`). */
  mixin?: (mergeObject: object, level: number, logger: ApiLogger) => object
  /** How the call's object and the mixin's are merged (as pino's `mixinMergeStrategy`). */
  mixinMergeStrategy?: (mergeObject: object, mixinObject: object) => object
  /** Put in front of every message (as pino's `msgPrefix`). */
  msgPrefix?: string
}

// Why each refused pino option cannot apply: the plugin writes the lines, not pino.
const REFUSED: Readonly<Record<string, string>> = {
  redact: 'redaction is the plugin\'s own, by key name at any depth: add names with LOG_REDACT_KEYS (redactKeys)',
  formatters: 'every sink writes one fixed record shape (docs/formats.md)',
  customLevels: 'records carry a closed set of levels (DEBUG, INFO, WARNING, ERROR, CRITICAL)',
  useOnlyCustomLevels: 'records carry a closed set of levels (DEBUG, INFO, WARNING, ERROR, CRITICAL)',
  transport: 'lines go to the plugin\'s sinks (console, api.log, api_structured.jsonl)',
  timestamp: 'every record has its own timestamp field',
  messageKey: 'every record has its own message field',
  errorKey: 'errors under `err` become the exception fields',
  nestedKey: 'context fields are written at the top level of each record',
  base: 'use child({ ... }) to bind fields',
  enabled: 'use level: \'silent\'',
  hooks: 'the plugin already takes every call through pino\'s logMethod hook',
  browser: 'this logger runs in Node only'
}
const ACCEPTED_CHILD = new Set(['level', 'serializers', 'msgPrefix'])
const ACCEPTED_LOGGER = new Set([...ACCEPTED_CHILD, 'mixin', 'mixinMergeStrategy'])

// Private state of our pino loggers. pino children are `Object.create(parent)`, so a child
// inherits every field below it does not set itself.
const kTarget = Symbol('fastify-api-logging.target')
const kRequestId = Symbol('fastify-api-logging.requestId')
const kTrace = Symbol('fastify-api-logging.trace')
const kLoggerName = Symbol('fastify-api-logging.loggerName')
const kBindings = Symbol('fastify-api-logging.bindings')
const kSerializers = Symbol('fastify-api-logging.serializers')
const kMixin = Symbol('fastify-api-logging.mixin')
const kMixinMerge = Symbol('fastify-api-logging.mixinMergeStrategy')
const kExtras = Symbol('fastify-api-logging.extras')
const kLink = Symbol('fastify-api-logging.link')

/**
 * The registration a `createApiLogger()` logger writes for: unknown (`null`) until the plugin is
 * registered on the Fastify app the logger was given to.
 */
export interface TargetLink {
  target: LogTarget | null
}

interface Internals {
  /** Bound to one instance (request.log children, `fastify.apiLogging.getLogger`). */
  [kTarget]?: LogTarget
  [kRequestId]?: string
  /** The trace of the request `kRequestId` names (`request.log.child()`). */
  [kTrace]?: TraceContext | null
  [kLoggerName]?: string
  [kBindings]?: Record<string, unknown> | null
  [kSerializers]?: Record<string | symbol, Serializer> | null
  [kMixin]?: CallExtras['mixin']
  [kMixinMerge]?: CallExtras['mixinMergeStrategy']
  /** What `recordFromCall` needs from this logger, built once per logger. */
  [kExtras]?: CallExtras | null
  /** Set on the loggers of `createApiLogger()`, Fastify's own logger, and their children. */
  [kLink]?: TargetLink
}

type Internal = pino.Logger & Internals

function internals (logger: pino.Logger | ApiLogger): Internal {
  return logger as Internal
}

// Every logger made here has the aliases (set on the root, inherited) and our child().
function asApiLogger (logger: Internal): ApiLogger {
  return logger as unknown as ApiLogger
}

function levelName (value: string | undefined, where: string): string | undefined {
  if (value === undefined) return undefined
  const canonical = normalizeLevel(value)
  if (canonical === undefined) throw loggerOptionError(`${where}: unknown level ${JSON.stringify(value)}; use one of trace, debug, info, warn, error, fatal, silent (or DEBUG, INFO, WARNING, ERROR, CRITICAL)`)
  return pinoLevelOf(LEVEL_VALUES[canonical])
}

function checkOptions (options: object, accepted: ReadonlySet<string>, where: string): void {
  for (const key of Object.keys(options)) {
    // Fastify passes `{ logger: undefined, genReqId: undefined, ... }` to its logger's child().
    if (accepted.has(key) || (options as Record<string, unknown>)[key] === undefined) continue
    const why = REFUSED[key]
    throw loggerOptionError(why !== undefined
      ? `${where}: pino's ${key} option is not supported here: ${why}`
      : `${where}: unknown option ${key}; supported: ${[...accepted].join(', ')}`)
  }
}

// The keys pino itself never binds (they are child() options, not fields).
const NOT_BINDINGS = new Set(['level', 'serializers', 'formatters', 'customLevels'])

function serializedBindings (bindings: pino.Bindings, serializers: Record<string | symbol, Serializer> | null): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(bindings)) {
    const value = bindings[key]
    if (NOT_BINDINGS.has(key) || value === undefined) continue
    out[key] = serializers === null ? value : serialize(serializers, key, value)
  }
  return out
}

function extrasOf (logger: Internal): CallExtras | null {
  if (Object.prototype.hasOwnProperty.call(logger, kExtras)) return logger[kExtras] as CallExtras | null
  const bindings = logger[kBindings] ?? null
  const serializers = logger[kSerializers] ?? null
  const mixin = logger[kMixin] ?? null
  const msgPrefix = logger.msgPrefix
  const extras = bindings === null && serializers === null && mixin === null && (msgPrefix === undefined || msgPrefix === '')
    ? null
    : { bindings, serializers, mixin, mixinMergeStrategy: logger[kMixinMerge] ?? null, msgPrefix: msgPrefix === '' ? undefined : msgPrefix, logger }
  logger[kExtras] = extras
  return extras
}

// pino gives users the API they know (child, level, isLevelEnabled, bindings); its logMethod hook
// takes each call's arguments before pino serializes anything, and our sinks format them.
function logMethod (this: pino.Logger, args: unknown[], _method: unknown, level: number): void {
  const self = internals(this)
  const link = self[kLink]
  if (link !== undefined && isFastifyRequestLine(args)) return
  const scope = requestStorage.getStore()
  // A logger made by createApiLogger() follows the registration it was given to, once it is open.
  const bound = self[kTarget] ?? link?.target ?? undefined
  const scoped = scope?.target
  // Inside a request, a logger bound to its registration follows the request's own view of it
  // (the route's level and redaction, the request's sampling).
  const target = bound === undefined
    ? scoped ?? activeTarget()
    : scoped !== undefined && scoped.registration === bound ? scoped : bound
  if (level < target.minLevel) return
  // A request's id belongs on the lines of that request's own instance only.
  const ownScope = scope !== undefined && scope.target === target ? scope : undefined
  const boundId = self[kRequestId]
  const requestId = boundId ?? ownScope?.id ?? null
  // A logger bound to a request id carries that request's trace; Fastify's per-request child
  // (bound by `reqId`) takes it from the request running, when that is the same request.
  const trace = boundId === undefined
    ? ownScope?.trace ?? null
    : self[kTrace] ?? (ownScope !== undefined && ownScope.id === boundId ? ownScope.trace : null)
  target.emit(recordFromCall(target, level, self[kLoggerName] ?? REQUEST_LOGGER, requestId, trace, extrasOf(self), args, callerOrigin(), ownScope))
}

// Fastify's own per-request lines, as its LogController writes them: the plugin's request lines
// say the same with more context, so on a `createApiLogger()` logger they would be written twice.
// Recognised by message and shape, which costs two comparisons, not a stack capture.
function isFastifyRequestLine (args: unknown[]): boolean {
  const message = args[1]
  if (message !== 'incoming request' && message !== 'request completed' && message !== 'request errored') return false
  const object = args[0] as Record<string, unknown> | null
  return object !== null && typeof object === 'object' && (message === 'incoming request' ? 'req' in object : 'responseTime' in object)
}

const nowhere = { write (): void {} }
const root = internals(pino({ level: 'info', base: null, timestamp: false, hooks: { logMethod } }, nowhere))
type PinoChild = (this: pino.Logger, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => pino.Logger
const pinoChild = Object.getPrototypeOf(root).child as PinoChild
const pinoSetBindings = Object.getPrototypeOf(root).setBindings as pino.Logger['setBindings']
addLevelAliases(root)

// Every child of every logger of ours passes here (an own property of the root, so found first on
// the prototype chain): options are checked, and the bindings kept already serialized.
Object.defineProperty(root, 'child', {
  value: function child (this: Internal, bindings: pino.Bindings, options?: pino.ChildLoggerOptions): ApiLogger {
    if (options != null) checkOptions(options, ACCEPTED_CHILD, 'child()')
    const pinoOptions: pino.ChildLoggerOptions | undefined = options == null
      ? undefined
      : { ...options, ...(options.level !== undefined ? { level: levelName(String(options.level), 'child()') } : {}) }
    // Fastify binds each request's id as `reqId` on its per-request child: for Fastify's own
    // logger, it becomes the lines' request_id rather than a field.
    let requestId: string | undefined
    if (this[kLink] !== undefined && typeof bindings?.reqId === 'string') {
      const { reqId, ...rest } = bindings
      requestId = reqId
      bindings = rest
    }
    const made = internals(pinoChild.call(this, bindings, pinoOptions))
    if (requestId !== undefined) made[kRequestId] = requestId
    const serializers = options?.serializers !== undefined ? { ...(this[kSerializers] ?? {}), ...options.serializers } : (this[kSerializers] ?? null)
    made[kSerializers] = serializers
    const own = serializedBindings(bindings, serializers)
    const merged = { ...(this[kBindings] ?? {}), ...own }
    made[kBindings] = Object.keys(merged).length === 0 ? null : merged
    return asApiLogger(made)
  }
})

Object.defineProperty(root, 'setBindings', {
  value: function setBindings (this: Internal, bindings: pino.Bindings): void {
    pinoSetBindings.call(this, bindings)
    const merged = { ...(this[kBindings] ?? {}), ...serializedBindings(bindings, this[kSerializers] ?? null) }
    this[kBindings] = Object.keys(merged).length === 0 ? null : merged
    delete this[kExtras]
  }
})

const namedLoggers = new Map<string, ApiLogger>()
const boundLoggers = new Map<LogTarget, Map<string, ApiLogger>>()

function namedChild (name: string, options: pino.ChildLoggerOptions | undefined): Internal {
  const logger = internals(root.child({}, options))
  logger[kLoggerName] = String(name).slice(0, MAX_LOGGER_NAME)
  return logger
}

/**
 * A logger for application code. Its lines carry `logger: name` and, inside a request, that
 * request's `request_id`, with nothing passed. Inside a request they go to that request's plugin
 * instance; outside any request to the newest open one (or to stderr when none is open). It is a
 * pino logger: `child`, `level`, `isLevelEnabled` and `bindings` work as usual.
 *
 * Without `options` the logger of a name is made once and shared; with them, a new one is made.
 * Of pino's options it takes `level`, `serializers`, `mixin`, `mixinMergeStrategy` and
 * `msgPrefix`, and refuses the others with an error saying why.
 */
export function getLogger (name: string, options?: ApiLoggerOptions): ApiLogger {
  if (options === undefined) {
    let logger = namedLoggers.get(name)
    if (logger === undefined) {
      logger = asApiLogger(namedChild(name, undefined))
      namedLoggers.set(name, logger)
    }
    return logger
  }
  checkOptions(options, ACCEPTED_LOGGER, 'getLogger()')
  for (const fn of ['mixin', 'mixinMergeStrategy'] as const) {
    if (options[fn] !== undefined && typeof options[fn] !== 'function') throw loggerOptionError(`getLogger(): ${fn} must be a function`)
  }
  const { mixin, mixinMergeStrategy, ...childOptions } = options
  const logger = namedChild(name, childOptions as pino.ChildLoggerOptions)
  if (mixin !== undefined) logger[kMixin] = mixin as CallExtras['mixin']
  if (mixinMergeStrategy !== undefined) logger[kMixinMerge] = mixinMergeStrategy
  return asApiLogger(logger)
}

/** A logger whose lines always go to `target` (`fastify.apiLogging.getLogger`). */
export function boundLogger (name: string, target: LogTarget): ApiLogger {
  let byName = boundLoggers.get(target)
  if (byName === undefined) {
    byName = new Map()
    boundLoggers.set(target, byName)
    boundLevels.set(target, pinoLevelOf(lowestOf(target)))
  }
  let logger = byName.get(name)
  if (logger === undefined) {
    const made = namedChild(name, { level: pinoLevelOf(lowestOf(target)) })
    made[kTarget] = target
    logger = asApiLogger(made)
    byName.set(name, logger)
  }
  return logger
}

/**
 * A logger for `Fastify({ loggerInstance })` (`createApiLogger`): named `name`, at `level`
 * (pino's name), writing to `link.target` once the plugin sets it.
 */
export function linkedLogger (name: string, level: string, link: TargetLink): ApiLogger {
  const logger = namedChild(name, { level })
  logger[kLink] = link
  return asApiLogger(logger)
}

/** The link of a `createApiLogger()` logger or of one of its children (Fastify's `fastify.log`). */
export function linkOf (logger: unknown): TargetLink | undefined {
  return logger !== null && typeof logger === 'object' ? (logger as Internals)[kLink] : undefined
}

/** The pino logger behind `request.log.child()`: bound to the request's instance, id and trace. */
export function requestChild (target: LogTarget, requestId: string, trace: TraceContext | null, minLevel: number, bindings: pino.Bindings, options?: pino.ChildLoggerOptions): ApiLogger {
  const child = internals(root.child(bindings, options))
  child[kTarget] = target
  child[kRequestId] = requestId
  child[kTrace] = trace
  child[kLoggerName] = REQUEST_LOGGER
  if (options?.level === undefined) child.level = pinoLevelOf(minLevel)
  return asApiLogger(child)
}

// pino's own level check runs before ours: it lets through what the most verbose open instance
// writes, and each instance then keeps what its own level allows. A logger whose level the
// application changed keeps that level.
let syncedLevel = root.level
const boundLevels = new Map<LogTarget, string>()

function lowestOf (target: LogTarget): number {
  return (target as Partial<OpenInstance>).lowestLevel ?? target.minLevel
}

onInstancesChanged(function syncLevels (instances: readonly OpenInstance[]) {
  const lowest = instances.reduce((min, instance) => Math.min(min, instance.lowestLevel), Infinity)
  const level = instances.length === 0 ? 'info' : pinoLevelOf(lowest)
  if (level !== syncedLevel) {
    if (root.level === syncedLevel) root.level = level
    for (const logger of namedLoggers.values()) if (logger.level === syncedLevel) logger.level = level
    syncedLevel = level
  }
  // The loggers of `fastify.apiLogging.getLogger` follow their own registration's level changes.
  for (const [target, byName] of boundLoggers) {
    if (!instances.includes(target as OpenInstance)) {
      boundLoggers.delete(target)
      boundLevels.delete(target)
      continue
    }
    const was = boundLevels.get(target) ?? pinoLevelOf(lowestOf(target))
    const now = pinoLevelOf(lowestOf(target))
    boundLevels.set(target, now)
    if (was !== now) for (const logger of byName.values()) if (logger.level === was) logger.level = now
  }
})
