import t from 'tap'
import { Redactor } from '../../dist/redact.js'
import { RequestLines, compileExclusions, pathname, type RequestLineSettings } from '../../dist/request-lines.js'
import { RequestState, type ReplyView, type RequestView } from '../../dist/request-state.js'
import type { LogRecord } from '../../dist/record.js'
import type { LogTarget } from '../../dist/registry.js'

// The content of the plugin's request lines, without Fastify: plain request and reply objects,
// a fake monotonic clock, and records collected in an array.

interface Fixture {
  lines: RequestLines
  records: LogRecord[]
  advance: (ms: number) => void
}

function fixture (overrides: Partial<RequestLineSettings> = {}): Fixture {
  let monotonic = 1000
  const records: LogRecord[] = []
  const lines = new RequestLines({
    redactor: new Redactor(),
    minLevel: 30,
    slowRequestThresholdMs: 1000,
    logRequestStart: true,
    logRequestBody: true,
    logResponseBody: false,
    logHeaders: false,
    bodyMaxBytes: 8192,
    maxRecordBytes: 16384,
    excludePaths: ['/health', '/static/*'],
    now: () => Date.UTC(2025, 0, 14, 10, 30, 15, 123),
    monotonic: () => monotonic,
    ...overrides
  }, (record) => records.push(record))
  return { lines, records, advance: (ms) => { monotonic += ms } }
}

const target = {} as LogTarget

function request (overrides: Partial<RequestView> = {}): RequestView {
  return {
    method: 'POST',
    url: '/api/tasks?token=abc',
    ip: '10.0.0.7',
    headers: { 'user-agent': 'curl/8', 'content-type': 'application/json' },
    body: { name: 'x', password: 'hunter2' },
    routeOptions: { url: '/api/tasks' },
    ...overrides
  }
}

function reply (statusCode: number, headers: Record<string, unknown> = { 'content-length': '17' }): ReplyView {
  return { statusCode, getHeader: (name) => headers[name], getHeaders: () => headers }
}

function stateOf (lines: RequestLines, req: RequestView, res: ReplyView, rejectedId?: string): RequestState {
  return new RequestState('req-1', target, req, res, lines.clock(), rejectedId)
}

t.test('arrival and completion of a successful request', async (t) => {
  const { lines, records, advance } = fixture()
  const state = stateOf(lines, request(), reply(201))
  lines.start(state)
  advance(12.3456)
  lines.completion(state, false, true)
  t.equal(records.length, 2)
  const [start, end] = records
  t.match(start, { level: 30, logger: 'api', message: 'API Request: POST /api/tasks?token=[REDACTED]', requestId: 'req-1', origin: { module: 'plugin', function: 'onRequestLogger' } })
  t.same(start.fields, { method: 'POST', path: '/api/tasks?token=[REDACTED]', client_ip: '10.0.0.7', user_agent: 'curl/8' })
  t.equal(start.time, Date.UTC(2025, 0, 14, 10, 30, 15, 123), 'timestamps from the given clock')
  t.match(end, { level: 30, message: 'API Response: POST /api/tasks?token=[REDACTED] - 201', origin: { function: 'onResponseClosed' } })
  t.match(end.fields, { endpoint: '/api/tasks', status_code: 201, response_time_ms: 12.35, content_length: 17, slow_request: false })
  t.match(JSON.parse((end.fields?.request_body as { json: string }).json), { name: 'x', password: '[REDACTED]' })
  t.equal(end.fields?.error_class, undefined, 'no error class for a 2xx')
})

t.test('levels and error classes by status; exceptions on the completion line', async (t) => {
  const { lines, records } = fixture()
  const client = stateOf(lines, request({ method: 'GET', body: undefined }), reply(404))
  lines.completion(client, false, true)
  t.match(records.pop(), { level: 40, message: 'API Error: GET /api/tasks?token=[REDACTED] - 404', fields: { error_class: 'client_error' } })

  const server = stateOf(lines, request({ method: 'GET', body: undefined }), reply(500))
  server.failure = Object.assign(new Error('db down: password=pw'), { code: 'ECONNREFUSED' })
  lines.completion(server, false, true)
  const line = records.pop()
  t.match(line, { level: 50, fields: { error_class: 'server_error', exception_type: 'Error', exception_message: 'db down: password=[REDACTED]', exception_code: 'ECONNREFUSED' } })
  t.match(line?.fields?.exception, /^Error: db down: password=\[REDACTED\]\n\s+at /, 'the stack, redacted, for a 5xx')

  const invalid = stateOf(lines, request(), reply(400))
  invalid.failure = new Error('body must have required property')
  lines.completion(invalid, false, true)
  t.equal(records.pop()?.fields?.exception, undefined, 'no stack for a 4xx')
})

