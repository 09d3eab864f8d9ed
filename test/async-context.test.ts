import { EventEmitter, once } from 'node:events'
import { readFile } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { Readable, Transform, pipeline } from 'node:stream'
import { promisify } from 'node:util'
import { randomBytes } from 'node:crypto'
import { gzip } from 'node:zlib'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { getLogger, getRequestId } from '../dist/index.js'
import { buildApp, linesOf, readJsonLines } from './helpers/app'

// Which request a line belongs to is found through AsyncLocalStorage, whose implementation
// differs between Node lines (async_hooks up to 22, AsyncContextFrame from 24). Every way a
// handler's work can continue is checked here on real sockets, and the test suite runs on every
// line (.ci/run), so a difference shows as a failure on that line.

const outsideEmitter = new EventEmitter()

async function listen (app: Awaited<ReturnType<typeof buildApp>>['app']): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return `http://127.0.0.1:${address.port}`
}

t.test(`every continuation of a handler sees its request id (Node ${process.versions.node})`, async (t) => {
  const { app, logDir } = await buildApp(t)
  const seen: Record<string, string | undefined> = {}
  const log = getLogger('ctx')
  app.post('/work', async (request, reply) => {
    const mark = (name: string): void => {
      seen[name] = getRequestId()
      log.info({ via: name }, 'continued')
    }
    mark('handler')
    await sleep(1)
    mark('await')
    await new Promise<void>((resolve) => setTimeout(() => { mark('setTimeout'); resolve() }, 1))
    await new Promise<void>((resolve) => setImmediate(() => { mark('setImmediate'); resolve() }))
    await new Promise<void>((resolve) => process.nextTick(() => { mark('nextTick'); resolve() }))
    await new Promise<void>((resolve) => queueMicrotask(() => { mark('queueMicrotask'); resolve() }))
    await Promise.resolve().then(() => mark('then'))
    const inside = new EventEmitter()
    inside.on('go', () => mark('emitter created inside'))
    inside.emit('go')
    outsideEmitter.once('go', () => mark('emitter created outside, emitted inside'))
    outsideEmitter.emit('go')
    await new Promise<void>((resolve) => readFile(__filename, () => { mark('fs callback'); resolve() }))
    await new Promise<void>((resolve) => randomBytes(8, () => { mark('crypto callback'); resolve() }))
    await promisify(gzip)('x'.repeat(1000)).then(() => mark('zlib'))
    await new Promise<void>((resolve, reject) => {
      pipeline(Readable.from(['a', 'b']), new Transform({
        transform (chunk, _encoding, done) {
          mark('stream transform')
          done(null, chunk)
        }
      }), async function * (source) {
        for await (const chunk of source) yield chunk
        mark('stream pipeline end')
      }, (err) => err ? reject(err) : resolve())
    })
    reply.raw.once('finish', () => mark('response finish listener'))
    return { id: request.id }
  })
  app.addHook('onResponse', async () => { seen.onResponse = getRequestId() })

  const base = await listen(app)
  const res = await fetch(`${base}/work`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 1 }) })
  const { id } = await res.json() as { id: string }
  await sleep(20)
  const expected = ['handler', 'await', 'setTimeout', 'setImmediate', 'nextTick', 'queueMicrotask', 'then', 'emitter created inside',
    'emitter created outside, emitted inside', 'fs callback', 'crypto callback', 'zlib', 'stream transform', 'stream pipeline end',
    'response finish listener', 'onResponse']
  for (const name of expected) t.equal(seen[name], id, `${name}: the request's id`)
  const lines = await linesOf(app, logDir, id)
  const vias = lines.filter((line) => line.logger === 'ctx').map((line) => line.via)
  t.same([...new Set(vias)].sort(), expected.filter((name) => name !== 'onResponse').sort(), 'every getLogger line carries it too')
})

