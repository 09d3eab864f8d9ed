import t, { type Test } from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { connect, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import { getLogger } from '../dist/index.js'
import { buildApp, type JsonRecord } from './helpers/app'

// Oversized input: every request still succeeds, every line stays within maxRecordBytes (plus a
// small margin for the record's own keys), cut fields say so, and size is no way around redaction.

const MAX_RECORD = 16384
const MARGIN = 1024
const LIMIT = MAX_RECORD + MARGIN
const TRUNCATED = /…\[truncated \d+ (bytes|chars)\]$/
const SECRET = 'floodsecret0x7q3k9w'
const SECRET_DIGITS = '734019285561203'

interface Lines {
  json: string[]
  text: string[]
}

function readLines (logDir: string): Lines {
  const json: string[] = []
  const text: string[] = []
  for (const name of readdirSync(logDir)) {
    const lines = readFileSync(join(logDir, name), 'utf8').split('\n').filter((line) => line !== '')
    if (name.startsWith('api_structured.jsonl')) json.push(...lines)
    else if (name.startsWith('api.log')) text.push(...lines)
  }
  return { json, text }
}

/** The JSON and text lines of one request, after flushing; how long until they were on disk. */
async function linesFor (app: FastifyInstance, logDir: string, id: string): Promise<{ json: string[], text: string[], records: JsonRecord[] }> {
  await app.apiLogging.flush()
  const all = readLines(logDir)
  const json = all.json.filter((line) => (JSON.parse(line) as JsonRecord).request_id === id)
  const text = all.text.filter((line) => line.includes(` request_id=${id} `) || line.endsWith(` request_id=${id}`))
  return { json, text, records: json.map((line) => JSON.parse(line) as JsonRecord) }
}

function assertWithinCap (t: Test, what: string, lines: { json: string[], text: string[] }): void {
  t.ok(lines.json.length > 0 && lines.text.length > 0, `${what}: logged (${lines.json.length} JSON, ${lines.text.length} text lines)`)
  for (const line of lines.json) t.ok(Buffer.byteLength(line) <= LIMIT, `${what}: JSON line of ${Buffer.byteLength(line)} bytes is within ${MAX_RECORD} + ${MARGIN}`)
  for (const line of lines.text) t.ok(Buffer.byteLength(line) <= LIMIT, `${what}: api.log line of ${Buffer.byteLength(line)} bytes is within ${MAX_RECORD} + ${MARGIN}`)
  const leaked: string[] = []
  for (const line of [...lines.json, ...lines.text]) {
    for (const secret of [SECRET, SECRET_DIGITS]) {
      const at = line.indexOf(secret)
      if (at !== -1) leaked.push(line.slice(Math.max(0, at - 100), at + secret.length + 20))
    }
  }
  t.same(leaked, [], `${what}: the secrets under sensitive keys are not logged`)
}

function completion (records: JsonRecord[]): JsonRecord | undefined {
  return records.find((record) => typeof record.status_code === 'number')
}

async function floodApp (t: Test): Promise<{ app: FastifyInstance, logDir: string }> {
  const built = await buildApp(t, { logHeaders: true, logResponseBody: true, slowRequestThresholdMs: 0 }, { bodyLimit: 16 * 1024 * 1024 })
  const { app } = built
  app.post('/flood', async (request) => ({ ok: true, type: Array.isArray(request.body) ? 'array' : typeof request.body }))
  app.get('/flood', async () => ({ ok: true }))
  return built
}

/** Runs `run` (a request and the wait for its lines on disk) and reports how long it took; never asserted. */
async function timed<T> (t: Test, what: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now()
  const result = await run()
  t.comment(`flood timing: ${what}: ${Math.round(performance.now() - started)} ms from inject to lines on disk`)
  return result
}

t.test('a 5 MB JSON body, 100,000 keys and 10,000 levels of nesting: each line within the record cap', async (t) => {
  const { app, logDir } = await floodApp(t)
  const items = []
  for (let i = 0; items.length < 40_000; i++) items.push({ id: i, name: `item-${i}`, note: 'x'.repeat(90) })
  const big = JSON.stringify({ password: SECRET, user: { ssn: Number(SECRET_DIGITS), session: { value: SECRET } }, items, blob: 'b'.repeat(1_000_000) })
  t.ok(big.length > 5_000_000, `the body is ${(big.length / 1e6).toFixed(1)} MB`)

  const wide: string[] = [`"password":"${SECRET}"`, `"card":{"cvv":"${SECRET}"}`]
  for (let i = 0; i < 100_000; i++) wide.push(`"k${i}":${i}`)
  wide.push(`"api_key":"${SECRET}"`)
  const wideBody = `{${wide.join(',')}}`

  const depth = 10_000
  const deepObject = '{"a":'.repeat(depth) + `{"password":"${SECRET}"}` + '}'.repeat(depth)
  const deepArray = '['.repeat(depth) + `{"token":"${SECRET}"}` + ']'.repeat(depth)
  const deepMixed = `{"secret":${'{"a":['.repeat(depth / 2)}"${SECRET}"${']}'.repeat(depth / 2)}}`

  const cases: Array<{ name: string, payload: string, marker: RegExp }> = [
    { name: '5 MB JSON body', payload: big, marker: TRUNCATED },
    // Three UTF-8 bytes per character: a cut counted in characters would let the line triple.
    { name: '5 MB JSON body of 3-byte characters', payload: JSON.stringify({ password: SECRET, text: '界'.repeat(1_700_000) }), marker: TRUNCATED },
    { name: '100,000 keys', payload: wideBody, marker: TRUNCATED },
    { name: `${depth} nested objects`, payload: deepObject, marker: /\[Max depth\]/ },
    { name: `${depth} nested arrays`, payload: deepArray, marker: /\[Max depth\]/ },
    { name: `${depth} nested objects and arrays under a sensitive key`, payload: deepMixed, marker: /^\{"secret":"\[REDACTED\]"\}$/ }
  ]
  for (const [i, flood] of cases.entries()) {
    const id = `flood-body-${i}`
    const { res, lines } = await timed(t, flood.name, async () => {
      const res = await app.inject({ method: 'POST', url: '/flood', headers: { 'content-type': 'application/json', 'x-request-id': id }, payload: flood.payload })
      return { res, lines: await linesFor(app, logDir, id) }
    })
    t.equal(res.statusCode, 200, `${flood.name}: the request succeeds (${res.body.slice(0, 200)})`)
    assertWithinCap(t, flood.name, lines)
    const end = completion(lines.records)
    const body = end?.request_body
    const shown = typeof body === 'string' ? body : JSON.stringify(body)
    t.match(shown, flood.marker, `${flood.name}: request_body shows the cut: ${String(shown).slice(-120)}`)
  }
  t.ok(await app.inject({ url: '/flood' }).then((res) => res.statusCode === 200), 'the app still answers')
})

t.test('15 KB user-agent and X-Request-ID headers', async (t) => {
  const { app, logDir } = await floodApp(t)
  const agent = `Mozilla/5.0 token=${SECRET} ` + 'u'.repeat(15 * 1024)
  const requestId = 'r'.repeat(15 * 1024) + ' ' + SECRET
  const { res, lines } = await timed(t, '15 KB headers (inject)', async () => {
    const res = await app.inject({ url: '/flood', headers: { 'user-agent': agent, 'x-request-id': requestId, 'x-padding': 'p'.repeat(15 * 1024) } })
    return { res, lines: await linesFor(app, logDir, res.headers['x-request-id'] as string) }
  })
  t.equal(res.statusCode, 200)
  t.not(res.headers['x-request-id'], requestId, 'the oversized id is replaced')
  assertWithinCap(t, '15 KB headers', lines)
  const start = lines.records.find((record) => record.function === 'onRequestLogger')
  const end = completion(lines.records)
  t.ok(String(end?.user_agent).length <= 256 + 40, `user_agent is cut: ${String(end?.user_agent).slice(-60)}`)
  t.match(end?.user_agent, TRUNCATED, 'user_agent says it was cut')
  t.equal(String(start?.rejected_request_id).length, 128, 'rejected_request_id is cut to 128')
  const headers = end?.request_headers as Record<string, string> | undefined
  t.match(headers?.['x-padding'], TRUNCATED, 'a logged header value says it was cut')

  // The same through a real socket (Node's default header limit is 16 KB in all).
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  const id = 'flood-socket'
  const response = await timed(t, '15 KB user-agent (socket)', () => new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(`GET /flood HTTP/1.1\r\nHost: x\r\nUser-Agent: ${agent}\r\nX-Request-ID: ${id}\r\nConnection: close\r\n\r\n`))
    let text = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => { text += chunk })
    socket.on('close', () => resolve(text))
    socket.on('error', reject)
  }))
  t.match(response, /^HTTP\/1\.1 200 /, 'the socket request succeeds')
  const socketLines = await linesFor(app, logDir, id)
  assertWithinCap(t, '15 KB user-agent over a socket', socketLines)
})

