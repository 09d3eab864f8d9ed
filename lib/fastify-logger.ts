import type { FastifyInstance } from 'fastify'
import { resolveConfig, type LoadConfigOptions } from './config'
import { configError, fastifyRequestLoggingWarning } from './errors'
import type { ApiLoggingInstance } from './instance'
import { LEVEL_VALUES, pinoLevelOf } from './levels'
import { linkedLogger, linkOf, type ApiLogger, type TargetLink } from './logger/app-logger'
import type { ApiLoggingOptions } from './plugin'
import { FASTIFY_REGISTER_KEYS } from './settings'

/** The logger name of Fastify's own lines ("Server listening at ...", its error handler's). */
export const FASTIFY_LOGGER = 'fastify'

/** What `createApiLogger()` hands the plugin through Fastify's logger: its options, and its registration once open. */
class LoggerLink implements TargetLink {
  readonly options: ApiLoggingOptions
  target: ApiLoggingInstance | null = null
  readonly logger: ApiLogger

  constructor (options: ApiLoggingOptions, level: string) {
    this.options = options
    this.logger = linkedLogger(FASTIFY_LOGGER, level, this)
  }
}

/** The register options without the keys Fastify reads itself (`prefix`, `logLevel`, ...). */
export function ownOptions (options: ApiLoggingOptions): LoadConfigOptions & ApiLoggingOptions {
  const own: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options)) if (!FASTIFY_REGISTER_KEYS.has(key)) own[key] = value
  return own
}

/**
 * A pino-compatible logger for `Fastify({ loggerInstance: createApiLogger() })`: Fastify's own
 * lines ("Server listening at ...", `fastify.log`, its default error handler, its warnings) go to
 * the plugin's sinks and formats, with `logger: fastify`. Fastify's "incoming request" and
 * "request completed" lines are dropped: the plugin writes the request lines.
 *
 * It takes the plugin's options and reads the environment and `.env` as `register` does, and
 * fails the same way on a bad value, at once. Nothing is opened here: the plugin, registered on
 * the same app, opens the files once with these options (its own register options added on top)
 * and the logger writes there. Until then its lines go where `getLogger()` lines go.
 */
export function createApiLogger (options: ApiLoggingOptions = {}): ApiLogger {
  const own = ownOptions(options)
  const config = resolveConfig(own, 'register')
  return new LoggerLink(Object.freeze(own), pinoLevelOf(LEVEL_VALUES[config.level])).logger
}

/** The `createApiLogger()` link of this app's logger, if it has one. */
export function loggerLinkOf (fastify: FastifyInstance): LoggerLink | null {
  const link = linkOf(fastify.log)
  return link instanceof LoggerLink ? link : null
}

/** Refuses a second registration for one logger while the first is open (it would open the same files twice). */
export function ensureLoggerFree (link: LoggerLink): void {
  if (link.target !== null) {
    throw configError('createApiLogger(): this logger already writes for a registration of the plugin that is still open; call createApiLogger() once per Fastify app')
  }
}

/** Points the logger, and Fastify's loggers made from it, at the registration. */
export function attachLogger (link: LoggerLink, instance: ApiLoggingInstance): void {
  ensureLoggerFree(link)
  link.target = instance
  // Register options may have changed the level: Fastify's loggers follow the registration's.
  link.logger.level = pinoLevelOf(instance.minLevel)
}

export function detachLogger (link: LoggerLink, instance: ApiLoggingInstance): void {
  if (link.target === instance) link.target = null
}

const kLogController = 'fastify.logController'

/**
 * Whether Fastify writes its own "incoming request" / "request completed" lines, to a logger of
 * its own: a logger is enabled, and neither `disableRequestLogging` nor a LogController says
 * otherwise. A LogController subclass is the application's own decision, so it counts as off.
 */
export function fastifyLogsRequests (fastify: FastifyInstance): boolean {
  const level = (fastify.log as { level?: unknown }).level
  if (typeof level !== 'string' || level === 'silent') return false
  if (fastify.initialConfig.disableRequestLogging !== false) return false
  const controller = logControllerOf(fastify)
  if (controller === undefined) return true
  return controller.constructor.name === 'LogController' && controller.disableRequestLogging === false
}

// Fastify keeps its LogController under a private symbol; found by its description.
function logControllerOf (fastify: FastifyInstance): { disableRequestLogging?: unknown, constructor: { name: string } } | undefined {
  for (let object: object | null = fastify; object !== null; object = Object.getPrototypeOf(object)) {
    for (const symbol of Object.getOwnPropertySymbols(object)) {
      if (symbol.description === kLogController) return (object as Record<symbol, { disableRequestLogging?: unknown, constructor: { name: string } }>)[symbol]
    }
  }
  return undefined
}

/** Warns once per process when Fastify's own request logging would write every request twice. */
export function warnOnFastifyRequestLogging (fastify: FastifyInstance): void {
  if (fastifyLogsRequests(fastify)) fastifyRequestLoggingWarning()
}
