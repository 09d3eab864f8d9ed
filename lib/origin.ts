import { findSourceMap } from 'node:module'
import { basename, dirname, extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { jsonOriginPart } from './format/json'
import type { Origin } from './record'

const OWN_DIR = __dirname
const PINO_DIR = dirname(require.resolve('pino'))
const FASTIFY_DIR = dirname(require.resolve('fastify'))
const DEPTH = 16
const PLUGIN_MODULE = 'plugin'

export const UNKNOWN_ORIGIN: Origin = Object.freeze({ module: 'unknown', function: '<unknown>', line: 0 })
/**
 * Returned for a call made by Fastify itself through `request.log` ("Route GET:/x not found"):
 * the plugin's completion line already says it, with more context.
 */
export const FRAMEWORK_ORIGIN: Origin = Object.freeze({ module: 'fastify', function: '<fastify>', line: 0 })

type CallSites = NodeJS.CallSite[]

function callSites (skip: Function): CallSites {
  const limit = Error.stackTraceLimit
  const prepare = Error.prepareStackTrace
  const holder: { stack?: unknown } = {}
  try {
    Error.stackTraceLimit = DEPTH
    Error.prepareStackTrace = (_error, sites) => sites
    Error.captureStackTrace(holder, skip)
    // V8 builds the stack lazily: read it while our prepareStackTrace is installed.
    const sites = holder.stack
    return Array.isArray(sites) ? sites as CallSites : []
  } finally {
    Error.stackTraceLimit = limit
    Error.prepareStackTrace = prepare
  }
}

function fromSite (site: NodeJS.CallSite): Origin {
  let file = site.getFileName() ?? ''
  if (file.startsWith('file:')) file = fileURLToPath(file)
  let line = site.getLineNumber() ?? 0
  // Call sites give positions in the code that ran; with source maps on (--enable-source-maps,
  // TypeScript loaders) name the line of the source the developer wrote instead.
  const mapped = originalPosition(file, line, site.getColumnNumber() ?? 0)
  if (mapped !== undefined) {
    line = mapped.line
    if (mapped.file !== '') file = mapped.file
  }
  return {
    module: basename(file, extname(file)) || 'unknown',
    function: site.getFunctionName() ?? '<anonymous>',
    line
  }
}

function originalPosition (file: string, line: number, column: number): { file: string, line: number } | undefined {
  if (file === '' || line === 0) return undefined
  try {
    const map = findSourceMap(file)
    if (map === undefined) return undefined
    const entry = map.findEntry(line - 1, Math.max(column - 1, 0)) as { originalLine?: number, originalSource?: string }
    if (entry.originalLine === undefined) return undefined
    const source = entry.originalSource ?? ''
    return { file: source.startsWith('file:') ? fileURLToPath(source) : source, line: entry.originalLine + 1 }
  } catch {
    return undefined
  }
}

function isOurs (file: string | null): boolean {
  if (file === null) return true
  if (file.startsWith('node:')) return true
  const path = file.startsWith('file:') ? fileURLToPath(file) : file
  return path.startsWith(OWN_DIR) || path.startsWith(PINO_DIR)
}

/**
 * The application code that called into a logger: the first frame outside this package and
 * pino. Costs a short stack capture, so it is used for application lines only.
 */
export function callerOrigin (): Origin {
  for (const site of callSites(callerOrigin)) {
    const file = site.getFileName() ?? null
    if (isOurs(file)) continue
    if (file !== null && file.startsWith(FASTIFY_DIR)) return FRAMEWORK_ORIGIN
    return fromSite(site)
  }
  return UNKNOWN_ORIGIN
}

/**
 * One of the plugin's own log statements. Its origin is captured the first time it logs and
 * cached: it never changes, so it is not captured per request. Its `module` is always `plugin`,
 * whichever file of the package holds the statement, so the plugin's own lines keep one stable
 * name for filters and dashboards; `function` is the hook that logs, `line` the statement's line.
 */
export class LogSite {
  private readonly functionName: string
  private cached: Origin | null = null

  constructor (functionName: string) {
    this.functionName = functionName
  }

  origin (): Origin {
    if (this.cached === null) {
      const site = callSites(LogSite.prototype.origin)[0]
      const line = site === undefined ? 0 : fromSite(site).line
      this.cached = Object.freeze({ module: PLUGIN_MODULE, function: this.functionName, line, json: jsonOriginPart(PLUGIN_MODULE, this.functionName, line) })
    }
    return this.cached
  }
}
