import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import apiLogging, { ApiLoggingError, ERR_INVALID_ROUTE_CONFIG, getLogger } from '../dist/index.js'
import { buildApp, linesOf, readJsonLines, tempDir, type JsonRecord } from './helpers/app'

function completion (lines: JsonRecord[]): JsonRecord | undefined {
  return lines.find((line) => line.logger === 'api' && typeof line.status_code === 'number')
}

t.test('apiLogging: false turns a route\'s request lines off; its request id header stays', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/poll', { config: { apiLogging: false } }, async () => ({ jobs: 0 }))
  app.get('/other', async () => 'x')
  app.get('/poll-noisy', { config: { apiLogging: false } }, async (request) => { request.log.warn('queue is long'); return 'p' })
  const res = await app.inject('/poll')
  t.equal(res.statusCode, 200)
  const id = res.headers['x-request-id'] as string
  t.ok(id, 'the response still carries its X-Request-ID')
  t.same(await linesOf(app, logDir, id), [], 'no line of that request')
  const other = await app.inject('/other')
  t.equal((await linesOf(app, logDir, other.headers['x-request-id'] as string)).length, 2, 'other routes are logged')
  const noisy = await app.inject('/poll-noisy')
  t.same((await linesOf(app, logDir, noisy.headers['x-request-id'] as string)).map((line) => `${line.logger}: ${line.message}`), ['app: queue is long'],
    'the application\'s own lines are still written, as on a LOG_EXCLUDE_PATHS path')
})

t.test('a body-off upload route, a response-body route and the global defaults side by side', async (t) => {
  const { app, logDir } = await buildApp(t, { logRequestBody: true, logResponseBody: false })
  app.post('/upload', { config: { apiLogging: { requestBody: false } } }, async () => ({ stored: true }))
  app.post('/echo', { config: { apiLogging: { responseBody: true } } }, async (request) => ({ echoed: request.body }))
  app.post('/plain', async () => ({ plain: true }))
  const body = { file: 'aGVsbG8=', name: 'a.txt' }
  const upload = await app.inject({ method: 'POST', url: '/upload', payload: body })
  const echo = await app.inject({ method: 'POST', url: '/echo', payload: body })
  const plain = await app.inject({ method: 'POST', url: '/plain', payload: body })
  const uploadLine = completion(await linesOf(app, logDir, upload.headers['x-request-id'] as string))
  const echoLine = completion(await linesOf(app, logDir, echo.headers['x-request-id'] as string))
  const plainLine = completion(await linesOf(app, logDir, plain.headers['x-request-id'] as string))
  t.notOk(uploadLine !== undefined && 'request_body' in uploadLine, 'the upload body is never logged')
  t.notOk(uploadLine !== undefined && 'response_body' in uploadLine)
  t.same(echoLine?.request_body, body, 'the global request-body setting still applies to the echo route')
  t.same(echoLine?.response_body, { echoed: body }, 'the echo route logs its response body')
  t.same(plainLine?.request_body, body)
  t.notOk(plainLine !== undefined && 'response_body' in plainLine, 'LOG_RESPONSE_BODY=false elsewhere')
})

t.test('responseBody: false on one route when LOG_RESPONSE_BODY is on', async (t) => {
  const { app, logDir } = await buildApp(t, { logResponseBody: true })
  app.get('/secret-report', { config: { apiLogging: { responseBody: false } } }, async () => ({ rows: [1, 2] }))
  app.get('/open', async () => ({ rows: [3] }))
  const hidden = await app.inject('/secret-report')
  const shown = await app.inject('/open')
  const hiddenLine = completion(await linesOf(app, logDir, hidden.headers['x-request-id'] as string))
  t.notOk(hiddenLine !== undefined && 'response_body' in hiddenLine)
  t.same(completion(await linesOf(app, logDir, shown.headers['x-request-id'] as string))?.response_body, { rows: [3] })
})

