import t from 'tap'
import Fastify from 'fastify'
import cors from '@fastify/cors'
import apiLogging from '../dist/index.js'
import { buildApp, tempDir } from './helpers/app'

// Front-end code reads a cross-origin response's headers only when Access-Control-Expose-Headers
// lists them: the request-id header is listed, next to whatever @fastify/cors exposes.

const ORIGIN = 'https://app.example.com'
const EXPOSED = ['X-Total-Count', 'X-Page']

function names (value: unknown): string[] {
  return String(value ?? '').split(',').map((item) => item.trim().toLowerCase()).filter((item) => item !== '')
}

for (const order of ['before', 'after'] as const) {
  t.test(`@fastify/cors registered ${order} the plugin: both lists, each name once`, async (t) => {
    const app = Fastify()
    t.teardown(() => app.close())
    const logging = { envFile: false as const, enableConsoleLogging: false, logDir: tempDir(t) }
    if (order === 'before') await app.register(cors, { origin: ORIGIN, exposedHeaders: EXPOSED })
    await app.register(apiLogging, logging)
    if (order === 'after') await app.register(cors, { origin: ORIGIN, exposedHeaders: EXPOSED })
    app.get('/items', async (_request, reply) => {
      reply.header('x-total-count', '2')
      return [1, 2]
    })
    app.get('/fails', async () => { throw new Error('down') })

    for (const url of ['/items', '/fails', '/missing']) {
      const res = await app.inject({ url, headers: { origin: ORIGIN } })
      t.equal(res.headers['access-control-allow-origin'], ORIGIN, `${url}: a CORS response`)
      t.same(names(res.headers['access-control-expose-headers']).sort(), ['x-page', 'x-request-id', 'x-total-count'], `${url}: cors's names and ours`)
    }
    // A preflight's headers are read by the browser, not by scripts: nothing to expose there.
    const preflight = await app.inject({ method: 'OPTIONS', url: '/items', headers: { origin: ORIGIN, 'access-control-request-method': 'GET' } })
    t.equal(preflight.statusCode, 204)
  })
}

t.test('a name that cors already exposes, in any case, is not repeated', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(cors, { origin: '*', exposedHeaders: 'X-Request-ID,ETag' })
  await app.register(apiLogging, { envFile: false, enableConsoleLogging: false, logDir: tempDir(t) })
  app.get('/', async () => 'ok')
  const res = await app.inject({ url: '/', headers: { origin: ORIGIN } })
  t.equal(res.headers['access-control-expose-headers'], 'X-Request-ID,ETag', 'kept as cors wrote it')
})

t.test('without @fastify/cors: listed on requests with an Origin, with the configured header name', async (t) => {
  const { app } = await buildApp(t, { requestIdHeader: 'X-Correlation-ID' })
  app.get('/', async (_request, reply) => {
    reply.header('Access-Control-Expose-Headers', ['ETag', 'X-Version'])
    return 'ok'
  })
  app.get('/plain', async () => 'ok')
  const res = await app.inject({ url: '/', headers: { origin: ORIGIN } })
  t.equal(res.headers['access-control-expose-headers'], 'ETag, X-Version, X-Correlation-ID', 'the application\'s values kept, ours added')
  const plain = await app.inject({ url: '/plain', headers: { origin: ORIGIN } })
  t.equal(plain.headers['access-control-expose-headers'], 'X-Correlation-ID')
  const sameOrigin = await app.inject({ url: '/plain' })
  t.equal(sameOrigin.headers['access-control-expose-headers'], undefined, 'no Origin: a same-origin script reads every header anyway')
  t.ok(sameOrigin.headers['x-correlation-id'])
})

t.test('over a real socket, as a browser sees it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(apiLogging, { envFile: false, enableConsoleLogging: false, logDir: tempDir(t) })
  await app.register(cors, { origin: ORIGIN, exposedHeaders: ['X-Total-Count'] })
  app.get('/items', async () => [])
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const res = await fetch(`${address}/items`, { headers: { origin: ORIGIN } })
  t.equal(res.status, 200)
  t.equal(res.headers.get('access-control-expose-headers'), 'X-Total-Count, x-request-id')
  t.match(res.headers.get('x-request-id'), /^[0-9a-f-]{36}$/)
})
