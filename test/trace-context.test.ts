import t from 'tap'
import { connect, type AddressInfo } from 'node:net'
import Fastify from 'fastify'
import apiLogging, { createApiLogger, getLogger, getPropagationHeaders, logApiCall } from '../dist/index.js'
import { parseTraceparent } from '../dist/trace-context.js'
import { buildApp, linesOf, readJsonLines, readTextLines, tempDir, type JsonRecord } from './helpers/app'
import { cli } from './helpers/cli'

const TRACE_ID = '12345678901234567890123456789012'
const PARENT_ID = '1234567890123456'
const VALID = `00-${TRACE_ID}-${PARENT_ID}-01`
const SPAN_ID = /^[0-9a-f]{16}$/
const OUTGOING = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/**
 * Sends one GET over a real socket with the header lines exactly as given (names' case,
 * whitespace around values, a header twice), and returns the response's body.
 */
function rawGet (port: number, path: string, headerLines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let data = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => { data += chunk })
    socket.on('error', reject)
    socket.on('end', () => {
      const at = data.indexOf('\r\n\r\n')
      resolve(at === -1 ? '' : data.slice(at + 4))
    })
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${headerLines.map((line) => line + '\r\n').join('')}\r\n`)
  })
}

// The cases of the W3C Trace Context test suite (test/test.py, the traceparent tests), each as
// the header lines sent and whether the trace id must be kept.
const W3C_CASES: Array<[string, string[], boolean]> = [
  ['traceparent included, tracestate missing', [`traceparent: ${VALID}`], true],
  ['traceparent duplicated', [`traceparent: 00-${TRACE_ID.slice(0, -1)}1-${PARENT_ID}-01`, `traceparent: ${VALID}`], false],
  ['header name trace-parent', [`trace-parent: ${VALID}`], false],
  ['header name trace.parent', [`trace.parent: ${VALID}`], false],
  ['header name TraceParent', [`TraceParent: ${VALID}`], true],
  ['header name TrAcEpArEnT', [`TrAcEpArEnT: ${VALID}`], true],
  ['header name TRACEPARENT', [`TRACEPARENT: ${VALID}`], true],
  ['version 00 with a trailing character', [`traceparent: ${VALID}.`], false],
  ['version 00 with extra fields', [`traceparent: ${VALID}-what-the-future-will-be-like`], false],
  ['future version cc', [`traceparent: cc-${TRACE_ID}-${PARENT_ID}-01`], true],
  ['future version cc with extra fields', [`traceparent: cc-${TRACE_ID}-${PARENT_ID}-01-what-the-future-will-be-like`], true],
  ['future version cc, extra fields without a dash', [`traceparent: cc-${TRACE_ID}-${PARENT_ID}-01.what-the-future-will-be-like`], false],
  ['version ff', [`traceparent: ff-${TRACE_ID}-${PARENT_ID}-01`], false],
  ['version .0', [`traceparent: .0-${TRACE_ID}-${PARENT_ID}-01`], false],
  ['version 0.', [`traceparent: 0.-${TRACE_ID}-${PARENT_ID}-01`], false],
  ['version 000', [`traceparent: 000-${TRACE_ID}-${PARENT_ID}-01`], false],
  ['version 0000', [`traceparent: 0000-${TRACE_ID}-${PARENT_ID}-01`], false],
  ['version 0', [`traceparent: 0-${TRACE_ID}-${PARENT_ID}-01`], false],
  ['trace id all zero', [`traceparent: 00-${'0'.repeat(32)}-${PARENT_ID}-01`], false],
  ['trace id starting with .', [`traceparent: 00-.${TRACE_ID.slice(1)}-${PARENT_ID}-01`], false],
  ['trace id ending with .', [`traceparent: 00-${TRACE_ID.slice(0, -1)}.-${PARENT_ID}-01`], false],
  ['trace id of 33 digits', [`traceparent: 00-${TRACE_ID}3-${PARENT_ID}-01`], false],
  ['trace id of 31 digits', [`traceparent: 00-${TRACE_ID.slice(0, -1)}-${PARENT_ID}-01`], false],
  ['parent id all zero', [`traceparent: 00-${TRACE_ID}-${'0'.repeat(16)}-01`], false],
  ['parent id starting with .', [`traceparent: 00-${TRACE_ID}-.${PARENT_ID.slice(1)}-01`], false],
  ['parent id ending with .', [`traceparent: 00-${TRACE_ID}-${PARENT_ID.slice(0, -1)}.-01`], false],
  ['parent id of 17 digits', [`traceparent: 00-${TRACE_ID}-${PARENT_ID}7-01`], false],
  ['parent id of 15 digits', [`traceparent: 00-${TRACE_ID}-${PARENT_ID.slice(0, -1)}-01`], false],
  ['flags .0', [`traceparent: 00-${TRACE_ID}-${PARENT_ID}-.0`], false],
  ['flags 0.', [`traceparent: 00-${TRACE_ID}-${PARENT_ID}-0.`], false],
  ['flags 001', [`traceparent: 00-${TRACE_ID}-${PARENT_ID}-001`], false],
  ['flags 1', [`traceparent: 00-${TRACE_ID}-${PARENT_ID}-1`], false],
  ['leading space', [`traceparent:  ${VALID}`], true],
  ['leading tab', [`traceparent: \t${VALID}`], true],
  ['trailing space', [`traceparent: ${VALID} `], true],
  ['trailing tab', [`traceparent: ${VALID}\t`], true],
  ['spaces and tabs around', [`traceparent: \t ${VALID} \t`], true],
  ['tracestate without traceparent', ['tracestate: foo=1,bar=2'], false],
  // Beyond test.py, from the spec's text: uppercase hex is invalid, other separators are.
  ['uppercase trace id', [`traceparent: 00-${'ABCDEF'.repeat(5)}AB-${PARENT_ID}-01`], false],
  ['uppercase version', [`traceparent: CC-${TRACE_ID}-${PARENT_ID}-01`], false],
  ['uppercase flags', [`traceparent: 00-${TRACE_ID}-${PARENT_ID}-0A`], false],
  ['underscores for dashes', [`traceparent: 00_${TRACE_ID}_${PARENT_ID}_01`], false],
  ['empty value', ['traceparent: '], false]
]

t.test('every traceparent case of the W3C test suite, over a real socket', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/echo', async (request) => {
    request.log.info('in the handler')
    return { id: request.id, propagation: getPropagationHeaders() }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  for (const [name, headerLines, kept] of W3C_CASES) {
    const body = JSON.parse(await rawGet(port, '/echo', [...headerLines, 'tracestate: congo=t61rcWkgMzE'])) as { id: string, propagation: Record<string, string> }
    const lines = await linesOf(app, logDir, body.id)
    t.equal(lines.length, 3, `${name}: start, handler and completion lines`)
    const outgoing = body.propagation.traceparent
    if (!kept) {
      t.ok(lines.every((line) => !('trace_id' in line) && !('span_id' in line) && !('trace_flags' in line)), `${name}: ignored, no trace fields`)
      t.same(body.propagation, { 'x-request-id': body.id }, `${name}: only the request id is propagated`)
      continue
    }
    const spanId = lines[0].span_id as string
    t.match(spanId, SPAN_ID, `${name}: a span id of the request's own`)
    t.not(spanId, PARENT_ID, `${name}: not the caller's`)
    for (const line of lines) {
      t.same([line.trace_id, line.span_id, line.trace_flags], [TRACE_ID, spanId, '01'], `${name}: ${line.message}`)
    }
    t.equal(lines[0].parent_span_id, PARENT_ID, `${name}: the caller's span on the start line`)
    t.equal(lines[2].parent_span_id, PARENT_ID, `${name}: and on the completion line`)
    t.notOk('parent_span_id' in lines[1], `${name}: not on every line`)
    const [, traceId, outgoingSpan, flags] = OUTGOING.exec(outgoing) ?? []
    t.same([traceId, flags], [TRACE_ID, '01'], `${name}: propagated with the trace id and flags (${outgoing})`)
    t.ok(outgoingSpan !== PARENT_ID && outgoingSpan !== spanId, `${name}: as a new span`)
  }
  await app.apiLogging.flush()
  t.notOk(readJsonLines(logDir).some((line) => JSON.stringify(line).includes('congo')), 'tracestate is in no line')
})