t.test('a slow-by-design route under its own threshold', async (t) => {
  const { app, logDir } = await buildApp(t, { slowRequestThresholdMs: 20 })
  app.get('/report', { config: { apiLogging: { slowRequestThresholdMs: 5000 } } }, async () => { await sleep(60); return 'r' })
  app.get('/api', async () => { await sleep(60); return 'a' })
  app.get('/never-slow', { config: { apiLogging: { slowRequestThresholdMs: 0 } } }, async () => { await sleep(60); return 'n' })
  const report = await linesOf(app, logDir, (await app.inject('/report')).headers['x-request-id'] as string)
  const api = await linesOf(app, logDir, (await app.inject('/api')).headers['x-request-id'] as string)
  const never = await linesOf(app, logDir, (await app.inject('/never-slow')).headers['x-request-id'] as string)
  t.equal(completion(report)?.slow_request, false, 'the report route is not slow at 60 ms')
  t.notOk(report.some((line) => line.message.startsWith('Slow API Request')))
  t.equal(completion(api)?.slow_request, true, 'the global threshold applies elsewhere')
  t.ok(api.some((line) => line.level === 'WARNING' && line.message.startsWith('Slow API Request') && line.slow_threshold_ms === 20))
  t.equal(completion(never)?.slow_request, false, '0 turns the check off for the route')
})

t.test('a per-route level: every line of the route\'s requests, whichever logger wrote it', async (t) => {
  const { app, logDir } = await buildApp(t, { level: 'INFO' })
  const service = getLogger('billing')
  app.get('/quiet', { config: { apiLogging: { level: 'warning' } } }, async (request) => {
    request.log.info('quiet info')
    service.info('service info')
    request.log.warn('quiet warn')
    return 'q'
  })
  app.get('/quiet-fail', { config: { apiLogging: { level: 'ERROR' } } }, async (request, reply) => {
    request.log.warn('not written')
    return reply.code(404).send({ missing: true })
  })
  app.get('/verbose', { config: { apiLogging: { level: 'DEBUG' } } }, async (request) => {
    request.log.debug('request.log debug')
    request.log.child({ step: 1 }).debug('child debug')
    service.debug('getLogger debug')
    app.apiLogging.getLogger('bound').debug('bound debug')
    return 'v'
  })
  app.get('/normal', async (request) => {
    request.log.debug('not written')
    service.debug('not written either')
    return 'n'
  })
  const quiet = await linesOf(app, logDir, (await app.inject('/quiet')).headers['x-request-id'] as string)
  t.same(quiet.map((line) => line.message), ['quiet warn'], 'only WARNING and up: no arrival, application info or 2xx completion line')
  const quietFail = await linesOf(app, logDir, (await app.inject('/quiet-fail')).headers['x-request-id'] as string)
  t.same(quietFail, [], 'at ERROR a 404 completion (WARNING) is not written either')
  const verbose = await linesOf(app, logDir, (await app.inject('/verbose')).headers['x-request-id'] as string)
  t.same(verbose.filter((line) => line.level === 'DEBUG').map((line) => `${line.logger}: ${line.message}`),
    ['app: request.log debug', 'app: child debug', 'billing: getLogger debug', 'bound: bound debug'])
  t.equal(verbose.length, 6, 'with the arrival and completion lines')
  const normal = await linesOf(app, logDir, (await app.inject('/normal')).headers['x-request-id'] as string)
  t.notOk(normal.some((line) => line.level === 'DEBUG'), 'other routes keep LOG_LEVEL')
  service.debug('outside any request')
  await app.apiLogging.flush()
  t.notOk(readJsonLines(logDir).some((line) => line.message === 'outside any request'), 'and so do lines outside requests')
})

