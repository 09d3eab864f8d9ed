import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { logApiCall } from '../dist/index.js'
import { buildApp, linesOf, readJsonLines, readTextLines, type JsonRecord } from './helpers/app'

const RECORD_KEYS = ['timestamp', 'level', 'logger', 'message', 'module', 'function', 'line', 'request_id']
const TEXT_PREFIX = /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\] (DEBUG|INFO|WARNING|ERROR|CRITICAL) \[[\w.-]+:\d+\] /

function topLevelKeyCount (line: string, key: string): number {
  // Values are JSON-escaped, so an unescaped `"key":` only occurs as a key; nested keys are
  // told apart by the test data using names that do not repeat at the top level.
  return line.split(`"${key}":`).length - 1
}

t.test('start and completion lines: JSON shape', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/api/users/:id', async (request) => ({ id: (request.params as { id: string }).id }))
  const res = await app.inject({ url: '/api/users/42?page=2', headers: { 'user-agent': 'tester/1.0' } })
  const id = res.headers['x-request-id'] as string
  const [start, end] = await linesOf(app, logDir, id)

  t.same(Object.keys(start).slice(0, 8), RECORD_KEYS, 'record keys come first, in a fixed order')
  t.match(start, {
    level: 'INFO',
    logger: 'api',
    message: 'API Request: GET /api/users/42?page=2',
    module: 'plugin',
    function: 'onRequestLogger',
    request_id: id,
    method: 'GET',
    path: '/api/users/42?page=2',
    client_ip: '127.0.0.1',
    user_agent: 'tester/1.0'
  })
  t.match(start.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
  t.type(start.line, 'number')

  t.same(Object.keys(end).slice(0, 8), RECORD_KEYS)
  t.match(end, {
    level: 'INFO',
    logger: 'api',
    message: 'API Response: GET /api/users/42?page=2 - 200',
    function: 'onResponseClosed',
    request_id: id,
    method: 'GET',
    path: '/api/users/42?page=2',
    endpoint: '/api/users/:id',
    status_code: 200,
    content_length: Number(res.headers['content-length']),
    slow_request: false,
    client_ip: '127.0.0.1',
    user_agent: 'tester/1.0'
  })
  t.type(end.response_time_ms, 'number')
  t.equal(Math.round((end.response_time_ms as number) * 100) / 100, end.response_time_ms, 'response time has 2 decimals')
  t.notOk('error_class' in end)
  t.notOk('request_body' in end, 'a GET without body has no request_body')
})

t.test('text lines: layout, context as key=value, one record per line', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/x', async (request) => {
    request.log.info('first\nsecond\r\u001b[2J\u2028done')
    return 'ok'
  })
  const res = await app.inject({ url: '/x', headers: { 'user-agent': 'agent with spaces' } })
  const id = res.headers['x-request-id'] as string
  await app.apiLogging.flush()
  const lines = readTextLines(logDir).filter((line) => line.includes(id))
  t.equal(lines.length, 3, 'grep <request id> finds every line of the request')
  for (const line of lines) t.match(line, TEXT_PREFIX)
  t.match(lines[0], new RegExp(`\\] INFO \\[api:\\d+\\] API Request: GET /x request_id=${id} method=GET path=/x client_ip=127\\.0\\.0\\.1 user_agent="agent with spaces"$`))
  t.match(lines[1], /\] INFO \[app:\d+\] first\\nsecond\\r\\x1b\[2J\\u2028done request_id=/, 'control characters are escaped')
  t.match(lines[2], / status_code=200 response_time_ms=[\d.]+ content_length=2 slow_request=false /)
})

t.test('levels and error_class follow the status code', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/ok', async () => 'ok')
  app.get('/redirect', async (_request, reply) => reply.redirect('/ok'))
  app.get('/teapot', async (_request, reply) => reply.code(418).send({ short: true }))
  app.get('/unavailable', async (_request, reply) => reply.code(503).send({ retry: true }))
  const expected: Array<[string, number, string, string | undefined, string]> = [
    ['/ok', 200, 'INFO', undefined, 'API Response: GET /ok - 200'],
    ['/redirect', 302, 'INFO', undefined, 'API Response: GET /redirect - 302'],
    ['/missing', 404, 'WARNING', 'client_error', 'API Error: GET /missing - 404'],
    ['/teapot', 418, 'WARNING', 'client_error', 'API Error: GET /teapot - 418'],
    ['/unavailable', 503, 'ERROR', 'server_error', 'API Error: GET /unavailable - 503']
  ]
  for (const [url, status, level, errorClass, message] of expected) {
    const res = await app.inject(url)
    t.equal(res.statusCode, status)
    const lines = await linesOf(app, logDir, res.headers['x-request-id'] as string)
    t.equal(lines.length, 2, `${url}: one start and one completion line`)
    const end = lines[1]
    t.equal(end.level, level, `${url} is ${level}`)
    t.equal(end.message, message)
    t.equal(end.error_class, errorClass)
    t.notOk('exception_type' in end, 'no exception without an error')
  }
  const notFound = (await linesOf(app, logDir, (await app.inject('/missing')).headers['x-request-id'] as string))[1]
  t.equal(notFound.endpoint, null, 'a 404 has no endpoint')
  t.notOk(readJsonLines(logDir).some((r) => r.message.includes('not found')), "Fastify's own 404 line is not copied into the sinks")
})