t.test('parseTraceparent: the fields of a valid header, null for anything else', async (t) => {
  t.same(parseTraceparent(VALID), { version: '00', traceId: TRACE_ID, parentId: PARENT_ID, traceFlags: '01' })
  t.same(parseTraceparent(`01-${TRACE_ID}-${PARENT_ID}-03-later`), { version: '01', traceId: TRACE_ID, parentId: PARENT_ID, traceFlags: '03' }, 'a later version: the known fields')
  for (const value of [undefined, null, 42, ['a'], '', VALID.replace(/-/g, '+'), `00-${TRACE_ID}-${PARENT_ID}-01\n`]) {
    t.equal(parseTraceparent(value), null, JSON.stringify(value) ?? String(value))
  }
})

t.test('every line of a traced request carries the trace, placed after request_id; others carry none', async (t) => {
  const { app, logDir } = await buildApp(t, { slowRequestThresholdMs: 1 })
  app.get('/work', async (request) => {
    request.log.info('request.log')
    request.log.child({ part: 'child' }).warn('request.log child')
    getLogger('orders').info('getLogger')
    await new Promise((resolve) => setTimeout(resolve, 20))
    await new Promise<void>((resolve) => setImmediate(() => { getLogger('later').info('getLogger after an await and a timer'); resolve() }))
    await logApiCall('inventory.reserve', async () => 'ok')
    return { id: request.id }
  })
  app.get('/fail', async () => { throw new Error('boom') })
  getLogger('startup').info('outside any request')
  const res = await app.inject({ url: '/work', headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-00` } })
  const id = res.json().id as string
  const lines = await linesOf(app, logDir, id)
  t.same(lines.map((line) => line.message.split(':')[0]), ['API Request', 'request.log', 'request.log child', 'getLogger', 'getLogger after an await and a timer', 'API call started', 'API call completed', 'Slow API Request', 'API Response'])
  const spanId = lines[0].span_id
  for (const line of lines) {
    t.same(Object.keys(line).slice(7, 11), ['request_id', 'trace_id', 'span_id', 'trace_flags'], `${line.message}: right after request_id`)
    t.same([line.trace_id, line.span_id, line.trace_flags], [TRACE_ID, spanId, '00'], `${line.message}: the request's trace, flags as sent`)
  }
  const text = readTextLines(logDir).filter((line) => line.includes(id))
  t.equal(text.length, lines.length)
  for (const line of text) t.ok(line.includes(`request_id=${id} trace_id=${TRACE_ID} span_id=${spanId as string}`), `text: ${line.slice(0, 60)}`)

  const untraced = await app.inject('/fail')
  const plain = await linesOf(app, logDir, untraced.headers['x-request-id'] as string)
  t.ok(plain.length >= 2)
  t.ok(plain.every((line) => !('trace_id' in line) && !('parent_span_id' in line)), 'a request without a trace: only request_id')
  const outside = readJsonLines(logDir).find((line) => line.logger === 'startup') as JsonRecord
  t.notOk('trace_id' in outside, 'a line outside any request: no trace')
  t.same(getPropagationHeaders(), {}, 'nothing to propagate outside a request')
})

t.test('a context field named like a trace field is kept, renamed, not mistaken for the trace', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/x', async (request) => {
    request.log.info({ trace_id: 'mine', span_id: 7 }, 'own fields')
    return { id: request.id }
  })
  const res = await app.inject({ url: '/x', headers: { traceparent: VALID } })
  const line = (await linesOf(app, logDir, res.json().id)).find((r) => r.message === 'own fields') as JsonRecord
  t.equal(line.trace_id, TRACE_ID)
  t.equal(line.field_trace_id, 'mine')
  t.equal(line.field_span_id, 7)
})

