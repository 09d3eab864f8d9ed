/**
 * Errors thrown by fastify-api-logging carry a stable `code`, so callers can match on it.
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
export const ERR_INVALID_CONFIG = 'ERR_API_LOGGING_INVALID_CONFIG'
/** The log directory cannot be created or written. */
export const ERR_LOG_DIR = 'ERR_API_LOGGING_LOG_DIR'