t.test('exceptions: one line per failed request, stack for 5xx only', async (t) => {
  class VideoEngineError extends Error {
    constructor (message: string) {
      super(message)
      this.name = 'VideoEngineError'
    }
  }
  const { app, logDir } = await buildApp(t)
  app.get('/thrown', async () => { throw new Error('Invalid engine specified') })
  app.get('/rejected', () => Promise.reject(new VideoEngineError('engine offline')))
  app.get('/sent', (_request, reply) => { reply.send(new TypeError('bad type')) })
  app.get('/client', async () => { throw Object.assign(new Error('name is required'), { statusCode: 422, code: 'E_VALIDATION' }) })
  app.post('/schema', { schema: { body: { type: 'object', required: ['a'], properties: { a: { type: 'string' } } } } }, async () => 'ok')

  const cases: Array<{ url: string, method?: 'GET' | 'POST', payload?: object, status: number, level: string, type: string, message: string, stack: boolean }> = [
    { url: '/thrown', status: 500, level: 'ERROR', type: 'Error', message: 'Invalid engine specified', stack: true },
    { url: '/rejected', status: 500, level: 'ERROR', type: 'VideoEngineError', message: 'engine offline', stack: true },
    { url: '/sent', status: 500, level: 'ERROR', type: 'TypeError', message: 'bad type', stack: true },
    { url: '/client', status: 422, level: 'WARNING', type: 'Error', message: 'name is required', stack: false },
    { url: '/schema', method: 'POST', payload: { b: 1 }, status: 400, level: 'WARNING', type: 'Error', message: "body must have required property 'a'", stack: false }
  ]
  for (const c of cases) {
    const res = await app.inject({ url: c.url, method: c.method ?? 'GET', payload: c.payload })
    t.equal(res.statusCode, c.status, c.url)
    const lines = await linesOf(app, logDir, res.headers['x-request-id'] as string)
    t.equal(lines.length, 2, `${c.url}: start + one completion line, nothing else`)
    const end = lines[1]
    t.equal(end.level, c.level)
    t.equal(end.exception_type, c.type)
    t.equal(end.exception_message, c.message)
    if (c.stack) {
      t.match(end.exception, new RegExp(`^${c.type}: ${c.message}\\n\\s+at `), 'the stack is on the completion line')
    } else {
      t.notOk('exception' in end, 'no stack for a client error')
    }
  }
  const client = readJsonLines(logDir).find((r) => r.path === '/client' && r.status_code === 422)
  t.equal(client?.exception_code, 'E_VALIDATION', 'the error code is kept')
  const schema = readJsonLines(logDir).find((r) => r.path === '/schema' && r.status_code === 400)
  t.equal(schema?.exception_code, 'FST_ERR_VALIDATION')
})

t.test('slow requests get a WARNING line and slow_request: true', async (t) => {
  const { app, logDir } = await buildApp(t, { slowRequestThresholdMs: 30 })
  app.get('/api/metrics/trends', async () => { await sleep(80); return 'slow' })
  app.get('/fast', async () => 'fast')
  const slow = await app.inject('/api/metrics/trends')
  const fast = await app.inject('/fast')
  const slowLines = await linesOf(app, logDir, slow.headers['x-request-id'] as string)
  t.equal(slowLines.length, 3)
  t.equal(slowLines[1].level, 'WARNING')
  t.match(slowLines[1].message, /^Slow API Request: GET \/api\/metrics\/trends - \d+ms$/)
  t.ok((slowLines[1].response_time_ms as number) >= 30)
  t.equal(slowLines[2].slow_request, true)
  t.equal(slowLines[2].level, 'INFO', 'a slow success is still INFO on its completion line')
  const fastLines = await linesOf(app, logDir, fast.headers['x-request-id'] as string)
  t.equal(fastLines.length, 2)
  t.equal(fastLines[1].slow_request, false)
})

