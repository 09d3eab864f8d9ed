import './tick-shape'
import * as api from './api'

/**
 * The plugin. `require('fastify-api-logging')` returns it, as every @fastify plugin does, with
 * every named export (and `default`) as its properties; the declarations say exactly that
 * (`export =`), so `import apiLogging = require(...)`, `checkJs` and `import apiLogging from`
 * all see the value that is there at run time.
 */
const fastifyApiLogging = Object.assign(api.fastifyApiLogging, api, { default: api.fastifyApiLogging })

// The types of the named exports, reachable as `fastifyApiLogging.ApiLoggingOptions` and by
// `import type { ApiLoggingOptions } from 'fastify-api-logging'`.
// eslint-disable-next-line @typescript-eslint/no-redeclare -- a value and its namespace of types: the one way to type an `export =` value
declare namespace fastifyApiLogging {
  export type ApiLoggingOptions = api.ApiLoggingOptions
  export type ApiLoggingDecorator = api.ApiLoggingDecorator
  export type RouteLoggingOptions = api.RouteLoggingOptions
  export type ApiLoggingConfig = api.ApiLoggingConfig
  export type ApiLoggingConfigKey = api.ApiLoggingConfigKey
  export type ApiLoggingSettings = api.ApiLoggingSettings
  export type InvalidSetting = api.InvalidSetting
  export type LoadConfigOptions = api.LoadConfigOptions
  export type ApiLogger = api.ApiLogger
  export type ApiLoggerOptions = api.ApiLoggerOptions
  export type LevelAliases = api.LevelAliases
  export type ApiLoggingError = api.ApiLoggingError
  export type ApiLoggingStats = api.ApiLoggingStats
  export type SinkStats = api.SinkStats
  export type TransportStats = api.TransportStats
  export type TransportOptions = api.TransportOptions
  export type PrimaryWriter = api.PrimaryWriter
  export type LevelName = api.LevelName
  export type PropagationHeaders = api.PropagationHeaders
  export type ComposableDispatcher<Composed> = api.ComposableDispatcher<Composed>
}

export = fastifyApiLogging
