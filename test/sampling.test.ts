import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildApp, readJsonLines, type JsonRecord } from './helpers/app'

const SUCCESSES = 10000
const OTHERS = 200

// What each kind of request writes when it is logged: all of it, or (for successes) nothing.
const EXPECTED: Record<string, string[]> = {
  ok: ['API Request: GET /ok', 'working', 'API Response: GET /ok - 200'],
  redirect: ['API Request: GET /moved', 'moving', 'API Response: GET /moved - 302'],
  missing: ['API Request: GET /missing', 'looking', 'API Error: GET /missing - 404'],
  boom: ['API Request: GET /boom', 'about to fail', 'API Error: GET /boom - 500'],
  slow: ['API Request: GET /slow', 'taking time', 'Slow API Request: GET /slow', 'API Response: GET /slow - 200'],
  warns: ['API Request: GET /warns', 'debug detail', 'odd input', 'API Response: GET /warns - 200']
}

function routes (app: FastifyInstance): void {
  app.get('/ok', async (request) => { request.log.info('working'); return 'ok' })
  app.get('/moved', async (request, reply) => { request.log.info('moving'); return reply.redirect('/ok') })
  app.get('/missing', async (request, reply) => { request.log.info('looking'); return reply.code(404).send({ missing: true }) })
  app.get('/boom', async (request) => { request.log.info('about to fail'); throw new Error('boom') })
  app.get('/slow', { config: { apiLogging: { slowRequestThresholdMs: 1 } } }, async (request) => {
    request.log.info('taking time')
    await sleep(10)
    return 'slow'
  })
  app.get('/warns', async (request) => { request.log.info('debug detail'); request.log.warn('odd input'); return 'w' })
}

async function send (app: FastifyInstance, url: string, count: number, kinds: Map<string, string>, kind: string): Promise<void> {
  for (let done = 0; done < count; done += 100) {
    const batch = Math.min(100, count - done)
    const replies = await Promise.all(Array.from({ length: batch }, () => app.inject(url)))
    for (const reply of replies) kinds.set(reply.headers['x-request-id'] as string, kind)
  }
}

function byRequest (lines: JsonRecord[]): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const line of lines) {
    if (line.request_id === null) continue
    let messages = out.get(line.request_id)
    if (messages === undefined) out.set(line.request_id, messages = [])
    messages.push(line.message)
  }
  return out
}

function complete (kind: string, messages: string[]): boolean {
  const expected = EXPECTED[kind]
  return messages.length === expected.length && expected.every((start, i) => messages[i].startsWith(start))
}

for (const rate of [0, 0.1, 1]) {
  t.test(`LOG_SAMPLE_RATE=${rate} over ${SUCCESSES} successful requests`, async (t) => {
    const { app, logDir } = await buildApp(t, { sampleRate: rate, logRequestBody: false })
    routes(app)
    const kinds = new Map<string, string>()
    await send(app, '/ok', SUCCESSES, kinds, 'ok')
    await send(app, '/moved', OTHERS, kinds, 'redirect')
    for (const kind of ['missing', 'boom', 'slow', 'warns']) await send(app, `/${kind}`, OTHERS, kinds, kind)
    await app.apiLogging.flush()
    const logged = byRequest(readJsonLines(logDir))

    const partial = [...logged].filter(([id, messages]) => !complete(kinds.get(id) ?? '?', messages))
    t.same(partial, [], 'no partial request: every request in the logs has all its lines')
    const keptOf = (kind: string): number => [...kinds].filter(([id, k]) => k === kind && logged.has(id)).length
    const successes = keptOf('ok') + keptOf('redirect')
    const observed = successes / (SUCCESSES + OTHERS)
    t.ok(Math.abs(observed - rate) <= 0.02, `observed rate ${observed} within 0.02 of ${rate}`)
    if (rate === 0) t.equal(successes, 0, 'no success at all at 0')
    if (rate === 1) t.equal(successes, SUCCESSES + OTHERS, 'every success at 1')
    for (const kind of ['missing', 'boom', 'slow', 'warns']) t.equal(keptOf(kind), OTHERS, `every ${kind} request is kept`)
    t.equal(app.apiLogging.stats().sampledOut, SUCCESSES + OTHERS - successes, 'stats() counts the requests left out')
  })
}

t.test('the decision follows the request id: the same incoming id gets the same fate everywhere', async (t) => {
  const first = await buildApp(t, { sampleRate: 0.5 })
  const second = await buildApp(t, { sampleRate: 0.5 })
  for (const { app } of [first, second]) routes(app)
  const ids = Array.from({ length: 400 }, (_, i) => `order-${i}`)
  for (const id of ids) {
    await first.app.inject({ url: '/ok', headers: { 'x-request-id': id } })
    await second.app.inject({ url: '/ok', headers: { 'x-request-id': id } })
  }
  await first.app.apiLogging.flush()
  await second.app.apiLogging.flush()
  const a = byRequest(readJsonLines(first.logDir))
  const b = byRequest(readJsonLines(second.logDir))
  t.same(ids.filter((id) => a.has(id)), ids.filter((id) => b.has(id)), 'the same ids kept by both')
  t.ok(a.size > 120 && a.size < 280, `about half kept (${a.size} of 400)`)
})

t.test('a route\'s sampleRate overrides LOG_SAMPLE_RATE', async (t) => {
  const { app, logDir } = await buildApp(t, { sampleRate: 1 })
  app.get('/poll', { config: { apiLogging: { sampleRate: 0 } } }, async () => 'p')
  app.get('/poll-fails', { config: { apiLogging: { sampleRate: 0 } } }, async (_request, reply) => reply.code(503).send('down'))
  const other = await buildApp(t, { sampleRate: 0 })
  other.app.get('/audit', { config: { apiLogging: { sampleRate: 1 } } }, async () => 'a')
  for (let i = 0; i < 50; i++) {
    await app.inject('/poll')
    await app.inject('/poll-fails')
    await other.app.inject('/audit')
  }
  await app.apiLogging.flush()
  await other.app.apiLogging.flush()
  const lines = readJsonLines(app.apiLogging.config.logDir).filter((line) => line.request_id !== null)
  t.equal(lines.filter((line) => line.path === '/poll').length, 0, 'the polling route leaves nothing')
  t.equal(lines.filter((line) => line.path === '/poll-fails').length, 100, 'its failures are kept, both lines each')
  t.equal(app.apiLogging.stats().sampledOut, 50)
  t.equal(readJsonLines(other.logDir).filter((line) => line.path === '/audit').length, 100, 'the audit route keeps every request')
  t.equal(logDir, app.apiLogging.config.logDir)
})

t.test('a sampled-out request that logs a lot is kept whole rather than held without bound', async (t) => {
  const { app, logDir } = await buildApp(t, { sampleRate: 0 })
  app.get('/chatty', async (request) => {
    for (let i = 0; i < 300; i++) request.log.info(`step ${i}`)
    return 'c'
  })
  app.get('/quiet', async (request) => { request.log.info('one step'); return 'q' })
  const chatty = (await app.inject('/chatty')).headers['x-request-id'] as string
  const quiet = (await app.inject('/quiet')).headers['x-request-id'] as string
  await app.apiLogging.flush()
  const logged = byRequest(readJsonLines(logDir))
  t.equal(logged.get(chatty)?.length, 302, 'arrival, 300 steps and completion, in order')
  t.equal(logged.get(chatty)?.[1], 'step 0')
  t.notOk(logged.has(quiet))
  t.equal(app.apiLogging.stats().sampledOut, 1)
})
