import { Writable } from 'node:stream'
import t from 'tap'
import Fastify, { LogController } from 'fastify'
import pino from 'pino'
import apiLogging, { createApiLogger, ERR_INVALID_CONFIG, WARN_FASTIFY_REQUEST_LOGGING } from '../dist/index.js'
import { readJsonLines, readTextLines, tempDir } from './helpers/app'

// Fastify({ loggerInstance: createApiLogger() }): Fastify's own lines in the plugin's files and
// formats, its per-request lines not at all (the plugin writes the request lines).

const QUIET = { envFile: false as const, enableConsoleLogging: false }

t.test('Fastify\'s own lines land in both files; its request lines do not', async (t) => {
  const logDir = tempDir(t)
  const app = Fastify({ loggerInstance: createApiLogger({ ...QUIET, logDir }) })
  await app.register(apiLogging)
  app.get('/ok', async (request) => {
    request.log.info('handler line')
    return { ok: true }
  })
  app.get('/fails', async () => { throw new Error('database is down') })
  app.post('/typed', { schema: { body: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } } }, async () => 'ok')
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  app.log.info({ build: 'abc' }, 'application started')
  app.log.warning('cache is cold')

  const ok = await fetch(`${address}/ok`)
  const fails = await fetch(`${address}/fails`)
  const invalid = await fetch(`${address}/typed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":"x"}' })
  const missing = await fetch(`${address}/missing`)
  t.same([ok.status, fails.status, invalid.status, missing.status], [200, 500, 400, 404])
  await app.close()

  const lines = readJsonLines(logDir)
  const text = readTextLines(logDir)
  const messages = lines.map((line) => line.message)
  for (const fastifyOwn of [/^Server listening at http:\/\/127\.0\.0\.1:\d+$/, /^application started$/, /^cache is cold$/, /^database is down$/]) {
    t.ok(lines.some((line) => line.logger === 'fastify' && fastifyOwn.test(line.message)), `JSON: ${String(fastifyOwn)}`)
    t.ok(text.some((line) => / \[fastify:/.test(line) && fastifyOwn.test(line.replace(/^.*\] /, '').replace(/ [a-z_]+=.*$/, ''))), `text: ${String(fastifyOwn)}`)
  }
  t.notOk(messages.some((message) => /incoming request|request completed|request errored|not found/.test(message)), 'none of Fastify\'s request lines')

  const ids = [ok, fails, invalid, missing].map((res) => res.headers.get('x-request-id'))
  for (const id of ids) {
    t.equal(lines.filter((line) => line.request_id === id && /^API (Response|Error)/.test(line.message)).length, 1, `one completion line for ${String(id)}`)
  }
  t.match(lines.find((line) => line.message === 'application started'), { level: 'INFO', module: 'fastify', build: 'abc', request_id: null })
  t.match(lines.find((line) => line.message === 'cache is cold'), { level: 'WARNING' })
  t.match(lines.find((line) => line.message === 'handler line'), { logger: 'app', request_id: ids[0] })

  const handlerError = lines.find((line) => line.logger === 'fastify' && line.message === 'database is down')
  t.match(handlerError, { level: 'ERROR', request_id: ids[1], exception_type: 'Error', exception_message: 'database is down', req: { method: 'GET', url: '/fails' }, res: { statusCode: 500 } })
  t.match(handlerError?.exception, /^Error: database is down\n/, 'the default error handler\'s line carries the stack')
  t.notOk('reqId' in (handlerError ?? {}), 'Fastify\'s reqId binding is the request_id, not a field')
  t.match(lines.find((line) => line.request_id === ids[1] && line.logger === 'api' && line.level === 'ERROR'), { status_code: 500, exception_logged_by: 'fastify' }, 'the completion line names it instead of repeating the stack')
  t.match(lines.find((line) => line.request_id === ids[2] && line.logger === 'fastify'), { level: 'INFO', message: /body\/n must be integer/ }, 'a 4xx from the default error handler, at INFO as Fastify writes it')
})

t.test('one set of files: createApiLogger\'s options, the register options on top', async (t) => {
  const logDir = tempDir(t)
  const app = Fastify({ loggerInstance: createApiLogger({ ...QUIET, logDir, level: 'warning' }) })
  t.teardown(() => app.close())
  await app.register(apiLogging, { slowRequestThresholdMs: 5, level: 'debug' })
  t.equal(app.apiLogging.config.logDir, logDir)
  t.equal(app.apiLogging.config.slowRequestThresholdMs, 5)
  t.equal(app.apiLogging.config.level, 'DEBUG', 'the register option wins')
  t.equal(app.log.level, 'debug', 'Fastify\'s logger follows the registration\'s level')
  app.log.debug('debug line')
  await app.ready()
  await app.apiLogging.flush()
  t.ok(readJsonLines(logDir).some((line) => line.message === 'debug line'))
})

t.test('a bad value fails createApiLogger at once; one logger cannot serve two open apps', async (t) => {
  t.throws(() => createApiLogger({ ...QUIET, slowRequestThresholdMs: -1 }), { code: ERR_INVALID_CONFIG, message: /SLOW_REQUEST_THRESHOLD_MS/ })
  t.throws(() => createApiLogger({ ...QUIET, logdir: 'x' } as never), { code: ERR_INVALID_CONFIG, message: /Unknown fastify-api-logging option: logdir/ })
  const logger = createApiLogger({ ...QUIET, logDir: tempDir(t) })
  const first = Fastify({ loggerInstance: logger })
  t.teardown(() => first.close())
  await first.register(apiLogging)
  const second = Fastify({ loggerInstance: logger })
  await t.rejects(async () => { await second.register(apiLogging).ready() }, { code: ERR_INVALID_CONFIG, message: /createApiLogger\(\): this logger already writes for a registration.*once per Fastify app/ })
})

t.test('before the plugin is registered, its lines go where getLogger() lines go', async (t) => {
  const logDir = tempDir(t)
  const other = Fastify()
  t.teardown(() => other.close())
  await other.register(apiLogging, { ...QUIET, logDir })
  const logger = createApiLogger({ ...QUIET, logDir: tempDir(t) })
  logger.info('early line')
  await other.apiLogging.flush()
  t.match(readJsonLines(logDir).find((line) => line.message === 'early line'), { logger: 'fastify' })
})

// The warning is emitted once per process: the cases without it come first.
t.test('without createApiLogger, a Fastify logger that logs requests is warned about, once', async (t) => {
  const warnings: string[] = []
  const onWarning = (warning: Error & { code?: string }): void => { if (warning.code === WARN_FASTIFY_REQUEST_LOGGING) warnings.push(warning.message) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const nowhere = new Writable({ write (_chunk, _encoding, done) { done() } })
  const register = async (options: Record<string, unknown>): Promise<void> => {
    const app = Fastify(options as { logger?: boolean })
    await app.register(apiLogging, { ...QUIET, logDir: tempDir(t) })
    await app.ready()
    await app.close()
    await new Promise((resolve) => setImmediate(resolve))
  }
  await register({})
  await register({ loggerInstance: pino({ level: 'silent' }, nowhere) })
  await register({ loggerInstance: pino(nowhere), disableRequestLogging: true })
  await register({ loggerInstance: pino(nowhere), logController: new LogController({ disableRequestLogging: true }) })
  await register({ loggerInstance: pino(nowhere), logController: new (class extends LogController {})() })
  t.same(warnings, [], 'no logger, a silent one, request logging off, or the application\'s own LogController')
  await register({ loggerInstance: pino(nowhere) })
  await register({ loggerInstance: pino(nowhere) })
  t.equal(warnings.length, 1, 'once')
  t.match(warnings[0], /Fastify's own logger writes "incoming request" and "request completed".*createApiLogger\(\)/)
})
