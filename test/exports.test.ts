import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ENV_NAMES } from '../dist/index.js'
import { readJsonLines, tempDir } from './helpers/app'

// Each export form runs in its own node process, from a temp directory, against the built package.
const PKG_DIR = resolve(__dirname, '..')
const CHILD_TIMEOUT_MS = 60_000

const NAMED_FUNCTIONS = ['loadConfig', 'getRequestId', 'getPropagationHeaders', 'createPropagatingDispatcher', 'getLogger', 'logApiCall', 'wrapApiCall', 'apiCall', 'allowedValues', 'ApiLoggingError', 'startPrimaryWriter', 'createApiLogger']
const NAMED_OBJECTS = ['ApiLoggingConfigSchema', 'ENV_NAMES']
const NAMED_STRINGS = ['ERR_INVALID_CONFIG', 'ERR_LOG_DIR', 'ERR_LOGGER_OPTION', 'ERR_LOG_FILE_LOCKED', 'WARN_UNKNOWN_SETTING', 'WARN_WRITE_FAILED', 'WARN_WRITE_RECOVERED', 'WARN_FILE_REOPENED', 'WARN_FASTIFY_REQUEST_LOGGING', 'WARN_TRANSPORT_FAILED', 'WARN_TRANSPORT_RECOVERED', 'WARN_TRANSPORT_CLOSE_TIMEOUT']

interface ChildReport {
  [key: string]: unknown
}