t.test('a 1 MB JSON response with logResponseBody', async (t) => {
  const { app, logDir } = await floodApp(t)
  const rows = []
  for (let i = 0; rows.length < 10_000; i++) rows.push({ id: i, label: `row-${i}`, text: 'r'.repeat(80) })
  const object = { account: { password: SECRET, ssn: Number(SECRET_DIGITS), session: { id: SECRET } }, rows }
  const serialized = JSON.stringify(object)
  t.ok(serialized.length > 1024 * 1024, `the response is ${(serialized.length / 1e6).toFixed(2)} MB`)
  app.get('/object', async () => object)
  // Pre-serialized JSON (a proxy, a cache, fast-json-stringify): the same data as a string.
  app.get('/string', async (_request, reply) => reply.type('application/json').send(serialized))
  for (const route of ['/object', '/string']) {
    const id = `flood-response${route.replace('/', '-')}`
    const { res, lines } = await timed(t, `1 MB response ${route}`, async () => {
      const res = await app.inject({ url: route, headers: { 'x-request-id': id } })
      return { res, lines: await linesFor(app, logDir, id) }
    })
    t.equal(res.statusCode, 200)
    t.equal(res.body.length, serialized.length, 'the client gets the whole body')
    assertWithinCap(t, `1 MB response ${route}`, lines)
    const body = completion(lines.records)?.response_body
    // A JSON string too large to parse back is only summarized (type and size): a text search could
    // not see secrets nested under sensitive keys in it.
    t.match(typeof body === 'string' ? body : JSON.stringify(body), route === '/string' ? /^\[application\/json, \d+ bytes\]$/ : TRUNCATED, `${route}: response_body says it was cut or summarized`)
  }
})

