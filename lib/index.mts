// The ES module entry re-exports the CommonJS build, so both kinds of importer share one
// instance (one AsyncLocalStorage, one set of open sinks).
import { apiLoggingPlugin } from './index.js'

export default apiLoggingPlugin
export * from './index.js'