t.test('redactKeys per route adds to the global keys, for that route only', async (t) => {
  const { app, logDir } = await buildApp(t, { redactKeys: ['tenant_secret'] })
  const config = { apiLogging: { redactKeys: ['membershipNo'] } }
  app.post('/members', { config }, async (request) => {
    request.log.info({ membership_no: 'M-42', tenant_secret: 's' }, 'member')
    return { ok: true }
  })
  app.post('/other', async (request) => {
    request.log.info({ membership_no: 'M-43' }, 'other')
    return { ok: true }
  })
  const members = await linesOf(app, logDir, (await app.inject({ method: 'POST', url: '/members', payload: { membershipNo: 'M-42', name: 'Ann' } })).headers['x-request-id'] as string)
  const app1 = members.find((line) => line.message === 'member')
  t.equal(app1?.membership_no, '[REDACTED]', 'application lines of the route')
  t.equal(app1?.tenant_secret, '[REDACTED]', 'global keys still apply')
  t.same(completion(members)?.request_body, { membershipNo: '[REDACTED]', name: 'Ann' }, 'and the plugin\'s own lines')
  const other = await linesOf(app, logDir, (await app.inject({ method: 'POST', url: '/other', payload: { membershipNo: 'M-43' } })).headers['x-request-id'] as string)
  t.equal(other.find((line) => line.message === 'other')?.membership_no, 'M-43', 'other routes are unchanged')
  t.same(completion(other)?.request_body, { membershipNo: 'M-43' })
})

t.test('headers per route: the named request headers, lower-cased and redacted, on the completion line', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/tenant', { config: { apiLogging: { headers: ['X-Tenant-ID', 'Authorization', 'X-Absent', 'x-tenant-id'] } } }, async () => 't')
  app.get('/none', { config: { apiLogging: { headers: ['X-Absent'] } } }, async () => 'n')
  app.get('/plain', async () => 'p')
  const headers = { 'x-tenant-id': 'acme', authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc', cookie: 'sid=1' }
  const tenant = completion(await linesOf(app, logDir, (await app.inject({ url: '/tenant', headers })).headers['x-request-id'] as string))
  t.same(tenant?.request_headers, { 'x-tenant-id': 'acme', authorization: '[REDACTED]' }, 'only those named, each once, secrets redacted')
  t.notOk(tenant !== undefined && 'response_headers' in tenant)
  const none = completion(await linesOf(app, logDir, (await app.inject({ url: '/none', headers })).headers['x-request-id'] as string))
  t.notOk(none !== undefined && 'request_headers' in none, 'no object when none of them is present')
  const plain = completion(await linesOf(app, logDir, (await app.inject({ url: '/plain', headers })).headers['x-request-id'] as string))
  t.notOk(plain !== undefined && 'request_headers' in plain)

  const all = await buildApp(t, { logHeaders: true })
  all.app.get('/tenant', { config: { apiLogging: { headers: ['X-Tenant-ID'] } } }, async () => 't')
  const every = completion(await linesOf(all.app, all.logDir, (await all.app.inject({ url: '/tenant', headers })).headers['x-request-id'] as string))
  t.match(every?.request_headers, { 'x-tenant-id': 'acme', authorization: '[REDACTED]', cookie: '[REDACTED]' }, 'LOG_HEADERS=true writes them all')
})

t.test('encapsulated child plugins, prefixes and routes declared before the plugin all get their overrides', async (t) => {
  const logDir = tempDir(t)
  const app = Fastify()
  t.teardown(() => app.close())
  app.get('/early', { config: { apiLogging: { requestBody: false, level: 'WARNING' } } }, async (request) => { request.log.info('hidden'); return 'e' })
  app.register(async function early (child) {
    child.get('/off', { config: { apiLogging: false } }, async () => 'o')
  }, { prefix: '/before' })
  await app.register(apiLogging, { envFile: false, enableConsoleLogging: false, logDir })
  await app.register(async function v1 (child) {
    await child.register(async function nested (grandchild) {
      grandchild.post('/upload', { config: { apiLogging: { requestBody: false } } }, async () => ({ ok: true }))
    }, { prefix: '/files' })
    child.post('/plain', async () => ({ ok: true }))
  }, { prefix: '/v1' })
  const ids: Record<string, string> = {}
  for (const url of ['/early', '/before/off', '/v1/files/upload', '/v1/plain']) {
    for (let i = 0; i < 2; i++) ids[url + i] = (await app.inject({ method: url.startsWith('/v1') ? 'POST' : 'GET', url, payload: url.startsWith('/v1') ? { a: 1 } : undefined })).headers['x-request-id'] as string
  }
  for (let i = 0; i < 2; i++) {
    t.same(await linesOf(app, logDir, ids['/early' + i]), [], `declared before the plugin: its level applies (request ${i + 1})`)
    t.same(await linesOf(app, logDir, ids['/before/off' + i]), [], 'a child plugin registered before the plugin: off')
    const upload = completion(await linesOf(app, logDir, ids['/v1/files/upload' + i]))
    t.equal(upload?.endpoint, '/v1/files/upload')
    t.notOk(upload !== undefined && 'request_body' in upload, 'nested prefixed child: no body')
    t.same(completion(await linesOf(app, logDir, ids['/v1/plain' + i]))?.request_body, { a: 1 })
  }
})