t.test('slow requests: a WARNING before the completion line, and slow_request: true', async (t) => {
  const { lines, records, advance } = fixture({ slowRequestThresholdMs: 100 })
  const state = stateOf(lines, request({ body: undefined }), reply(200))
  advance(250.4)
  lines.completion(state, false, true)
  t.equal(records.length, 2)
  t.match(records[0], { level: 40, message: 'Slow API Request: POST /api/tasks?token=[REDACTED] - 250ms', fields: { response_time_ms: 250.4, slow_threshold_ms: 100 } })
  t.match(records[1], { level: 30, fields: { slow_request: true } })
})

t.test('a client that leaves: 499 before any status, the real status after', async (t) => {
  const { lines, records } = fixture()
  lines.completion(stateOf(lines, request(), reply(200)), true, false)
  t.match(records.pop(), { level: 40, message: 'API Request Aborted: POST /api/tasks?token=[REDACTED] - 499', fields: { status_code: 499, aborted: true } })
  lines.completion(stateOf(lines, request(), reply(200)), true, true)
  t.match(records.pop(), { message: 'API Request Aborted: POST /api/tasks?token=[REDACTED] - 200', fields: { status_code: 200, aborted: true } })
})

t.test('the level setting: WARNING keeps errors and slow warnings only', async (t) => {
  const { lines, records, advance } = fixture({ minLevel: 40, slowRequestThresholdMs: 10 })
  const ok = stateOf(lines, request(), reply(200))
  lines.start(ok)
  lines.completion(ok, false, true)
  t.equal(records.length, 0, 'no start line and no completion line for a 200 at WARNING')
  const slow = stateOf(lines, request(), reply(200))
  advance(20)
  lines.completion(slow, false, true)
  t.same(records.map((r) => r.message.split(':')[0]), ['Slow API Request'], 'the slow warning alone')
})

t.test('a refused incoming id is reported once, redacted and cut', async (t) => {
  const { lines, records } = fixture()
  const state = stateOf(lines, request(), reply(200), 'has spaces token=abc ' + 'x'.repeat(300))
  lines.start(state)
  lines.completion(state, false, true)
  const reported = records[0].fields?.rejected_request_id as string
  t.match(reported, /^has spaces token=\[REDACTED\] x+$/)
  t.equal(reported.length, 128)
  t.equal(records[1].fields?.rejected_request_id, undefined, 'not repeated on the completion line')

  const { lines: noStart, records: only } = fixture({ logRequestStart: false })
  const quiet = stateOf(noStart, request(), reply(200), 'bad id')
  noStart.start(quiet)
  noStart.completion(quiet, false, true)
  t.equal(only.length, 1)
  t.equal(only[0].fields?.rejected_request_id, 'bad id', 'on the completion line when there is no start line')
})

t.test('response bodies and headers when asked; the record cap', async (t) => {
  const { lines, records } = fixture({ logResponseBody: true, logHeaders: true, maxRecordBytes: 4096 })
  const headers = { 'content-type': 'application/json', 'set-cookie': 'sid=1' }
  const state = stateOf(lines, request({ body: { note: 'n'.repeat(20_000) } }), reply(200, headers))
  lines.captureResponseBody(state, { ok: true, token: 't' }, 'application/json')
  lines.captureResponseBody(state, '{"ignored":true}', 'application/json')
  lines.completion(state, false, true)
  const fields = records[0].fields ?? {}
  t.same(JSON.parse((fields.response_body as { json: string }).json), { ok: true, token: '[REDACTED]' }, 'the first body seen, redacted')
  t.same(JSON.parse((fields.response_headers as { json: string }).json), { 'content-type': 'application/json', 'set-cookie': '[REDACTED]' })
  t.match(fields.request_body, /…\[truncated \d+ (chars|bytes)\]$/, 'the large body is cut')
})

t.test('exclusions: exact paths and prefixes, without the query string', async (t) => {
  const { lines } = fixture()
  t.ok(lines.isExcluded('/health'))
  t.ok(lines.isExcluded('/health?probe=1'))
  t.ok(lines.isExcluded('/static/app.js'))
  t.notOk(lines.isExcluded('/healthz'))
  t.notOk(compileExclusions([])('/anything'))
  t.equal(pathname('/a/b?c=d'), '/a/b')
})
