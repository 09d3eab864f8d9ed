// Everything the package exports by name. index.ts (CommonJS) puts these on the plugin function
// that `require()` returns; index.mts (ES modules) re-exports them one by one.
import { fastifyApiLogging } from './plugin'

export { fastifyApiLogging }
/** The plugin under its earlier name; the same function as `fastifyApiLogging`. */
export const apiLoggingPlugin = fastifyApiLogging
export type { ApiLoggingOptions, ApiLoggingDecorator, ApiLoggingStats } from './plugin'
export type { RouteLoggingOptions } from './route-settings'
export { ApiLoggingConfigSchema, ENV_NAMES } from './settings'
export type { ApiLoggingConfig, ApiLoggingConfigKey } from './settings'
export type { ApiLoggingSettings } from './settings.generated'
export { loadConfig, allowedValues } from './config'
export type { InvalidSetting, LoadConfigOptions } from './config'
export { getRequestId } from './context'
export { getPropagationHeaders, createPropagatingDispatcher } from './propagation'
export type { PropagationHeaders, ComposableDispatcher } from './propagation'
export { getLogger } from './logger/app-logger'
export type { ApiLogger, ApiLoggerOptions } from './logger/app-logger'
export type { LevelAliases } from './logger/aliases'
export { logApiCall, wrapApiCall, apiCall } from './logger/api-call'
export { createApiLogger } from './fastify-logger'
export { startPrimaryWriter } from './cluster'
export type { PrimaryWriter } from './cluster'
export {
  ApiLoggingError, ERR_INVALID_CONFIG, ERR_INVALID_ROUTE_CONFIG, ERR_LOG_DIR, ERR_LOGGER_OPTION, ERR_LOG_FILE_LOCKED, WARN_UNKNOWN_SETTING, WARN_WRITE_FAILED,
  WARN_WRITE_RECOVERED, WARN_FILE_REOPENED, WARN_FASTIFY_REQUEST_LOGGING, WARN_TRANSPORT_FAILED, WARN_TRANSPORT_RECOVERED, WARN_TRANSPORT_CLOSE_TIMEOUT
} from './errors'
export type { SinkStats, TransportStats } from './sinks/output'
export type { TransportOptions } from './transports'
export type { LevelName } from './levels'