t.test('Fastify\'s own logger (createApiLogger) writes the request\'s trace too', async (t) => {
  const logDir = tempDir(t)
  const app = Fastify({ loggerInstance: createApiLogger({ logDir, envFile: false, enableConsoleLogging: false }) })
  t.teardown(() => app.close())
  await app.register(apiLogging)
  app.get('/x', async (request) => {
    request.server.log.info('fastify.log inside the request')
    return { id: request.id }
  })
  const res = await app.inject({ url: '/x', headers: { traceparent: VALID } })
  await app.apiLogging.flush()
  const lines = readJsonLines(logDir).filter((line) => line.request_id === res.json().id)
  t.ok(lines.length >= 2)
  t.ok(lines.every((line) => line.trace_id === TRACE_ID), 'every line of the request')
})

t.test('propagation uses the configured request-id header, a new span each call', async (t) => {
  const { app } = await buildApp(t, { requestIdHeader: 'X-Correlation-ID' })
  app.get('/x', async () => [getPropagationHeaders(), getPropagationHeaders()])
  const res = await app.inject({ url: '/x', headers: { traceparent: VALID, 'x-correlation-id': 'corr-1' } })
  const [first, second] = res.json() as Array<Record<string, string>>
  t.same(Object.keys(first), ['x-correlation-id', 'traceparent'])
  t.equal(first['x-correlation-id'], 'corr-1')
  t.not(first.traceparent, second.traceparent, 'each call is a span of its own')
  t.equal(first.traceparent.slice(0, 36), `00-${TRACE_ID}-`)
})

