// The ES module entry re-exports the CommonJS build, so both kinds of importer share one
// instance (one AsyncLocalStorage, one set of open sinks). Every name is listed: a CommonJS
// module whose value is assigned whole (`module.exports = plugin`) has no named exports that
// Node could find by itself. test/exports.test.ts checks that both entries export the same names.
import plugin from './index.js'

export default plugin
export const fastifyApiLogging = plugin.fastifyApiLogging
export const apiLoggingPlugin = plugin.apiLoggingPlugin
export const ApiLoggingConfigSchema = plugin.ApiLoggingConfigSchema
export const ENV_NAMES = plugin.ENV_NAMES
export const loadConfig = plugin.loadConfig
export const allowedValues = plugin.allowedValues
export const getRequestId = plugin.getRequestId
export const getPropagationHeaders = plugin.getPropagationHeaders
export const createPropagatingDispatcher = plugin.createPropagatingDispatcher
export const getLogger = plugin.getLogger
export const logApiCall = plugin.logApiCall
export const wrapApiCall = plugin.wrapApiCall
export const apiCall = plugin.apiCall
export const createApiLogger = plugin.createApiLogger
export const startPrimaryWriter = plugin.startPrimaryWriter
export const ApiLoggingError = plugin.ApiLoggingError
export const ERR_INVALID_CONFIG = plugin.ERR_INVALID_CONFIG
export const ERR_INVALID_ROUTE_CONFIG = plugin.ERR_INVALID_ROUTE_CONFIG
export const ERR_LOG_DIR = plugin.ERR_LOG_DIR
export const ERR_LOGGER_OPTION = plugin.ERR_LOGGER_OPTION
export const ERR_LOG_FILE_LOCKED = plugin.ERR_LOG_FILE_LOCKED
export const WARN_UNKNOWN_SETTING = plugin.WARN_UNKNOWN_SETTING
export const WARN_WRITE_FAILED = plugin.WARN_WRITE_FAILED
export const WARN_WRITE_RECOVERED = plugin.WARN_WRITE_RECOVERED
export const WARN_FILE_REOPENED = plugin.WARN_FILE_REOPENED
export const WARN_FASTIFY_REQUEST_LOGGING = plugin.WARN_FASTIFY_REQUEST_LOGGING
export const WARN_TRANSPORT_FAILED = plugin.WARN_TRANSPORT_FAILED
export const WARN_TRANSPORT_RECOVERED = plugin.WARN_TRANSPORT_RECOVERED
export const WARN_TRANSPORT_CLOSE_TIMEOUT = plugin.WARN_TRANSPORT_CLOSE_TIMEOUT

export type ApiLoggingOptions = plugin.ApiLoggingOptions
export type ApiLoggingDecorator = plugin.ApiLoggingDecorator
export type RouteLoggingOptions = plugin.RouteLoggingOptions
export type ApiLoggingConfig = plugin.ApiLoggingConfig
export type ApiLoggingConfigKey = plugin.ApiLoggingConfigKey
export type ApiLoggingSettings = plugin.ApiLoggingSettings
export type InvalidSetting = plugin.InvalidSetting
export type LoadConfigOptions = plugin.LoadConfigOptions
export type ApiLogger = plugin.ApiLogger
export type ApiLoggerOptions = plugin.ApiLoggerOptions
export type LevelAliases = plugin.LevelAliases
export type ApiLoggingError = plugin.ApiLoggingError
export type ApiLoggingStats = plugin.ApiLoggingStats
export type SinkStats = plugin.SinkStats
export type TransportStats = plugin.TransportStats
export type TransportOptions = plugin.TransportOptions
export type PrimaryWriter = plugin.PrimaryWriter
export type LevelName = plugin.LevelName
export type PropagationHeaders = plugin.PropagationHeaders
export type ComposableDispatcher<Composed> = plugin.ComposableDispatcher<Composed>