t.test('a threshold of 0 turns the slow check off', async (t) => {
  const { app, logDir } = await buildApp(t, { slowRequestThresholdMs: 0 })
  app.get('/x', async () => { await sleep(5); return 'x' })
  const res = await app.inject('/x')
  const lines = await linesOf(app, logDir, res.headers['x-request-id'] as string)
  t.equal(lines.length, 2)
  t.equal(lines[1].slow_request, false)
})

t.test('excluded paths are not logged at all', async (t) => {
  const { app, logDir } = await buildApp(t, { excludePaths: ['/health', '/favicon.ico', '/static/*'] })
  app.get('/health', async (request) => { request.log.info('inside health'); return { up: true } })
  app.get('/static/*', async () => 'file')
  app.get('/api', async () => 'api')
  const excluded = await Promise.all(['/health', '/health?probe=1', '/favicon.ico', '/static/app.js'].map((url) => app.inject(url)))
  await app.inject('/api')
  await app.apiLogging.flush()
  const records = readJsonLines(logDir)
  for (const res of excluded) {
    t.ok(res.headers['x-request-id'], 'still gets its id header')
    t.notOk(records.some((r) => r.request_id === res.headers['x-request-id'] && r.logger === 'api'), 'no plugin line')
  }
  t.equal(records.filter((r) => r.logger === 'api').length, 2, 'only /api is logged')
  t.ok(records.some((r) => r.message === 'inside health'), 'application lines inside an excluded route are the application\'s choice')
})

t.test('the default exclusions are /health and /favicon.ico', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/health', async () => 'ok')
  await app.inject('/health')
  await app.inject('/favicon.ico')
  await app.apiLogging.flush()
  t.same(readJsonLines(logDir), [])
})

t.test('request bodies: JSON redacted, text as content, binary summarized, the app\'s object untouched', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => done(null, body))
  app.post('/json', async (request) => request.body)
  app.post('/text', async () => 'ok')
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
  app.post('/binary', async () => 'ok')
  const payload = { user: 'ana', password: 'hunter2', profile: { Api_Key: 'k-1', tokens: [{ refresh_token: 'r-1' }] }, token_count: 3 }
  const json = await app.inject({ method: 'POST', url: '/json', payload })
  t.same(json.json(), payload, 'the handler saw the real body')
  const [, end] = await linesOf(app, logDir, json.headers['x-request-id'] as string)
  t.same(end.request_body, { user: 'ana', password: '[REDACTED]', profile: { Api_Key: '[REDACTED]', tokens: [{ refresh_token: '[REDACTED]' }] }, token_count: 3 })
  t.notOk('response_body' in end, 'response bodies are off by default')

  const text = await app.inject({ method: 'POST', url: '/text', payload: 'hello world', headers: { 'content-type': 'text/plain; charset=utf-8' } })
  const [, textEnd] = await linesOf(app, logDir, text.headers['x-request-id'] as string)
  t.equal(textEnd.request_body, 'hello world', 'text bodies are logged as content')
  const binary = await app.inject({ method: 'POST', url: '/binary', payload: Buffer.from('PK\u0003\u0004 not text'), headers: { 'content-type': 'application/octet-stream' } })
  const [, binaryEnd] = await linesOf(app, logDir, binary.headers['x-request-id'] as string)
  t.equal(binaryEnd.request_body, '[application/octet-stream, 13 bytes]', 'binary bodies only by type and size')
  const all = readTextLines(logDir).join('\n') + JSON.stringify(readJsonLines(logDir))
  t.notMatch(all, /hunter2|k-1|r-1/, 'no secret in any file')
})

t.test('response bodies when enabled; request bodies off', async (t) => {
  const { app, logDir } = await buildApp(t, { logRequestBody: false, logResponseBody: true })
  app.post('/login', async () => ({ access_token: 'at-1', expires_in: 3600 }))
  app.get('/raw', async (_request, reply) => reply.type('application/json').send('{"secret":"s-1","n":1}'))
  app.get('/binary', async (_request, reply) => reply.type('application/octet-stream').send(Buffer.alloc(10)))
  const login = await app.inject({ method: 'POST', url: '/login', payload: { password: 'p' } })
  const [, end] = await linesOf(app, logDir, login.headers['x-request-id'] as string)
  t.notOk('request_body' in end)
  t.same(end.response_body, { access_token: '[REDACTED]', expires_in: 3600 })
  t.equal(login.json().access_token, 'at-1', 'the client still gets the real body')
  const raw = await app.inject('/raw')
  t.same((await linesOf(app, logDir, raw.headers['x-request-id'] as string))[1].response_body, { secret: '[REDACTED]', n: 1 })
  const binary = await app.inject('/binary')
  t.equal((await linesOf(app, logDir, binary.headers['x-request-id'] as string))[1].response_body, '[application/octet-stream, 10 bytes]')
})