t.test('tracestate is never logged: not with LOG_HEADERS, and a header list naming it is refused', async (t) => {
  const { app, logDir } = await buildApp(t, { logHeaders: true })
  app.get('/x', async (request) => ({ id: request.id }))
  const res = await app.inject({ url: '/x', headers: { traceparent: VALID, tracestate: 'vendor=secret-token-value', TraceState: 'x=1' } })
  const [, completion] = await linesOf(app, logDir, res.json().id)
  const headers = completion.request_headers as Record<string, string>
  t.equal(headers.traceparent, VALID, 'traceparent is logged with the other headers')
  t.notOk('tracestate' in headers, 'tracestate is not')
  t.notOk(JSON.stringify(readJsonLines(logDir)).includes('secret-token-value'))

  const selected = await buildApp(t, { logRequestHeaders: ['traceparent'] })
  selected.app.get('/x', async (request) => ({ id: request.id }))
  const again = await selected.app.inject({ url: '/x', headers: { traceparent: VALID, tracestate: 'vendor=secret' } })
  const [, line] = await linesOf(selected.app, selected.logDir, again.json().id)
  t.same(line.request_headers, { traceparent: VALID }, 'LOG_REQUEST_HEADERS=traceparent logs traceparent alone')

  await t.rejects(buildApp(t, { logRequestHeaders: ['traceparent', 'TraceState'] }), /LOG_REQUEST_HEADERS lists tracestate is never logged/, 'LOG_REQUEST_HEADERS naming tracestate is refused')
  const route = await buildApp(t)
  t.throws(() => route.app.get('/r', { config: { apiLogging: { headers: ['tracestate'] } } }, async () => 'x'), /GET \/r[^]*\n {2}headers lists tracestate is never logged/, 'a route naming it is refused')
})

t.test('api-logs trace finds every line of a trace id', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/x', async (request) => ({ id: request.id }))
  const first = await app.inject({ url: '/x', headers: { traceparent: VALID } })
  const second = await app.inject({ url: '/x', headers: { traceparent: `00-${TRACE_ID}-${'ab'.repeat(8)}-01` } })
  await app.inject('/x')
  await app.apiLogging.flush()
  const out = await cli(['trace', TRACE_ID, '--dir', logDir, '--json'])
  t.equal(out.code, 0)
  const ids = out.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as JsonRecord).request_id)
  t.same(ids, [first.json().id, first.json().id, second.json().id, second.json().id], 'both requests of the trace, nothing else')
  const text = await cli(['trace', TRACE_ID, '--dir', logDir])
  t.ok(text.stdout.split('\n').filter(Boolean).every((line) => line.includes(`trace_id=${TRACE_ID}`)), 'the text layout shows the trace id')
  const none = await cli(['trace', 'f'.repeat(32), '--dir', logDir])
  t.equal(none.code, 1)
  t.match(none.stderr, /no record of request or trace/)
})