t.test('body parsing: a custom content-type parser and the handler after it', async (t) => {
  const { app } = await buildApp(t)
  const seen: Record<string, string | undefined> = {}
  app.addContentTypeParser('text/csv', (request, payload, done) => {
    seen.parserStart = getRequestId()
    let text = ''
    payload.on('data', (chunk: Buffer) => { text += chunk.toString() })
    payload.on('end', () => {
      seen.parserEnd = getRequestId()
      done(null, text.split(','))
    })
  })
  app.post('/csv', async (request) => {
    seen.handler = getRequestId()
    await sleep(1)
    seen.afterAwait = getRequestId()
    return { id: request.id, cells: request.body }
  })
  const base = await listen(app)
  // Two chunks, so the body ends in a later turn than the headers.
  const body = await new Promise<{ id: string, cells: string[] }>((resolve, reject) => {
    const req = httpRequest(`${base}/csv`, { method: 'POST', headers: { 'content-type': 'text/csv' } }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (chunk: string) => { text += chunk }).on('end', () => resolve(JSON.parse(text)))
    })
    req.on('error', reject)
    req.write('a,b')
    setTimeout(() => req.end(',c'), 20)
  })
  t.same(body.cells, ['a', 'b', 'c'])
  t.equal(seen.parserStart, body.id, 'the parser starts inside the request')
  t.equal(seen.handler, body.id, 'the handler after streamed body parsing')
  t.equal(seen.afterAwait, body.id)
})

t.test('errors: onError, the error handler and the completion line', async (t) => {
  const { app, logDir } = await buildApp(t)
  const seen: Record<string, string | undefined> = {}
  app.addHook('onError', async () => { seen.onError = getRequestId() })
  app.setErrorHandler(async (error, request, reply) => {
    seen.errorHandler = getRequestId()
    getLogger('errors').error({ err: error }, 'handled')
    return reply.code(500).send({ id: request.id })
  })
  app.get('/fail', async () => {
    await sleep(1)
    throw new Error('boom')
  })
  const base = await listen(app)
  const res = await fetch(`${base}/fail`)
  const { id } = await res.json() as { id: string }
  t.equal(res.status, 500)
  t.equal(seen.onError, id)
  t.equal(seen.errorHandler, id)
  const lines = await linesOf(app, logDir, id)
  t.ok(lines.some((line) => line.logger === 'errors' && line.message === 'handled'), 'the error handler\'s line has the id')
  t.ok(lines.some((line) => line.message === 'API Error: GET /fail - 500'), 'and so does the completion line')
})

t.test('a client that leaves: the handler goes on in its request\'s context', async (t) => {
  const { app, logDir } = await buildApp(t)
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  let idAfter: string | undefined
  let requestId: string | undefined
  let arrived: () => void = () => {}
  const hasArrived = new Promise<void>((resolve) => { arrived = resolve })
  app.get('/slow', async (request) => {
    requestId = request.id
    arrived()
    await released
    idAfter = getRequestId()
    getLogger('late').info('after the client left')
    return 'late'
  })
  const base = await listen(app)
  const controller = new AbortController()
  const pending = fetch(`${base}/slow`, { signal: controller.signal }).catch((err: Error) => err)
  await hasArrived
  controller.abort()
  await pending
  await sleep(50)
  release()
  await sleep(50)
  t.equal(idAfter, requestId, 'the id survives the abort')
  await app.apiLogging.flush()
  const lines = readJsonLines(logDir).filter((line) => line.request_id === requestId)
  t.ok(lines.some((line) => line.message === 'after the client left'))
  t.ok(lines.some((line) => line.aborted === true), 'the completion line says aborted')
})

t.test('concurrent requests on real sockets never mix their ids', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/n/:n', async (request) => {
    const n = Number((request.params as { n: string }).n)
    await sleep(n % 7)
    getLogger('mix').info({ n }, 'step')
    await new Promise((resolve) => setImmediate(resolve))
    return { id: getRequestId(), own: request.id }
  })
  const base = await listen(app)
  const answers = await Promise.all(Array.from({ length: 60 }, (_, n) => fetch(`${base}/n/${n}`).then((res) => res.json() as Promise<{ id: string, own: string }>)))
  t.ok(answers.every((answer) => answer.id === answer.own), 'each handler sees its own id')
  await app.apiLogging.flush()
  const steps = readJsonLines(logDir).filter((line) => line.logger === 'mix')
  t.equal(steps.length, 60)
  const byId = new Map(answers.map((answer, n) => [answer.own, n]))
  t.ok(steps.every((line) => byId.get(line.request_id as string) === line.n), 'each line has the id of the request that logged it')
})

t.test('outside any request there is no id, even right after one', async (t) => {
  const { app } = await buildApp(t)
  app.get('/x', async () => 'ok')
  const base = await listen(app)
  await fetch(`${base}/x`)
  t.equal(getRequestId(), undefined)
  const timer = once(outsideEmitter, 'later')
  setTimeout(() => outsideEmitter.emit('later', getRequestId()), 1)
  const [id] = await timer
  t.equal(id, undefined)
})
