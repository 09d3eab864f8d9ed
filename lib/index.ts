import { apiLoggingPlugin } from './plugin'

export { apiLoggingPlugin }
export default apiLoggingPlugin
export type { ApiLoggingOptions, ApiLoggingDecorator } from './plugin'
export { ApiLoggingConfigSchema, ENV_NAMES, loadConfig, allowedValues } from './config'
export type { ApiLoggingConfig, ApiLoggingConfigKey, ApiLoggingSettings, LoadConfigOptions } from './config'
export { getRequestId } from './context'
export { getLogger, logApiCall } from './logger'
export { ApiLoggingError, ERR_INVALID_CONFIG, ERR_LOG_DIR } from './errors'
export type { ApiLoggingStats, SinkStats } from './sinks'
export type { LevelName } from './levels'

// require('fastify-api-logging') returns the plugin itself, as every @fastify plugin does, with
// the named exports (and `default`) as its properties.
module.exports = Object.assign(apiLoggingPlugin, exports)