t.test('an application log call with a 1 MB message and a 1 MB field', async (t) => {
  const { app, logDir } = await floodApp(t)
  const variants: Array<{ name: string, unit: string }> = [
    { name: 'ASCII', unit: 'm' },
    // Three UTF-8 bytes per character: a cap counted in characters would let the line triple.
    { name: 'CJK (3 bytes per character)', unit: '界' },
    // JSON writes each as \u0001 (6 bytes) and api.log as \x01 (4 bytes).
    { name: 'control characters (escaped)', unit: '\u0001' },
    { name: 'quotes (escaped)', unit: '"' }
  ]
  app.get('/log/:n', async (request) => {
    const { unit } = variants[Number((request.params as { n: string }).n)]
    const mega = unit.repeat(1024 * 1024)
    request.log.info({ field: mega, password: SECRET, other: 'small' }, mega)
    getLogger('flood').warn({ nested: { field: mega, items: [mega, mega] } }, `nested ${mega}`)
    return { ok: true }
  })
  for (const [n, variant] of variants.entries()) {
    const id = `flood-log-${n}`
    const { res, lines } = await timed(t, `1 MB message + field, ${variant.name}`, async () => {
      const res = await app.inject({ url: `/log/${n}`, headers: { 'x-request-id': id } })
      return { res, lines: await linesFor(app, logDir, id) }
    })
    t.equal(res.statusCode, 200)
    assertWithinCap(t, `1 MB message + field, ${variant.name}`, lines)
    const record = lines.records.find((r) => r.logger === 'app')
    t.match(record?.message, TRUNCATED, `${variant.name}: the message says it was cut`)
    t.match(record?.field, TRUNCATED, `${variant.name}: the field says it was cut`)
    t.equal(record?.other, 'small', `${variant.name}: small fields stay whole`)
    t.ok(lines.records.some((r) => r.logger === 'flood'), `${variant.name}: the named logger line is there too`)
  }
})

t.test('hundreds of small fields: the record drops the last ones and says how many', async (t) => {
  const { app, logDir } = await buildApp(t)
  getLogger('wide').info(Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, 'v'.repeat(60)])), 'many')
  await app.close()
  const { readFileSync } = await import('node:fs')
  const { join } = await import('node:path')
  const line = readFileSync(join(logDir, 'api_structured.jsonl'), 'utf8').trim()
  t.ok(Buffer.byteLength(line) <= 16384, `the line is ${Buffer.byteLength(line)} bytes`)
  const record = JSON.parse(line) as Record<string, unknown>
  t.match(record.fields_truncated, /^\d+ more fields$/)
  t.equal(record.k0, 'v'.repeat(60), 'the first fields are kept whole')
})