/** Runs `file` with node in `cwd` and returns the JSON object it prints last on stdout. */
function runNode (t: Test, file: string, cwd: string, extraEnv: Record<string, string> = {}): ChildReport {
  const env: NodeJS.ProcessEnv = { ...process.env, API_LOGGING_TEST_PKG: PKG_DIR, ...extraEnv }
  for (const name of Object.values(ENV_NAMES)) delete env[name]
  let stdout: string
  try {
    stdout = execFileSync(process.execPath, [file], { cwd, env, encoding: 'utf8', timeout: CHILD_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    const e = err as { status?: number, stdout?: string, stderr?: string, message: string }
    t.fail(`node ${file} failed (status ${String(e.status)}): ${e.stderr ?? e.message}\n${e.stdout ?? ''}`)
    return {}
  }
  const last = stdout.trim().split('\n').pop() ?? ''
  try {
    return JSON.parse(last) as ChildReport
  } catch {
    t.fail(`node ${file} printed no JSON report: ${stdout}`)
    return {}
  }
}

/**
 * Code shared by the children: register the plugin on a fresh app writing to `logDir`, inject one
 * request, flush, and report the response's request id and the JSON lines carrying it.
 * `Fastify`, `plugin` and `getRequestIdFn` come from the child's own imports.
 */
const REQUEST_ROUND_TRIP = `
async function roundTrip (Fastify, plugin, getRequestIdFn, logDir) {
  const fs = require('node:fs')
  const path = require('node:path')
  const app = Fastify()
  await app.register(plugin, { logDir, envFile: false, enableConsoleLogging: false })
  let seenInHandler
  app.get('/ping', async () => { seenInHandler = getRequestIdFn(); return { pong: true } })
  const res = await app.inject({ url: '/ping' })
  await app.apiLogging.flush()
  const file = path.join(logDir, 'api_structured.jsonl')
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
  const requestId = res.headers['x-request-id']
  const lines = text.split('\\n').filter(Boolean).map((line) => JSON.parse(line)).filter((r) => r.request_id === requestId)
  const config = app.apiLogging.config
  await app.close()
  return { statusCode: res.statusCode, body: res.json(), requestId, seenInHandler, lines: lines.map((r) => r.message), configLogDir: config.logDir }
}
`

function checkRoundTrip (t: Test, report: unknown, logDir: string): void {
  const r = report as { statusCode: number, body: unknown, requestId: unknown, seenInHandler: unknown, lines: string[], configLogDir: string }
  t.equal(r.statusCode, 200)
  t.same(r.body, { pong: true })
  t.type(r.requestId, 'string', 'the response has an x-request-id header')
  t.not(r.requestId, '', 'the request id is not empty')
  t.equal(r.seenInHandler, r.requestId, 'getRequestId() in the handler is the response\'s id')
  t.equal(r.configLogDir, logDir)
  t.same(r.lines, ['API Request: GET /ping', 'API Response: GET /ping - 200'], 'the JSON file has the request\'s lines')
  // and the parent reads the same file
  const fromParent = readJsonLines(logDir).filter((record) => record.request_id === r.requestId)
  t.equal(fromParent.length, 2, 'the lines are on disk with the request id')
}

t.test('CommonJS: require(package dir)', async (t) => {
  const dir = tempDir(t)
  const logDir = join(dir, 'logs')
  const script = join(dir, 'cjs.js')
  writeFileSync(script, `'use strict'
const { createRequire } = require('node:module')
const PKG = process.env.API_LOGGING_TEST_PKG
const Fastify = createRequire(require('node:path').join(PKG, 'package.json'))('fastify')
const apiLogging = require(PKG)
${REQUEST_ROUND_TRIP}
async function main () {
  const named = {}
  for (const name of ${JSON.stringify([...NAMED_FUNCTIONS, ...NAMED_OBJECTS, ...NAMED_STRINGS])}) named[name] = typeof apiLogging[name]
  const report = {
    resolved: require.resolve(PKG),
    type: typeof apiLogging,
    defaultIsPlugin: apiLogging.default === apiLogging,
    namedIsPlugin: apiLogging.apiLoggingPlugin === apiLogging,
    fastifyNamedIsPlugin: apiLogging.fastifyApiLogging === apiLogging,
    sameAsDist: require(require('node:path').join(PKG, 'dist', 'index.js')) === apiLogging,
    named,
    errInvalidConfig: apiLogging.ERR_INVALID_CONFIG,
    errLogDir: apiLogging.ERR_LOG_DIR,
    schemaHasLevel: !!(apiLogging.ApiLoggingConfigSchema && apiLogging.ApiLoggingConfigSchema.properties && apiLogging.ApiLoggingConfigSchema.properties.level),
    defaultLevel: apiLogging.loadConfig({ envFile: false }).level
  }
  // register straight from require(), as users of CommonJS do
  report.roundTrip = await roundTrip(Fastify, require(PKG), apiLogging.getRequestId, process.env.API_LOGGING_TEST_LOGDIR)
  console.log(JSON.stringify(report))
}
main().catch((err) => { console.error(err); process.exit(1) })
`)
  const report = runNode(t, script, dir, { API_LOGGING_TEST_LOGDIR: logDir })
  t.equal(report.resolved, join(PKG_DIR, 'dist', 'index.js'), 'main is dist/index.js')
  t.equal(report.type, 'function', 'require() returns the plugin function')
  t.equal(report.defaultIsPlugin, true, '.default is the plugin')
  t.equal(report.namedIsPlugin, true, '.apiLoggingPlugin is the plugin')
  t.equal(report.fastifyNamedIsPlugin, true, '.fastifyApiLogging (Fastify\'s naming convention) is the plugin')
  t.equal(report.sameAsDist, true)
  const named = report.named as Record<string, string>
  for (const name of NAMED_FUNCTIONS) t.equal(named[name], 'function', `${name} is a function`)
  for (const name of NAMED_OBJECTS) t.equal(named[name], 'object', `${name} is an object`)
  for (const name of NAMED_STRINGS) t.equal(named[name], 'string', `${name} is a string`)
  t.equal(report.errInvalidConfig, 'FST_API_LOGGING_CONFIG')
  t.equal(report.errLogDir, 'FST_API_LOGGING_LOG_DIR')
  t.equal(report.schemaHasLevel, true)
  t.equal(report.defaultLevel, 'INFO')
  checkRoundTrip(t, report.roundTrip, logDir)
})

t.test('ESM: import from dist/index.mjs by file URL', async (t) => {
  const dir = tempDir(t)
  const logDir = join(dir, 'logs')
  const script = join(dir, 'esm.mjs')
  const mjsUrl = pathToFileURL(join(PKG_DIR, 'dist', 'index.mjs')).href
  const cjsPath = join(PKG_DIR, 'dist', 'index.js')
  writeFileSync(script, `import { createRequire } from 'node:module'
import apiLogging, { apiLoggingPlugin, fastifyApiLogging, loadConfig, getLogger, getRequestId, logApiCall, ApiLoggingConfigSchema, ENV_NAMES, ApiLoggingError, ERR_INVALID_CONFIG, ERR_LOG_DIR, ERR_LOGGER_OPTION, ERR_LOG_FILE_LOCKED, WARN_UNKNOWN_SETTING, WARN_WRITE_FAILED, WARN_WRITE_RECOVERED, WARN_FILE_REOPENED, WARN_FASTIFY_REQUEST_LOGGING, WARN_TRANSPORT_FAILED, WARN_TRANSPORT_RECOVERED, WARN_TRANSPORT_CLOSE_TIMEOUT, allowedValues, startPrimaryWriter, createApiLogger, wrapApiCall, apiCall, getPropagationHeaders, createPropagatingDispatcher } from ${JSON.stringify(mjsUrl)}
import * as ns from ${JSON.stringify(mjsUrl)}
const require = createRequire(import.meta.url)
const Fastify = createRequire(${JSON.stringify(join(PKG_DIR, 'package.json'))})('fastify')
${REQUEST_ROUND_TRIP}
const report = {
  type: typeof apiLogging,
  defaultIsNamed: apiLogging === apiLoggingPlugin,
  defaultIsFastifyNamed: apiLogging === fastifyApiLogging,
  sameAsCjs: apiLogging === require(${JSON.stringify(cjsPath)}),
  sameLoadConfigAsCjs: loadConfig === require(${JSON.stringify(cjsPath)}).loadConfig,
  sameGetRequestIdAsCjs: getRequestId === require(${JSON.stringify(cjsPath)}).getRequestId,
  types: {
    loadConfig: typeof loadConfig, getLogger: typeof getLogger, getRequestId: typeof getRequestId,
    logApiCall: typeof logApiCall, allowedValues: typeof allowedValues, ApiLoggingError: typeof ApiLoggingError,
    startPrimaryWriter: typeof startPrimaryWriter, createApiLogger: typeof createApiLogger, wrapApiCall: typeof wrapApiCall, apiCall: typeof apiCall,
    getPropagationHeaders: typeof getPropagationHeaders, createPropagatingDispatcher: typeof createPropagatingDispatcher,
    ApiLoggingConfigSchema: typeof ApiLoggingConfigSchema, ENV_NAMES: typeof ENV_NAMES,
    ERR_INVALID_CONFIG: typeof ERR_INVALID_CONFIG, ERR_LOG_DIR: typeof ERR_LOG_DIR,
    ERR_LOGGER_OPTION: typeof ERR_LOGGER_OPTION, ERR_LOG_FILE_LOCKED: typeof ERR_LOG_FILE_LOCKED, WARN_UNKNOWN_SETTING: typeof WARN_UNKNOWN_SETTING, WARN_WRITE_FAILED: typeof WARN_WRITE_FAILED,
    WARN_WRITE_RECOVERED: typeof WARN_WRITE_RECOVERED, WARN_FILE_REOPENED: typeof WARN_FILE_REOPENED,
    WARN_FASTIFY_REQUEST_LOGGING: typeof WARN_FASTIFY_REQUEST_LOGGING, WARN_TRANSPORT_FAILED: typeof WARN_TRANSPORT_FAILED,
    WARN_TRANSPORT_RECOVERED: typeof WARN_TRANSPORT_RECOVERED, WARN_TRANSPORT_CLOSE_TIMEOUT: typeof WARN_TRANSPORT_CLOSE_TIMEOUT
  },
  namespaceKeys: Object.keys(ns).sort(),
  defaultLevel: loadConfig({ envFile: false }).level
}
// register through the ES module default import
report.roundTrip = await roundTrip(Fastify, apiLogging, getRequestId, process.env.API_LOGGING_TEST_LOGDIR)
console.log(JSON.stringify(report))
`)
  const report = runNode(t, script, dir, { API_LOGGING_TEST_LOGDIR: logDir })
  t.equal(report.type, 'function')
  t.equal(report.defaultIsNamed, true, 'default === apiLoggingPlugin')
  t.equal(report.defaultIsFastifyNamed, true, 'default === fastifyApiLogging')
  t.equal(report.sameAsCjs, true, 'the ES module default is the CommonJS export (one instance)')
  t.equal(report.sameLoadConfigAsCjs, true)
  t.equal(report.sameGetRequestIdAsCjs, true)
  const types = report.types as Record<string, string>
  for (const name of NAMED_FUNCTIONS) t.equal(types[name], 'function', `${name} is a function`)
  for (const name of NAMED_OBJECTS) t.equal(types[name], 'object', `${name} is an object`)
  for (const name of NAMED_STRINGS) t.equal(types[name], 'string', `${name} is a string`)
  const keys = report.namespaceKeys as string[]
  for (const name of ['default', 'apiLoggingPlugin', 'fastifyApiLogging', ...NAMED_FUNCTIONS, ...NAMED_OBJECTS, ...NAMED_STRINGS]) {
    t.ok(keys.includes(name), `the module namespace has ${name}`)
  }
  t.equal(report.defaultLevel, 'INFO')
  checkRoundTrip(t, report.roundTrip, logDir)
})

t.test('by package name, through package.json "exports"', async (t) => {
  const project = tempDir(t)
  const logDir = join(project, 'logs')
  mkdirSync(join(project, 'node_modules'))
  symlinkSync(PKG_DIR, join(project, 'node_modules', 'fastify-api-logging'), 'dir')
  // fastify is the package's peer; the project gets the copy the package resolves itself
  symlinkSync(join(PKG_DIR, 'node_modules', 'fastify'), join(project, 'node_modules', 'fastify'), 'dir')
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }))

  t.test('import and require from an ES module', async (t) => {
    const script = join(project, 'main.mjs')
    writeFileSync(script, `import { createRequire } from 'node:module'
import Fastify from 'fastify'
import apiLogging, { apiLoggingPlugin, fastifyApiLogging, loadConfig, getLogger, getRequestId, logApiCall, ApiLoggingConfigSchema } from 'fastify-api-logging'
const require = createRequire(import.meta.url)
${REQUEST_ROUND_TRIP}
const cjs = require('fastify-api-logging')
let deepImport = 'allowed'
try { await import('fastify-api-logging/dist/config.js') } catch (err) { deepImport = err.code }
let deepRequire = 'allowed'
try { require('fastify-api-logging/dist/config.js') } catch (err) { deepRequire = err.code }
const report = {
  importResolved: import.meta.resolve('fastify-api-logging'),
  requireResolved: require.resolve('fastify-api-logging'),
  packageJsonName: require('fastify-api-logging/package.json').name,
  type: typeof apiLogging,
  defaultIsNamed: apiLogging === apiLoggingPlugin,
  defaultIsFastifyNamed: apiLogging === fastifyApiLogging,
  dynamicDefaultIsRequire: (await import('fastify-api-logging')).default === require('fastify-api-logging'),
  staticDefaultIsRequire: apiLogging === cjs,
  requireDefault: cjs.default === cjs,
  namedShared: loadConfig === cjs.loadConfig && getLogger === cjs.getLogger && getRequestId === cjs.getRequestId && logApiCall === cjs.logApiCall && ApiLoggingConfigSchema === cjs.ApiLoggingConfigSchema,
  deepImport,
  deepRequire
}
// register through the ES module default, read the id through the CommonJS getRequestId:
// one instance means one AsyncLocalStorage
report.roundTrip = await roundTrip(Fastify, apiLogging, cjs.getRequestId, process.env.API_LOGGING_TEST_LOGDIR)
console.log(JSON.stringify(report))
`)
    const report = runNode(t, script, project, { API_LOGGING_TEST_LOGDIR: logDir })
    t.equal(report.importResolved, pathToFileURL(join(PKG_DIR, 'dist', 'index.mjs')).href, 'import resolves to dist/index.mjs')
    t.equal(report.requireResolved, join(PKG_DIR, 'dist', 'index.js'), 'require resolves to dist/index.js')
    t.equal(report.packageJsonName, 'fastify-api-logging', './package.json is exported')
    t.equal(report.type, 'function')
    t.equal(report.defaultIsNamed, true, 'default === apiLoggingPlugin')
    t.equal(report.dynamicDefaultIsRequire, true, '(await import()).default === require()')
    t.equal(report.staticDefaultIsRequire, true)
    t.equal(report.requireDefault, true)
    t.equal(report.namedShared, true, 'named exports are the same functions in both forms')
    t.equal(report.deepImport, 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'deep imports are not exported')
    t.equal(report.deepRequire, 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'deep requires are not exported')
    checkRoundTrip(t, report.roundTrip, logDir)
  })

  t.test('require from a CommonJS module', async (t) => {
    const cjsLogDir = join(project, 'cjs-logs')
    const script = join(project, 'main.cjs')
    writeFileSync(script, `'use strict'
const Fastify = require('fastify')
const apiLogging = require('fastify-api-logging')
${REQUEST_ROUND_TRIP}
async function main () {
  const { default: viaImport } = await import('fastify-api-logging')
  const report = {
    resolved: require.resolve('fastify-api-logging'),
    type: typeof apiLogging,
    defaultIsPlugin: apiLogging.default === apiLogging,
    namedIsPlugin: apiLogging.apiLoggingPlugin === apiLogging,
    fastifyNamedIsPlugin: apiLogging.fastifyApiLogging === apiLogging,
    importFromCjsIsSame: viaImport === apiLogging
  }
  report.roundTrip = await roundTrip(Fastify, apiLogging, apiLogging.getRequestId, process.env.API_LOGGING_TEST_LOGDIR)
  console.log(JSON.stringify(report))
}
main().catch((err) => { console.error(err); process.exit(1) })
`)
    const report = runNode(t, script, project, { API_LOGGING_TEST_LOGDIR: cjsLogDir })
    t.equal(report.resolved, join(PKG_DIR, 'dist', 'index.js'))
    t.equal(report.type, 'function')
    t.equal(report.defaultIsPlugin, true)
    t.equal(report.namedIsPlugin, true)
    t.equal(report.importFromCjsIsSame, true, 'import() from CommonJS gets the same instance')
    checkRoundTrip(t, report.roundTrip, cjsLogDir)
  })
})
