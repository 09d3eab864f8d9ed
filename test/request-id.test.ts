import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { buildApp, linesOf, readJsonLines } from './helpers/app'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

t.test('each request gets a UUID v4 that handlers see as request.id', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/id', async (request) => ({ id: request.id }))
  const first = await app.inject('/id')
  const second = await app.inject('/id')
  const id = first.json().id as string
  t.match(id, UUID_V4)
  t.equal(first.headers['x-request-id'], id, 'the response header carries the same id')
  t.not(second.json().id, id, 'ids are unique')
  const lines = await linesOf(app, logDir, id)
  t.equal(lines.length, 2, 'both lines of the request carry its id')
})

t.test('a well-formed incoming X-Request-ID is kept', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/id', async (request) => ({ id: request.id }))
  for (const incoming of ['abc-123', 'a.b:c_d-e', 'x'.repeat(128), '550e8400-e29b-41d4-a716-446655440000']) {
    const res = await app.inject({ url: '/id', headers: { 'x-request-id': incoming } })
    t.equal(res.json().id, incoming)
    t.equal(res.headers['x-request-id'], incoming)
    const [start] = await linesOf(app, logDir, incoming)
    t.notOk('rejected_request_id' in start, 'nothing is reported as rejected')
  }
})

t.test('a malformed incoming id is replaced and reported, escaped and cut', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/id', async (request) => ({ id: request.id }))
  const cases: Array<[string, string]> = [
    ['x'.repeat(129), 'x'.repeat(128)],
    ['has space', 'has space'],
    ['semi;colon', 'semi;colon'],
    ['quote"and<tag>', 'quote"and<tag>'],
    ['tab\there', 'tab\there'],
    ['y'.repeat(15000), 'y'.repeat(128)]
  ]
  for (const [incoming, reported] of cases) {
    const res = await app.inject({ url: '/id', headers: { 'x-request-id': incoming } })
    const id = res.json().id as string
    t.match(id, UUID_V4, `replaced: ${incoming.slice(0, 20)}`)
    t.equal(res.headers['x-request-id'], id)
    const [start, end] = await linesOf(app, logDir, id)
    t.equal(start.message, 'API Request: GET /id')
    t.equal(start.rejected_request_id, reported)
    t.notOk('rejected_request_id' in end, 'reported once, on the first line')
  }
})

t.test('the rejected id goes on the completion line when start lines are off', async (t) => {
  const { app, logDir } = await buildApp(t, { logRequestStart: false })
  app.get('/id', async (request) => ({ id: request.id }))
  const res = await app.inject({ url: '/id', headers: { 'x-request-id': 'bad id' } })
  const lines = await linesOf(app, logDir, res.json().id)
  t.equal(lines.length, 1)
  t.equal(lines[0].rejected_request_id, 'bad id')
})

t.test('every response carries the id: 2xx, 404, 400 bad JSON, 500, thrown 4xx, excluded paths', async (t) => {
  const { app } = await buildApp(t)
  app.get('/ok', async () => ({ ok: true }))
  app.get('/boom', async () => { throw new Error('boom') })
  app.get('/teapot', async (_request, reply) => reply.code(418).send({ short: 'stout' }))
  app.post('/json', async (request) => request.body)
  app.get('/health', async () => ({ up: true }))
  const responses = await Promise.all([
    app.inject('/ok'),
    app.inject('/missing'),
    app.inject({ method: 'POST', url: '/json', payload: '{bad', headers: { 'content-type': 'application/json' } }),
    app.inject({ method: 'POST', url: '/json', payload: 'x', headers: { 'content-type': 'application/x-unknown' } }),
    app.inject('/boom'),
    app.inject('/teapot'),
    app.inject('/health')
  ])
  t.same(responses.map((r) => r.statusCode), [200, 404, 400, 415, 500, 418, 200])
  for (const res of responses) t.match(res.headers['x-request-id'], UUID_V4, `status ${res.statusCode}`)
})

t.test('the configured header name is read and echoed', async (t) => {
  const { app } = await buildApp(t, { requestIdHeader: 'X-Correlation-ID' })
  app.get('/id', async (request) => ({ id: request.id }))
  const res = await app.inject({ url: '/id', headers: { 'x-correlation-id': 'corr-1', 'x-request-id': 'ignored' } })
  t.equal(res.json().id, 'corr-1')
  t.equal(res.headers['x-correlation-id'], 'corr-1')
  t.notOk(res.headers['x-request-id'])
})

t.test('ids from Fastify\'s own requestIdHeader option are still validated', async (t) => {
  const { app, logDir } = await buildApp(t, {}, { requestIdHeader: 'x-request-id' })
  app.get('/id', async (request) => ({ id: request.id }))
  const res = await app.inject({ url: '/id', headers: { 'x-request-id': 'evil id\twith tab' } })
  const id = res.json().id as string
  t.match(id, UUID_V4)
  const [start] = await linesOf(app, logDir, id)
  t.equal(start.rejected_request_id, 'evil id\twith tab')
  const warning = readJsonLines(logDir).find((r) => r.message.startsWith("Fastify's requestIdHeader option is set"))
  t.ok(warning, 'registration warns that Fastify reads the header itself')
})

function rawRequest (port: number, head: string): Promise<{ status: number, headers: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ port, path: '/id', method: 'GET', headers: {} })
    req.on('error', reject)
    req.on('response', (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string> }))
    })
    // Duplicate headers cannot be expressed through an object; write them raw.
    for (const line of head.split('\n')) {
      const [name, value] = line.split(': ')
      req.appendHeader(name, value)
    }
    req.end()
  })
}

t.test('duplicated X-Request-ID headers over a real socket are joined by Node and rejected', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/id', async (request) => ({ id: request.id }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  const res = await rawRequest(port, 'X-Request-ID: first\nX-Request-ID: second')
  t.equal(res.status, 200)
  const id = res.headers['x-request-id']
  t.match(id, UUID_V4)
  const [start] = await linesOf(app, logDir, id)
  t.equal(start.rejected_request_id, 'first, second')
})