t.test('query strings are redacted in the path and the message', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/search', async () => 'ok')
  const res = await app.inject('/search?q=cats&token=abc123&API_KEY=k9&page=2')
  const lines = await linesOf(app, logDir, res.headers['x-request-id'] as string)
  for (const line of lines) {
    t.equal(line.path, '/search?q=cats&token=[REDACTED]&API_KEY=[REDACTED]&page=2')
    t.notMatch(line.message, /abc123|k9/)
  }
})

t.test('LOG_LEVEL=WARNING keeps only warnings and errors', async (t) => {
  const { app, logDir } = await buildApp(t, { level: 'warning' })
  app.get('/ok', async (request) => { request.log.info('hidden'); request.log.warn('shown'); return 'ok' })
  await app.inject('/ok')
  await app.inject('/missing')
  await app.apiLogging.flush()
  t.same(readJsonLines(logDir).map((r) => `${r.level} ${r.message}`), ['WARNING shown', 'WARNING API Error: GET /missing - 404'])
})

t.test('LOG_REQUEST_START=false writes only the completion line', async (t) => {
  const { app, logDir } = await buildApp(t, { logRequestStart: false })
  app.get('/x', async () => 'x')
  const res = await app.inject('/x')
  const lines = await linesOf(app, logDir, res.headers['x-request-id'] as string)
  t.same(lines.map((l: JsonRecord) => l.message), ['API Response: GET /x - 200'])
})

t.test('a request aborted by the client is logged with aborted: true', async (t) => {
  const { app, logDir } = await buildApp(t)
  let reached: () => void = () => {}
  const handlerStarted = new Promise<void>((resolve) => { reached = resolve })
  app.get('/slow', async () => {
    reached()
    await sleep(300)
    return 'late'
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  const req = httpRequest({ port, path: '/slow', headers: { 'x-request-id': 'abort-me' } })
  req.on('error', () => {})
  req.end()
  await handlerStarted
  req.destroy()
  let lines: JsonRecord[] = []
  for (let i = 0; i < 100 && lines.length < 2; i++) {
    await sleep(20)
    lines = await linesOf(app, logDir, 'abort-me')
  }
  await sleep(400)
  lines = await linesOf(app, logDir, 'abort-me')
  t.equal(lines.length, 2, 'one start and one completion line, even after the handler returns')
  t.match(lines[1], { level: 'WARNING', status_code: 499, aborted: true, error_class: 'client_error', message: 'API Request Aborted: GET /slow - 499' })
})

t.test('no JSON line has a duplicate key', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/x', async () => { throw new Error('x') })
  await app.inject('/x')
  await app.apiLogging.flush()
  const { readFileSync } = await import('node:fs')
  const { join } = await import('node:path')
  for (const line of readFileSync(join(logDir, 'api_structured.jsonl'), 'utf8').trim().split('\n')) {
    for (const key of Object.keys(JSON.parse(line))) t.equal(topLevelKeyCount(line, key), 1, key)
  }
})

t.test('a stack is written once per request: the completion line names the line that has it', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/via-api-call', async () => logApiCall('charge', async () => { throw new Error('card declined') }))
  app.get('/via-request-log', async (request) => {
    const error = new Error('store down')
    request.log.error(error)
    throw error
  })
  app.get('/another-error', async (request) => {
    request.log.error(new Error('first problem'))
    throw new Error('second problem')
  })
  const stackOf = (record: JsonRecord | undefined): unknown => record?.exception
  for (const [url, loggedBy, logger] of [['/via-api-call', 'api_call', 'api_call'], ['/via-request-log', 'app', 'app']] as const) {
    const res = await app.inject(url)
    t.equal(res.statusCode, 500)
    const lines = await linesOf(app, logDir, res.headers['x-request-id'] as string)
    const completionLine = lines.find((line) => line.message.startsWith('API Error'))
    t.match(completionLine, { exception_type: 'Error', exception_logged_by: loggedBy }, `${url}: the completion line names the ${loggedBy} line`)
    t.equal(stackOf(completionLine), undefined, `${url}: and does not repeat the stack`)
    t.match(stackOf(lines.find((line) => line.logger === logger && line.level === 'ERROR')), /^Error: /, `${url}: the stack is on the ${logger} line`)
  }
  const res = await app.inject('/another-error')
  const lines = await linesOf(app, logDir, res.headers['x-request-id'] as string)
  const completionLine = lines.find((line) => line.message.startsWith('API Error'))
  t.match(stackOf(completionLine), /^Error: second problem/, 'a different error keeps its stack on the completion line')
  t.notOk('exception_logged_by' in (completionLine ?? {}))
})
