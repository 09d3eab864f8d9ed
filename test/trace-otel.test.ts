import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { FastifyOtelInstrumentation } from '@fastify/otel'
import { context, propagation, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import apiLogging, { getLogger, getPropagationHeaders } from '../dist/index.js'
import { linesOf, tempDir, type JsonRecord } from './helpers/app'
import { PACKAGE_ROOT, childEnv } from './helpers/child'

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c'
const PARENT_ID = 'b7ad6b7169203331'

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
trace.setGlobalTracerProvider(provider)
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
propagation.setGlobalPropagator(new W3CTraceContextPropagator())
const instrumentation = new FastifyOtelInstrumentation()
instrumentation.setTracerProvider(provider)

// ReadableSpan's parent: `parentSpanContext` in SDK 2.
function parentOf (span: ReadableSpan): string | undefined {
  return (span as ReadableSpan & { parentSpanContext?: { spanId: string } }).parentSpanContext?.spanId
}

async function otelApp (t: Test): Promise<{ app: FastifyInstance, logDir: string }> {
  const logDir = tempDir(t)
  const app = Fastify()
  t.teardown(() => app.close())
  // @fastify/otel first, as its docs ask: our onRequest hook then runs inside its request span.
  await app.register(instrumentation.plugin())
  await app.register(apiLogging, { logDir, envFile: false, enableConsoleLogging: false })
  app.get('/work', async (request) => {
    request.log.info('request.log')
    getLogger('orders').info('getLogger')
    return { id: request.id, propagation: getPropagationHeaders() }
  })
  return { app, logDir }
}

t.test('with @fastify/otel: the lines carry the exported request span, not a hook span', async (t) => {
  exporter.reset()
  const { app, logDir } = await otelApp(t)
  const res = await app.inject({ url: '/work', headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` } })
  const { id, propagation: headers } = res.json() as { id: string, propagation: Record<string, string> }
  const lines = await linesOf(app, logDir, id)
  t.equal(lines.length, 4)
  const spans = exporter.getFinishedSpans()
  const requestSpan = spans.find((span) => span.name === 'request') as ReadableSpan
  t.ok(requestSpan, 'the request span was exported')
  const hookSpans = spans.filter((span) => span.name.startsWith('onRequest - '))
  t.ok(hookSpans.some((span) => span.name === 'onRequest - onRequestLogger'), 'our hook ran in a hook span of its own')
  const { traceId, spanId } = requestSpan.spanContext()
  t.equal(traceId, TRACE_ID, 'the request span continues the incoming trace')
  for (const line of lines) {
    t.same([line.trace_id, line.span_id, line.trace_flags], [traceId, spanId, '01'], `${line.message}: the request span's ids`)
  }
  t.ok(hookSpans.every((span) => span.spanContext().spanId !== lines[0].span_id), 'no line took a hook span')
  t.equal(lines[3].parent_span_id, parentOf(requestSpan), 'the request span\'s parent')
  t.equal(lines[3].parent_span_id, PARENT_ID)
  const outgoing = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(headers.traceparent) ?? []
  t.equal(outgoing[1], traceId, 'propagated in the span\'s trace')
  t.not(outgoing[2], spanId, 'as a new span')
})

t.test('with @fastify/otel and no incoming trace: the root request span', async (t) => {
  exporter.reset()
  const { app, logDir } = await otelApp(t)
  const res = await app.inject('/work')
  const lines = await linesOf(app, logDir, res.json().id)
  const requestSpan = exporter.getFinishedSpans().find((span) => span.name === 'request') as ReadableSpan
  t.equal(parentOf(requestSpan), undefined, 'a root span')
  t.ok(lines.every((line) => line.trace_id === requestSpan.spanContext().traceId && line.span_id === requestSpan.spanContext().spanId))
  t.ok(lines.every((line) => !('parent_span_id' in line)), 'no parent to name')
})

t.test('an active span without @fastify/otel (as instrumentation-http makes) is taken over the header', async (t) => {
  exporter.reset()
  const logDir = tempDir(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(apiLogging, { logDir, envFile: false, enableConsoleLogging: false })
  app.get('/x', async (request) => ({ id: request.id }))
  const tracer = provider.getTracer('test')
  const { res, span } = await tracer.startActiveSpan('server', async (span) => {
    const res = await app.inject({ url: '/x', headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` } })
    span.end()
    return { res, span }
  })
  const lines = await linesOf(app, logDir, res.json().id) as JsonRecord[]
  t.equal(lines.length, 2)
  t.ok(lines.every((line) => line.trace_id === span.spanContext().traceId && line.span_id === span.spanContext().spanId), 'the active span\'s ids')
  t.not(lines[0].trace_id, TRACE_ID, 'not the header\'s: OpenTelemetry already decided the trace')
})

t.test('without @opentelemetry/api installed, the plugin works and reads traceparent itself', async (t) => {
  const dir = tempDir(t)
  // Hides every @opentelemetry package from require(), as an application without them has it,
  // and counts the plugin's attempts to load one.
  const hide = join(dir, 'hide-otel.js')
  writeFileSync(hide, `
const Module = require('node:module')
const resolve = Module._resolveFilename
globalThis.otelLookups = 0
Module._resolveFilename = function (request, ...rest) {
  if (request.startsWith('@opentelemetry/')) {
    globalThis.otelLookups++
    const err = new Error("Cannot find module '" + request + "'")
    err.code = 'MODULE_NOT_FOUND'
    throw err
  }
  return resolve.call(this, request, ...rest)
}
`)
  const script = join(dir, 'app.js')
  writeFileSync(script, `
const Fastify = require(require.resolve('fastify', { paths: [${JSON.stringify(PACKAGE_ROOT)}] }))
const plugin = require(${JSON.stringify(PACKAGE_ROOT)})
const fs = require('node:fs')
async function main () {
  const logDir = ${JSON.stringify(join(dir, 'logs'))}
  const app = Fastify()
  await app.register(plugin, { logDir, envFile: false, enableConsoleLogging: false })
  app.get('/x', async (request) => ({ id: request.id, propagation: plugin.getPropagationHeaders() }))
  const res = await app.inject({ url: '/x', headers: { traceparent: '00-${TRACE_ID}-${PARENT_ID}-01' } })
  await app.apiLogging.flush()
  const lines = fs.readFileSync(logDir + '/api_structured.jsonl', 'utf8').split('\\n').filter(Boolean).map(JSON.parse)
  await app.close()
  console.log(JSON.stringify({ lookups: globalThis.otelLookups, body: res.json(), lines }))
}
main().catch((err) => { console.error(err); process.exit(1) })
`)
  const out = execFileSync(process.execPath, ['--require', hide, script], { cwd: dir, env: childEnv(), encoding: 'utf8' })
  const report = JSON.parse(out.trim().split('\n').pop() as string) as { lookups: number, body: { id: string, propagation: Record<string, string> }, lines: JsonRecord[] }
  t.equal(report.lookups, 1, 'the plugin looked for @opentelemetry/api once, and went on without it')
  t.equal(report.lines.length, 2)
  t.ok(report.lines.every((line) => line.trace_id === TRACE_ID && line.parent_span_id === PARENT_ID), 'the incoming traceparent is on the lines')
  t.match(report.body.propagation.traceparent, new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`))
})
