import t, { type Test } from 'tap'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import { Agent, request as undiciRequest, type Dispatcher } from 'undici'
// The dispatcher types of Node's own fetch (undici-types, from @types/node): another undici version's.
import type { Dispatcher as FetchDispatcher } from 'undici-types'
import apiLogging, { createPropagatingDispatcher } from '../dist/index.js'
import { readJsonLines, tempDir, type JsonRecord } from './helpers/app'

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT_ID = '00f067aa0ba902b7'
const INCOMING = `00-${TRACE_ID}-${PARENT_ID}-01`
const OUTGOING = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/

interface Seen {
  requestId: string | null
  traceparent: string | null
  tracestate: string | null
  own: string | null
}

async function listening (t: Test, app: FastifyInstance): Promise<string> {
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

// Service B: logs to its own folder and answers with the headers it was called with.
async function serviceB (t: Test): Promise<{ url: string, logDir: string, app: FastifyInstance }> {
  const logDir = tempDir(t, 'service-b-')
  const app = Fastify()
  await app.register(apiLogging, { logDir, envFile: false, enableConsoleLogging: false })
  app.get('/b', async (request): Promise<Seen> => {
    request.log.info('B at work')
    const header = (name: string): string | null => (request.headers[name] as string | undefined) ?? null
    return { requestId: header('x-request-id'), traceparent: header('traceparent'), tracestate: header('tracestate'), own: header('x-own') }
  })
  return { url: await listening(t, app), logDir, app }
}

async function serviceA (t: Test, call: (url: string) => Promise<Seen>): Promise<{ url: string, logDir: string, app: FastifyInstance }> {
  const logDir = tempDir(t, 'service-a-')
  const app = Fastify()
  await app.register(apiLogging, { logDir, envFile: false, enableConsoleLogging: false })
  app.get('/a', async (request) => {
    request.log.info('A calls B')
    return call('/b')
  })
  return { url: await listening(t, app), logDir, app }
}

function completionOf (lines: JsonRecord[], requestId: string): JsonRecord {
  return lines.find((line) => line.request_id === requestId && line.message.startsWith('API Response')) as JsonRecord
}

t.test('A calls B with fetch and the propagating dispatcher: one request id, one trace, B\'s parent is A\'s outgoing span', async (t) => {
  const b = await serviceB(t)
  const dispatcher = createPropagatingDispatcher()
  const a = await serviceA(t, async (path) => (await fetch(b.url + path, { dispatcher } as RequestInit)).json() as Promise<Seen>)
  // The client's call is made outside any request: the dispatcher adds nothing to it.
  const res = await fetch(a.url + '/a', { headers: { traceparent: INCOMING, tracestate: 'congo=t61rcWkgMzE' }, dispatcher } as RequestInit)
  const seen = await res.json() as Seen
  const requestId = res.headers.get('x-request-id') as string
  await a.app.apiLogging.flush()
  await b.app.apiLogging.flush()
  const linesA = readJsonLines(a.logDir).filter((line) => line.request_id === requestId)
  const linesB = readJsonLines(b.logDir).filter((line) => line.request_id === requestId)
  t.equal(seen.requestId, requestId, 'B was called with A\'s request id')
  t.equal(linesA.length, 3, 'A: start, its own line, completion')
  t.equal(linesB.length, 3, 'B: start, its own line, completion, under the same request id')
  const [, traceId, outgoingSpan] = OUTGOING.exec(seen.traceparent ?? '') ?? []
  t.equal(traceId, TRACE_ID, 'B was called in the same trace')
  t.equal(seen.tracestate, null, 'tracestate is not passed on')
  const spanA = linesA[0].span_id
  t.ok(linesA.every((line) => line.trace_id === TRACE_ID && line.span_id === spanA), 'A\'s lines: the trace, A\'s span')
  t.ok(linesB.every((line) => line.trace_id === TRACE_ID && line.span_id === linesB[0].span_id), 'B\'s lines: the trace, B\'s span')
  t.equal(completionOf(linesA, requestId).parent_span_id, PARENT_ID, 'A\'s parent is the client\'s span')
  t.equal(completionOf(linesB, requestId).parent_span_id, outgoingSpan, 'B\'s parent is A\'s outgoing span')
  t.not(outgoingSpan, spanA, 'the outgoing call is a span of its own')
  t.not(linesB[0].span_id, outgoingSpan, 'and B\'s request another')

  const plain = await fetch(a.url + '/a')
  const plainSeen = await plain.json() as Seen
  t.equal(plainSeen.requestId, plain.headers.get('x-request-id'), 'without a trace, the request id still goes on')
  t.equal(plainSeen.traceparent, null, 'and no traceparent is made up')
})

t.test('headers the caller set are kept; the dispatcher composes with other interceptors', async (t) => {
  const b = await serviceB(t)
  const addOwn: FetchDispatcher.DispatcherComposeInterceptor = (dispatch) => (options, handler) =>
    dispatch({ ...options, headers: { ...(options.headers as Record<string, string>), 'x-own': 'from an interceptor' } }, handler)
  const composed = createPropagatingDispatcher().compose(addOwn)
  const a = await serviceA(t, async (path) => {
    const explicit = await fetch(b.url + path, { dispatcher: composed, headers: { 'X-Request-ID': 'explicit-id', traceparent: INCOMING } } as RequestInit)
    return explicit.json() as Promise<Seen>
  })
  const seen = await (await fetch(a.url + '/a')).json() as Seen
  t.same(seen, { requestId: 'explicit-id', traceparent: INCOMING, tracestate: null, own: 'from an interceptor' }, 'nothing the caller set is replaced')
})

t.test('undici\'s own request() and Agent (also under Node\'s fetch): every form of headers', async (t) => {
  const b = await serviceB(t)
  const agent = new Agent()
  t.teardown(() => agent.close())
  const overAgent = createPropagatingDispatcher(agent)
  // Node's fetch dispatcher, typed by @types/node's undici-types; at run time undici's request() takes it too.
  const overGlobal = createPropagatingDispatcher() as unknown as Dispatcher
  const a = await serviceA(t, async (path) => {
    const forms: Array<[Dispatcher, Dispatcher.RequestOptions['headers']]> = [
      [overAgent, undefined],
      [overAgent, ['x-own', 'flat array']],
      [overAgent, { 'x-own': 'object' }],
      [overGlobal, { 'x-own': 'global dispatcher' }],
      [overAgent, ['traceparent', INCOMING]],
      [overAgent, new Map([['x-own', 'iterable']])]
    ]
    const answers: Seen[] = []
    for (const [dispatcher, headers] of forms) {
      const { body } = await undiciRequest(b.url + path, { dispatcher, headers })
      answers.push(await body.json() as Seen)
    }
    // Node's own fetch over the npm package's Agent: two undici versions, one call.
    answers.push(await (await fetch(b.url + path, { dispatcher: overAgent } as RequestInit)).json() as Seen)
    return answers as unknown as Seen
  })
  const res = await fetch(a.url + '/a', { headers: { traceparent: INCOMING } })
  const answers = await res.json() as Seen[]
  const requestId = res.headers.get('x-request-id')
  t.same(answers.map((seen) => seen.own), [null, 'flat array', 'object', 'global dispatcher', null, 'iterable', null])
  const propagated = [...answers.slice(0, 4), ...answers.slice(5)]
  for (const seen of propagated) {
    t.equal(seen.requestId, requestId)
    t.equal(OUTGOING.exec(seen.traceparent ?? '')?.[1], TRACE_ID)
  }
  t.equal(answers[4].traceparent, INCOMING, 'a traceparent in a flat array is kept')
  const spans = new Set(propagated.map((seen) => seen.traceparent))
  t.equal(spans.size, 6, 'each call a new span')
})

t.test('createPropagatingDispatcher refuses what is not a dispatcher', async (t) => {
  t.throws(() => createPropagatingDispatcher({} as Dispatcher), { name: 'TypeError', message: /must be an undici Dispatcher/ })
})
