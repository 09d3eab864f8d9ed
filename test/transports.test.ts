import t, { type Test } from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import apiLogging, {
  ERR_INVALID_CONFIG, WARN_TRANSPORT_CLOSE_TIMEOUT, WARN_TRANSPORT_FAILED, WARN_TRANSPORT_RECOVERED, getLogger, loadConfig,
  type ApiLoggingOptions, type TransportOptions
} from '../dist/index.js'
import { readJsonLines, tempDir, type JsonRecord } from './helpers/app'
import { fixture, runFixture } from './helpers/child'
import { captureWarnings } from './helpers/faults'
import { attributeValue, otlpHttpReceiver, tcpLineReceiver, type OtlpLogRecord } from './helpers/receivers'

const RECORD_LINES = pathToFileURL(fixture('transports/record-lines.mjs')).href
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT_ID = '00f067aa0ba902b7'

async function appWith (t: Test, transports: TransportOptions[], options: ApiLoggingOptions = {}): Promise<{ app: FastifyInstance, logDir: string }> {
  const logDir = tempDir(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(apiLogging, { envFile: false, enableConsoleLogging: false, enableFileLogging: false, logDir, transports, ...options })
  app.get('/orders/:id', async (request) => {
    request.log.info({ order: request.params, time: 'a field named time', msg: 'a field named msg' }, 'order looked up')
    return { ok: true }
  })
  app.get('/fail', async () => { throw new Error('boom') })
  app.post('/big', async () => ({ ok: true }))
  return { app, logDir }
}

function recorded (path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((line) => line !== '') : []
}

async function until (what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

t.test('configuration: LOG_TRANSPORTS is a JSON array of targets; a bad one is refused naming the variable and what it allows', async (t) => {
  const saved = process.env.LOG_TRANSPORTS
  t.teardown(() => {
    if (saved === undefined) delete process.env.LOG_TRANSPORTS
    else process.env.LOG_TRANSPORTS = saved
  })
  process.env.LOG_TRANSPORTS = JSON.stringify([{ target: 'pino-socket', options: { port: 5000 }, level: 'warn' }, { target: '/opt/t.js', format: 'json' }])
  t.same(loadConfig({ envFile: false }).transports, [
    { target: 'pino-socket', options: { port: 5000 }, format: 'pino', level: 'WARNING' },
    { target: '/opt/t.js', options: {}, format: 'json' }
  ], 'levels in any spelling, format pino by default')
  process.env.LOG_TRANSPORTS = ''
  t.same(loadConfig({ envFile: false }).transports, [], 'empty: none')

  const allowed = /must be a JSON array of \{ "target": "<package or path>", "options": \{ \.\.\. \}, "level": "<level>", "format": "pino" \| "json" \} objects/
  for (const [value, why] of [
    ['pino-socket', 'not JSON'],
    ['{"target":"pino-socket"}', 'an object, not an array'],
    ['[{"options":{}}]', 'no target'],
    ['[{"target":""}]', 'an empty target'],
    ['[{"target":"pino-socket","format":"xml"}]', 'an unknown format'],
    ['[{"target":"pino-socket","options":[1]}]', 'options not an object']
  ]) {
    process.env.LOG_TRANSPORTS = value
    t.throws(() => loadConfig({ envFile: false }), { code: ERR_INVALID_CONFIG, message: /LOG_TRANSPORTS=.* \(from environment\) must be a JSON array/ }, why)
    t.throws(() => loadConfig({ envFile: false }), { message: allowed })
  }
  process.env.LOG_TRANSPORTS = '[{"target":"pino-socket","level":"loud"}]'
  t.throws(() => loadConfig({ envFile: false }), { code: ERR_INVALID_CONFIG, message: /LOG_TRANSPORTS \(from environment\): entry 0 \(pino-socket\) has level "loud"; it must be .*level one of DEBUG, INFO, WARNING/ }, 'a bad level names the entry')
  process.env.LOG_TRANSPORTS = '[{"target":"pino-socket","levle":"info"}]'
  t.throws(() => loadConfig({ envFile: false }), { code: ERR_INVALID_CONFIG, message: /entry 0 \(pino-socket\) has "levle", not a key of a transport/ }, 'an unknown key')
  delete process.env.LOG_TRANSPORTS
  t.throws(() => loadConfig({ envFile: false, transports: [{ target: 'x', level: 'loud' as 'info' }] }), { message: /LOG_TRANSPORTS: entry 0 \(x\) has level "loud"/ }, 'the option too')
  t.throws(() => loadConfig({ envFile: false, transportCloseTimeoutMs: 50 }), { message: /option transportCloseTimeoutMs \(LOG_TRANSPORT_CLOSE_TIMEOUT_MS\)=50 must be an integer >= 100/ })
  t.equal(loadConfig({ envFile: false }).transportCloseTimeoutMs, 5000, 'app.close() waits 5 s for a transport by default')
})

t.test('contract, pino-socket to a local TCP receiver: every record of the JSON file arrives whole, in pino\'s form or the file\'s', async (t) => {
  const pinoForm = await tcpLineReceiver(t)
  const fileForm = await tcpLineReceiver(t)
  const warnings = await tcpLineReceiver(t)
  const socket = (port: number): Record<string, unknown> => ({ address: '127.0.0.1', port, mode: 'tcp' })
  const { app, logDir } = await appWith(t, [
    { target: 'pino-socket', options: socket(pinoForm.port) },
    { target: 'pino-socket', options: socket(fileForm.port), format: 'json' },
    { target: 'pino-socket', options: socket(warnings.port), level: 'warn' }
  ], { logRequestBody: true, bodyMaxBytes: 32768, maxRecordBytes: 65536 })
  const ids: string[] = []
  for (let i = 0; i < 50; i++) ids.push((await app.inject({ url: `/orders/${i}`, headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` } })).headers['x-request-id'] as string)
  await app.inject('/fail')
  // A 20 kB record (one string is cut at 16 kB by redaction: many fields instead).
  const big = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`part_${i}`, String(i % 10).repeat(1000)]))
  await app.inject({ method: 'POST', url: '/big', payload: big })
  await app.close()
  const file = readJsonLines(logDir)
  t.equal(file.length, 50 * 3 + 2 + 2)
  await until('every line at the receivers', () => pinoForm.lines.length >= file.length && fileForm.lines.length >= file.length)

  t.same(fileForm.lines.map((line) => JSON.parse(line)), file, 'format json: the lines of api_structured.jsonl, in order')
  const records = pinoForm.lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  t.equal(records.length, file.length, 'no line twice')
  for (const [i, record] of records.entries()) {
    const line = file[i] as JsonRecord
    const { level, time, msg, ...rest } = record
    const { timestamp, level: label, message, ...same } = line
    t.equal(time, Date.parse(timestamp), 'time: epoch ms')
    t.equal(msg, message)
    t.equal(level, { INFO: 30, WARNING: 40, ERROR: 50 }[label])
    // trace_flags is a number in pino's form (what OpenTelemetry's span context holds).
    if (same.trace_flags !== undefined) same.trace_flags = Number.parseInt(same.trace_flags as string, 16)
    const renamed = { ...same } as Record<string, unknown>
    if ('time' in renamed) { renamed.field_time = renamed.time; delete renamed.time }
    if ('msg' in renamed) { renamed.field_msg = renamed.msg; delete renamed.msg }
    t.same(rest, renamed, `line ${i}: every other key as in the file`)
  }
  const lookup = records.find((record) => record.msg === 'order looked up') as Record<string, unknown>
  t.match(lookup, { field_time: 'a field named time', field_msg: 'a field named msg', trace_id: TRACE_ID, trace_flags: 1, request_id: ids[0] })
  const bigLine = pinoForm.lines.find((line) => line.includes('part_19')) as string
  t.ok(bigLine.length > 20_000, `a ${bigLine.length}-byte record`)
  t.same((JSON.parse(bigLine) as { request_body: unknown }).request_body, big, 'arrives whole')
  t.same(warnings.lines.map((line) => (JSON.parse(line) as { level: number }).level), [50], 'level warn: only the 500\'s completion line')

  const stats = app.apiLogging.stats().transports
  t.same(stats.map((s) => [s.target, s.lines, s.dropped, s.failing, s.restarts]), [
    ['pino-socket', file.length, 0, false, 0], ['pino-socket', file.length, 0, false, 0], ['pino-socket', 1, 0, false, 0]
  ], 'stats(): lines the workers took, per transport')
})

t.test('contract, pino-opentelemetry-transport to a local OTLP/HTTP receiver: severities, body, attributes and the trace context', async (t) => {
  const otlp = await otlpHttpReceiver(t)
  const { app, logDir } = await appWith(t, [{
    target: 'pino-opentelemetry-transport',
    options: {
      loggerName: 'orders-api',
      serviceVersion: '1.2.3',
      resourceAttributes: { 'service.name': 'orders-api' },
      logRecordProcessorOptions: { recordProcessorType: 'batch', exporterOptions: { protocol: 'http', httpExporterOptions: { url: otlp.url } } }
    }
  }], { slowRequestThresholdMs: 0 })
  await app.inject({ url: '/orders/7', headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` } })
  await app.inject('/fail')
  getLogger('billing').warn({ invoice: 'F-1' }, 'invoice late')
  getLogger('billing').fatal('ledger gone')
  await app.close()
  const file = readJsonLines(logDir)
  t.equal(otlp.records.length, file.length, 'every record exported by app.close()')
  const byBody = new Map(otlp.records.map((record) => [record.body.stringValue, record]))
  const attributes = (record: OtlpLogRecord): Record<string, unknown> => Object.fromEntries(record.attributes.map(({ key, value }) => [key, attributeValue(value)]))
  for (const line of file) {
    const record = byBody.get(line.message) as OtlpLogRecord
    t.ok(record, `exported: ${line.message}`)
    t.equal(record.severityNumber, { INFO: 9, WARNING: 13, ERROR: 17, CRITICAL: 21 }[line.level], `${line.level}: OpenTelemetry's severity number`)
    t.equal(BigInt(record.timeUnixNano) / 1_000_000n, BigInt(Date.parse(line.timestamp)), 'the record\'s time')
    const attrs = attributes(record)
    if (line.request_id !== null) t.equal(attrs.request_id, line.request_id)
    t.equal(attrs.logger, line.logger)
    if (line.trace_id !== undefined) {
      t.equal(record.traceId, line.trace_id, 'trace id in the log record\'s own field')
      t.equal(record.spanId, line.span_id)
      t.equal(record.flags, 1)
      t.notOk('trace_id' in attrs, 'not an attribute as well')
    }
  }
  const lookup = attributes(byBody.get('order looked up') as OtlpLogRecord)
  t.match(lookup, { field_time: 'a field named time', module: 'transports.test', function: String, line: Number })
  t.same(otlp.resources[0]?.attributes !== undefined && (otlp.resources[0].attributes as Array<{ key: string, value: Record<string, unknown> }>)
    .filter(({ key }) => key === 'service.name').map(({ value }) => attributeValue(value)), ['orders-api'], 'the resource names the service')
})

t.test('a transport that cannot start is reported once and retried; the files and the API go on', async (t) => {
  const warnings = captureWarnings(t, WARN_TRANSPORT_FAILED, WARN_TRANSPORT_RECOVERED)
  const { app, logDir } = await appWith(t, [{ target: 'pino-transport-that-is-not-installed' }, { target: RECORD_LINES, options: { failStart: true, path: '/dev/null' } }],
    { transportCloseTimeoutMs: 1500 })
  for (let i = 0; i < 20; i++) t.equal((await app.inject(`/orders/${i}`)).statusCode, 200)
  await until('both failures', () => app.apiLogging.stats().transports.every((s) => s.failing))
  await new Promise((resolve) => setTimeout(resolve, 1500))
  await app.inject('/orders/late')
  // flush() would wait for the transports too (as it waits for a failing disk): poll the file instead.
  await until('the JSON file', () => readJsonLines(logDir).filter((line) => line.message.startsWith('API Request')).length === 21)
  const file = readJsonLines(logDir)
  t.equal(file.filter((line) => line.message.startsWith('API Request')).length, 21, 'the JSON file has every request')
  const notices = file.filter((line) => line.level === 'ERROR' && line.message.startsWith('Log writes to transport'))
  t.same(notices.map((line) => line.message.replace(/: .*/, '')).sort(), [
    `Log writes to transport ${RECORD_LINES} fail`, 'Log writes to transport pino-transport-that-is-not-installed fail'
  ], 'one ERROR line per transport in the file, not one per retry')
  t.match(notices.find((line) => line.message.includes('not-installed'))?.message, /unable to determine transport target/)
  t.match(notices.find((line) => line.message.includes('record-lines'))?.message, /this transport cannot start/)
  t.equal(warnings.filter((w) => w.code === WARN_TRANSPORT_FAILED).length, 2, 'one process warning per transport')
  const stats = app.apiLogging.stats().transports
  const before = stats
  const closeWarnings = captureWarnings(t, WARN_TRANSPORT_CLOSE_TIMEOUT)
  for (const s of stats) {
    t.ok(s.errors >= 1, 'failures counted')
    t.ok(s.restarts >= 1, 'started again after a backoff')
    t.equal(s.lines, 0)
    t.ok(s.pending > 0, 'lines held, up to LOG_MAX_BUFFER_BYTES')
  }
  const closing = Date.now()
  await app.close()
  t.ok(Date.now() - closing < 4000, 'close() is bounded by LOG_TRANSPORT_CLOSE_TIMEOUT_MS')
  const after = app.apiLogging.stats().transports
  for (const s of after) {
    const held = before.find((b) => b.target === s.target)?.pending ?? 0
    t.ok(s.pending === 0 && s.dropped === held, `what never reached ${s.target} is counted as dropped (${s.dropped} of ${held})`)
  }
  const lost = readJsonLines(logDir).filter((line) => line.level === 'ERROR' && / had not taken \d+ lines within 1500 ms of close/.test(line.message))
  t.same(lost.map((line) => [line.transport, line.dropped_lines]).sort(), after.map((s) => [s.target, s.dropped]).sort(), 'and the JSON file says how many, per transport')
  t.equal(closeWarnings.length, 2, 'one warning per transport')
})

for (const crash of ['exit', 'throw'] as const) {
  t.test(`a transport whose worker ${crash === 'exit' ? 'exits' : 'throws'} is started again and sent what it had not taken`, async (t) => {
    const warnings = captureWarnings(t, WARN_TRANSPORT_FAILED, WARN_TRANSPORT_RECOVERED)
    const dir = tempDir(t)
    const path = join(dir, 'received.jsonl')
    const { app, logDir } = await appWith(t, [{ target: RECORD_LINES, options: { path, crash, crashAfter: 30 } }])
    const ids: string[] = []
    for (let round = 0; round < 40; round++) {
      ids.push((await app.inject(`/orders/${round}`)).headers['x-request-id'] as string)
      await new Promise((resolve) => setImmediate(resolve))
    }
    await until('the recovery', () => warnings.some((w) => w.code === WARN_TRANSPORT_RECOVERED))
    await app.close()
    t.ok(existsSync(path + '.crashed'), 'the worker did die')
    const received = recorded(path).map((line) => JSON.parse(line) as { request_id: string | null, msg: string })
    const file = readJsonLines(logDir)
    for (const line of file.filter((l) => l.request_id !== null)) {
      t.ok(received.some((r) => r.request_id === line.request_id && r.msg === line.message), `received: ${line.message} ${line.request_id as string}`)
    }
    t.same(warnings.map((w) => w.code), [WARN_TRANSPORT_FAILED, WARN_TRANSPORT_RECOVERED], 'reported once, and once more when it works again')
    t.match(warnings[1]?.message, /transport .*record-lines\.mjs works again: 0 lines lost/)
    const stats = app.apiLogging.stats().transports[0]
    t.match(stats, { restarts: 1, dropped: 0, failing: false, pending: 0 })
    t.ok(file.some((line) => line.level === 'WARNING' && /^Log writes to transport .* work again: 0 lines lost/.test(line.message)), 'the recovery is in the file')
  })
}

t.test('app.close() waits for a transport at most LOG_TRANSPORT_CLOSE_TIMEOUT_MS, then stops it and says so', async (t) => {
  const warnings = captureWarnings(t, WARN_TRANSPORT_CLOSE_TIMEOUT)
  const dir = tempDir(t)
  const path = join(dir, 'received.jsonl')
  const { app, logDir } = await appWith(t, [{ target: RECORD_LINES, options: { path, hangOnClose: true } }], { transportCloseTimeoutMs: 500 })
  for (let i = 0; i < 10; i++) await app.inject(`/orders/${i}`)
  await until('the worker took every line', () => app.apiLogging.stats().transports[0]?.lines === 30)
  const started = Date.now()
  await app.close()
  const took = Date.now() - started
  t.ok(took >= 450 && took < 3000, `close() took ${took} ms`)
  t.equal(recorded(path).length, 30, 'what it had taken, it had')
  t.match(warnings, [{ code: WARN_TRANSPORT_CLOSE_TIMEOUT, message: /did not finish within 500 ms \(LOG_TRANSPORT_CLOSE_TIMEOUT_MS\) and was stopped/ }])
  t.ok(readJsonLines(logDir).some((line) => line.level === 'ERROR' && line.transport === RECORD_LINES), 'and the JSON file says so')
})

for (const mode of ['exit', 'throw', 'sigterm'] as const) {
  t.test(`a process that ends by ${mode === 'exit' ? 'process.exit()' : mode === 'throw' ? 'an uncaught exception' : 'a bare SIGTERM'} hands its transports every line first`, async (t) => {
    const dir = tempDir(t)
    const path = join(dir, 'received.jsonl')
    const result = await runFixture('transport-exit-app.js', [mode, join(dir, 'logs'), RECORD_LINES, path])
    if (mode === 'exit') t.equal(result.code, 3, result.stderr)
    else if (mode === 'throw') t.equal(result.code, 1)
    else t.equal(result.signal, 'SIGTERM')
    const file = readJsonLines(join(dir, 'logs'))
    const received = recorded(path).map((line) => JSON.parse(line) as { msg: string, level: number })
    t.equal(file.length, 2002 + (mode === 'throw' ? 1 : 0), 'the file has them all')
    t.same(received.map((r) => r.msg), file.map((line) => line.message), 'the transport too, in order')
    if (mode === 'throw') t.match(received.at(-1), { level: 60, msg: 'Uncaught exception: uncaught kaboom' })
  })
}