async function startupError (t: Test, declare: (app: FastifyInstance) => void): Promise<ApiLoggingError> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(apiLogging, { envFile: false, enableConsoleLogging: false, logDir: tempDir(t) })
  let error: unknown
  try {
    declare(app)
    await app.ready()
  } catch (err) {
    error = err
  }
  t.ok(error instanceof ApiLoggingError, 'an ApiLoggingError')
  t.equal((error as ApiLoggingError).code, ERR_INVALID_ROUTE_CONFIG)
  return error as ApiLoggingError
}

t.test('a wrong key or type fails at startup, naming the route, the key and what it allows', async (t) => {
  const misspelt = await startupError(t, (app) => {
    app.get('/users/:id', { config: { apiLogging: { sampelRate: 0.5 } as never } }, async () => 'u')
  })
  t.match(misspelt.message, 'route GET /users/:id: config.apiLogging')
  t.match(misspelt.message, 'sampelRate is not an option (did you mean sampleRate?); the options are requestBody, responseBody, slowRequestThresholdMs, level, redactKeys, sampleRate, headers')

  const types = await startupError(t, (app) => {
    app.register(async (child) => {
      child.route({
        method: ['POST', 'PUT'],
        url: '/items',
        config: { apiLogging: { sampleRate: 2, level: 'loud', headers: ['bad header'], requestBody: 'no', slowRequestThresholdMs: -1, redactKeys: [''] } as never },
        handler: async () => 'i'
      })
    }, { prefix: '/api' })
  })
  t.match(types.message, 'route POST,PUT /api/items: config.apiLogging')
  for (const part of [
    'sampleRate=2 must be a number from 0 to 1',
    'level="loud" must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL',
    'headers=["bad header"] must be an array of header names',
    'requestBody="no" must be true or false',
    'slowRequestThresholdMs=-1 must be an integer >= 0',
    'redactKeys=[""] must be an array of non-empty key names'
  ]) t.match(types.message, part)

  const notObject = await startupError(t, (app) => {
    app.get('/x', { config: { apiLogging: 'off' as never } }, async () => 'x')
  })
  t.match(notObject.message, 'route GET /x: config.apiLogging="off": it must be false or an object with any of requestBody')
})

t.test('a bad route config declared before the plugin is reported at its first request', async (t) => {
  const logDir = tempDir(t)
  const app = Fastify()
  t.teardown(() => app.close())
  app.post('/early', { config: { apiLogging: { requestBody: 'never' } as never } }, async () => 'e')
  await app.register(apiLogging, { envFile: false, enableConsoleLogging: false, logDir })
  await app.ready()
  const first = await app.inject({ method: 'POST', url: '/early', payload: { a: 1 } })
  await app.inject({ method: 'POST', url: '/early', payload: { a: 2 } })
  t.equal(first.statusCode, 200, 'the request itself is served')
  await app.apiLogging.flush()
  const errors = readJsonLines(logDir).filter((line) => line.level === 'ERROR')
  t.equal(errors.length, 1, 'once')
  t.match(errors[0].message, 'route POST /early: config.apiLogging:\n  requestBody="never" must be true or false')
  t.match(errors[0].message, 'declared before fastify-api-logging was registered')
  t.equal(errors[0].error_code, ERR_INVALID_ROUTE_CONFIG)
  t.same(completion(await linesOf(app, logDir, first.headers['x-request-id'] as string))?.request_body, { a: 1 }, 'logged with the global settings')
})
