import createError from '@fastify/error'
import { createWarning } from 'process-warning'

/**
 * The base of every error fastify-api-logging throws: match on `code` (`FST_API_LOGGING_…`) or on
 * `instanceof ApiLoggingError`. The errors themselves are made by `@fastify/error`, as Fastify's
 * own are.
 */
export class ApiLoggingError extends Error {
  readonly code: string

  constructor (code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ApiLoggingError'
    this.code = code
  }
}

/** One or more settings are invalid; the message names each variable, its value and what is allowed. */
export const ERR_INVALID_CONFIG = 'FST_API_LOGGING_CONFIG'
/** A route's `config.apiLogging` is invalid; the message names the route, each key and what it allows. */
export const ERR_INVALID_ROUTE_CONFIG = 'FST_API_LOGGING_ROUTE_CONFIG'
/** The log directory cannot be created or written. */
export const ERR_LOG_DIR = 'FST_API_LOGGING_LOG_DIR'
/** `getLogger()` or `.child()` was given a pino option this package cannot honour. */
export const ERR_LOGGER_OPTION = 'FST_API_LOGGING_LOGGER_OPTION'
/** The code of the process warning for a variable one edit away from a setting's name (`LOG_LEVLE`). */
export const WARN_UNKNOWN_SETTING = 'FST_API_LOGGING_UNKNOWN_SETTING'
/** Another process (or registration) already writes the same active log file. */
export const ERR_LOG_FILE_LOCKED = 'FST_API_LOGGING_LOG_FILE_LOCKED'
/** The code of the process warning emitted once when a sink starts failing to write; the sink retries. */
export const WARN_WRITE_FAILED = 'FST_API_LOGGING_WRITE_FAILED'
/** The code of the process warning emitted once a failing sink writes again: the lines lost and for how long. */
export const WARN_WRITE_RECOVERED = 'FST_API_LOGGING_WRITE_RECOVERED'
/** The code of the process warning emitted once when Fastify's own logger also logs every request. */
export const WARN_FASTIFY_REQUEST_LOGGING = 'FST_API_LOGGING_FASTIFY_REQUEST_LOGGING'
/** The code of the process warning emitted when an active file or the log folder was deleted by someone else. */
export const WARN_FILE_REOPENED = 'FST_API_LOGGING_FILE_REOPENED'
/** The code of the process warning emitted once when a pino transport fails (to start, in a write, or its worker died); it is started again. */
export const WARN_TRANSPORT_FAILED = 'FST_API_LOGGING_TRANSPORT_FAILED'
/** The code of the process warning emitted once a failed transport takes lines again: the lines lost and for how long. */
export const WARN_TRANSPORT_RECOVERED = 'FST_API_LOGGING_TRANSPORT_RECOVERED'
/** The code of the process warning emitted when a transport did not finish within LOG_TRANSPORT_CLOSE_TIMEOUT_MS of `app.close()`. */
export const WARN_TRANSPORT_CLOSE_TIMEOUT = 'FST_API_LOGGING_TRANSPORT_CLOSE_TIMEOUT'

// Messages are built by the callers (they name settings, values and paths), so each error's
// format is a single `%s`; the status code is @fastify/error's default, as for Fastify's own
// plugin errors.
const Base = ApiLoggingError as unknown as ErrorConstructor
const ConfigError = createError(ERR_INVALID_CONFIG, '%s', undefined, Base)
const LogDirError = createError(ERR_LOG_DIR, '%s', undefined, Base)
const RouteConfigError = createError(ERR_INVALID_ROUTE_CONFIG, '%s', undefined, Base)
const LoggerOptionError = createError(ERR_LOGGER_OPTION, '%s', undefined, Base)
const LogFileLockedError = createError(ERR_LOG_FILE_LOCKED, '%s', undefined, Base)

type Cause = { cause: unknown } | undefined
type Constructor = ReturnType<typeof createError>

function make (Ctor: Constructor, message: string, cause: Cause): ApiLoggingError {
  return (cause === undefined ? new Ctor(message) : new Ctor(message, cause)) as unknown as ApiLoggingError
}

export function configError (message: string, cause?: Cause): ApiLoggingError {
  return make(ConfigError, message, cause)
}

export function routeConfigError (message: string): ApiLoggingError {
  return make(RouteConfigError, message, undefined)
}

export function logDirError (message: string, cause?: Cause): ApiLoggingError {
  return make(LogDirError, message, cause)
}

export function loggerOptionError (message: string): ApiLoggingError {
  return make(LoggerOptionError, message, undefined)
}

export function logFileLockedError (message: string): ApiLoggingError {
  return make(LogFileLockedError, message, undefined)
}

// Each is emitted once per episode by its caller, so none of them is limited to once per process.
/** Emitted when a sink starts failing: `(sink, destination, reason)`; it retries. */
export const writeFailedWarning = createWarning({
  name: 'FastifyApiLoggingWarning',
  code: WARN_WRITE_FAILED,
  message: '%s sink cannot write %s: %s',
  unlimited: true
})

/** Emitted when a failing sink writes again: `(sink, destination, what was lost)`. */
export const writeRecoveredWarning = createWarning({
  name: 'FastifyApiLoggingWarning',
  code: WARN_WRITE_RECOVERED,
  message: '%s sink writes %s again: %s',
  unlimited: true
})

/** Emitted when an active file or the log folder disappeared under the plugin: `(path, what happened)`. */
export const fileReopenedWarning = createWarning({
  name: 'FastifyApiLoggingWarning',
  code: WARN_FILE_REOPENED,
  message: '%s %s',
  unlimited: true
})

/** Emitted when a transport fails: `(target, reason)`; its worker is started again. */
export const transportFailedWarning = createWarning({
  name: 'FastifyApiLoggingWarning',
  code: WARN_TRANSPORT_FAILED,
  message: 'transport %s fails: %s',
  unlimited: true
})

/** Emitted when a failed transport takes lines again: `(target, what was lost)`. */
export const transportRecoveredWarning = createWarning({
  name: 'FastifyApiLoggingWarning',
  code: WARN_TRANSPORT_RECOVERED,
  message: 'transport %s works again: %s',
  unlimited: true
})

/** Emitted when a transport overran its close bound: `(target, what happened)`. */
export const transportClosedLateWarning = createWarning({
  name: 'FastifyApiLoggingWarning',
  code: WARN_TRANSPORT_CLOSE_TIMEOUT,
  message: 'transport %s %s',
  unlimited: true
})

/** `(variable, setting)`: once per misspelt variable and process. */
export const unknownSettingWarning = createWarning({
  name: 'FastifyApiLoggingWarning',
  code: WARN_UNKNOWN_SETTING,
  message: '%s is not a setting; did you mean %s?',
  unlimited: true
})

/** Once per process: Fastify's logger is on and writes its own request lines, next to the plugin's. */
export const fastifyRequestLoggingWarning = createWarning({
  name: 'FastifyApiLoggingWarning',
  code: WARN_FASTIFY_REQUEST_LOGGING,
  message: 'Fastify\'s own logger writes "incoming request" and "request completed" for every request, beside the plugin\'s request lines: ' +
    'pass Fastify({ loggerInstance: createApiLogger() }) to put Fastify\'s lines in the plugin\'s files without them, or set disableRequestLogging: true'
})
