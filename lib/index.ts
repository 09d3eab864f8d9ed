import { fastifyApiLogging } from './plugin'

export { fastifyApiLogging }
/** The plugin under its earlier name; the same function as `fastifyApiLogging`. */
export const apiLoggingPlugin = fastifyApiLogging
export default fastifyApiLogging
export type { ApiLoggingOptions, ApiLoggingDecorator } from './plugin'
export { ApiLoggingConfigSchema, ENV_NAMES } from './settings'
export type { ApiLoggingConfig, ApiLoggingConfigKey } from './settings'
export type { ApiLoggingSettings } from './settings.generated'
export { loadConfig, allowedValues } from './config'
export type { InvalidSetting, LoadConfigOptions } from './config'
export { getRequestId } from './context'
export { getLogger } from './logger/app-logger'
export type { ApiLogger, ApiLoggerOptions } from './logger/app-logger'
export { logApiCall } from './logger/api-call'
export { ApiLoggingError, ERR_INVALID_CONFIG, ERR_LOG_DIR, ERR_LOGGER_OPTION, WARN_UNKNOWN_SETTING, WARN_WRITE_FAILED } from './errors'
export type { ApiLoggingStats, SinkStats } from './sinks/output'
export type { LevelName } from './levels'

// require('fastify-api-logging') returns the plugin itself, as every @fastify plugin does, with
// the named exports (and `default`) as its properties.
module.exports = Object.assign(fastifyApiLogging, exports)
