import t, { type Test } from 'tap'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { getLogger, logApiCall } from '../dist/index.js'
import { buildApp, tempDir, type JsonRecord } from './helpers/app'
import { start } from './helpers/child'
import {
  Canaries, Rng, cardNumber, embed, generateValue, secretShape, seedFromEnv, sensitiveHeaderName, sensitiveKey,
  type ShapeName
} from './helpers/generate'

// Random secrets ("canaries") go through real requests of one app into every sink; afterwards no
// file may contain any of them. A failure names the seed: REDACTION_SEED=<seed> replays it.
const SEED = seedFromEnv()
const REPLAY = `seed ${SEED} (replay: REDACTION_SEED=${SEED})`
const PACKAGE_ROOT = resolve(__dirname, '..')
const TARGET_CANARIES = 2000
t.comment(`redaction property tests: ${REPLAY}`)

type LogKind = 'log:object+%s' | 'log:named' | 'log:error-cause' | 'log:api-call' | 'log:api-call-async' | 'log:child' |
  'log:nested-error' | 'log:%s-object' | 'log:%o-object' | 'log:%j-object' | 'log:extra-arg'
const LOG_KINDS: readonly LogKind[] = ['log:object+%s', 'log:named', 'log:error-cause', 'log:api-call', 'log:api-call-async',
  'log:child', 'log:nested-error', 'log:%s-object', 'log:%o-object', 'log:%j-object', 'log:extra-arg']

interface Action {
  kind: LogKind
  obj?: unknown
  text?: string
  text2?: string
  data?: Record<string, unknown>
}

type BodyKind = 'json' | 'text' | 'form' | 'vnd' | 'none'

interface Plan {
  n: number
  body: BodyKind
  url: string
  headers: Record<string, string>
  /** What the application must receive as request.body. */
  sent: unknown
  payload?: string | Record<string, unknown>
  meta?: Record<string, unknown>
  actions: Action[]
  fail?: { status: number, message: string, cause: string }
}

/** Files in a directory with their content, rotated ones included. */
function readAllFiles (dir: string): Map<string, string> {
  const files = new Map<string, string>()
  for (const name of readdirSync(dir).sort()) files.set(name, readFileSync(join(dir, name), 'utf8'))
  return files
}

/** Where two strings first differ, with some context. */
function difference (actual: string, expected: string): string {
  let i = 0
  while (i < actual.length && actual[i] === expected[i]) i++
  return `${JSON.stringify(actual.slice(Math.max(0, i - 60), i + 60))}, expected ${JSON.stringify(expected.slice(Math.max(0, i - 60), i + 60))}`
}

function context (text: string, needle: string): string {
  const at = text.indexOf(needle)
  return JSON.stringify(text.slice(Math.max(0, at - 80), at + needle.length + 40))
}

/** Canary -> [file: context] for every canary found in any file. */
function leaksIn (files: Map<string, string>, canaries: Canaries): Map<string, string[]> {
  const leaks = new Map<string, string[]>()
  for (const [name, text] of files) {
    for (const canary of canaries.findIn(text)) {
      const list = leaks.get(canary) ?? []
      list.push(`${name}: ${context(text, canary)}`)
      leaks.set(canary, list)
    }
  }
  return leaks
}

/** One assertion per placement: no canary placed that way reached a sink. */
function assertNoLeaks (t: Test, canaries: Canaries, leaks: Map<string, string[]>, sinks: string): void {
  const byPlacement = new Map<string, string[]>()
  for (const where of new Set(canaries.placed.values())) byPlacement.set(where, [])
  for (const [canary, found] of leaks) byPlacement.get(canaries.placed.get(canary) ?? '?')?.push(`${canary} in ${found.join(' | ')}`)
  for (const [where, found] of [...byPlacement].sort(([a], [b]) => a.localeCompare(b))) {
    const placed = [...canaries.placed.values()].filter((w) => w === where).length
    t.same(found.slice(0, 5), [], `no secret placed as ${where} (${placed} placed) reaches ${sinks}; ${found.length} leaked; ${REPLAY}`)
  }
}

function shapeText (rng: Rng, canaries: Canaries, where: string, only?: readonly ShapeName[]): string {
  return secretShape(rng, canaries, where, only).text
}

// Shapes that survive a URL unencoded (no space, quote or brace); a spaced card gets dashes.
function urlShape (rng: Rng, canaries: Canaries, where: string): string {
  const { text, shape } = secretShape(rng, canaries, where, ['jwt', 'card', 'url', 'pair'])
  if (shape !== 'card' || !text.includes(' ')) return text
  return canaries.record(text.replace(/ /g, '-'), `${where}:card`)
}

function smallObject (rng: Rng, canaries: Canaries, where: string): unknown {
  return generateValue(rng, canaries, { maxDepth: 3, where })
}

function makeAction (rng: Rng, canaries: Canaries, kind: LogKind): Action {
  switch (kind) {
    case 'log:object+%s': return { kind, obj: smallObject(rng, canaries, kind), text: embed(rng, shapeText(rng, canaries, kind)) }
    case 'log:named': return { kind, obj: smallObject(rng, canaries, kind) }
    case 'log:error-cause': return {
      kind,
      text: `upstream said ${shapeText(rng, canaries, `${kind}:message`)}`,
      text2: embed(rng, shapeText(rng, canaries, `${kind}:cause`)),
      data: { [sensitiveKey(rng)]: canaries.next(`${kind}:cause-object-key`), note: embed(rng, shapeText(rng, canaries, `${kind}:cause-object-string`)) }
    }
    case 'log:api-call':
    case 'log:api-call-async': return { kind, text: `declined: ${shapeText(rng, canaries, kind)}` }
    case 'log:child': return {
      kind,
      data: { [sensitiveKey(rng)]: canaries.next(`${kind}:binding-key`), note: shapeText(rng, canaries, `${kind}:binding-string`) },
      text: `child says ${shapeText(rng, canaries, `${kind}:message`)}`
    }
    case 'log:nested-error': return {
      kind,
      text: `boom ${shapeText(rng, canaries, `${kind}:message`)}`,
      data: { [sensitiveKey(rng)]: canaries.next(`${kind}:data-key`), note: shapeText(rng, canaries, `${kind}:data-string`) },
      text2: `Bearer ${canaries.next(`${kind}:authorization-header`)}`
    }
    default: return { kind, obj: { [sensitiveKey(rng)]: canaries.next(kind), note: canaries.control() } }
  }
}

function untyped (request: FastifyRequest): { info (...args: unknown[]): void } {
  return request.log as unknown as { info (...args: unknown[]): void }
}

async function runAction (action: Action, request: FastifyRequest): Promise<void> {
  switch (action.kind) {
    case 'log:object+%s': request.log.info(action.obj as object, 'processing %s', action.text); break
    case 'log:named': getLogger('property').warn({ nested: action.obj }, 'named logger line'); break
    case 'log:error-cause':
      request.log.error(new Error(action.text, { cause: new Error(action.text2, { cause: action.data }) }), 'call failed')
      break
    case 'log:api-call':
      try {
        logApiCall('charge', () => { throw new Error(action.text) })
      } catch {
        // logged by logApiCall
      }
      break
    case 'log:api-call-async':
      await logApiCall('fetch', async () => { throw new Error(action.text) }).catch(() => undefined)
      break
    case 'log:child': request.log.child(action.data ?? {}).info(action.text); break
    case 'log:nested-error': {
      const failure = Object.assign(new Error(action.text), { response: { data: action.data }, config: { headers: { Authorization: action.text2 } } })
      request.log.info({ failure }, 'nested error')
      break
    }
    // pino's types refuse some of these calls; applications make them anyway (JavaScript, `any`).
    case 'log:%s-object': untyped(request).info('login %s', action.obj); break
    case 'log:%o-object': untyped(request).info('login %o', action.obj); break
    case 'log:%j-object': untyped(request).info('login %j', action.obj); break
    case 'log:extra-arg': untyped(request).info('login', action.obj); break
  }
}

function jsonBody (rng: Rng, canaries: Canaries, n: number): { meta: Record<string, unknown>, body: Record<string, unknown> } {
  for (let attempt = 0; ; attempt++) {
    const point = canaries.checkpoint()
    const meta = { token_count: n, tokenizer: canaries.control(), note: canaries.control() }
    const body = { meta, data: generateValue(rng, canaries, { maxDepth: attempt < 5 ? 6 : 3, where: 'body' }) }
    // Small enough that bodyMaxBytes and maxRecordBytes cut nothing: every control must show.
    if (JSON.stringify(body).length <= 3000) return { meta, body }
    canaries.rollback(point)
  }
}

function makePlan (rng: Rng, canaries: Canaries, n: number): Plan {
  const roll = rng.next()
  const body: BodyKind = roll < 0.55 ? 'json' : roll < 0.67 ? 'text' : roll < 0.79 ? 'form' : roll < 0.9 ? 'vnd' : 'none'
  const segment = rng.chance(0.5) ? urlShape(rng, canaries, 'path') : `item-${canaries.control()}`
  const query = [`page=${n}`, `${encodeURIComponent(sensitiveKey(rng))}=${canaries.next('query:key')}`, `ref=${canaries.control()}`]
  if (rng.chance(0.7)) query.push(`q=${urlShape(rng, canaries, 'query:value')}`)
  const headers: Record<string, string> = {
    authorization: `${rng.pick(['Bearer', 'Basic', 'Token'])} ${canaries.next('header:authorization')}`,
    cookie: `session=${canaries.next('header:cookie')}; theme=dark`,
    'user-agent': `Mozilla/5.0 (${embed(rng, shapeText(rng, canaries, 'user-agent'), true)}) probe/${n}`,
    'x-client-note': embed(rng, shapeText(rng, canaries, 'header:custom-value'), true),
    'x-trace-control': canaries.control()
  }
  const name = sensitiveHeaderName(rng).toLowerCase()
  if (!(name in headers)) headers[name] = canaries.next('header:sensitive-name')
  if (rng.chance(0.3)) headers['x-request-id'] = shapeText(rng, canaries, 'rejected-request-id', ['bearer', 'basic', 'url', 'pair', 'quoted', 'colon'])

  const plan: Plan = { n, body, url: `/r/${n}/${segment}?${query.join('&')}`, headers, sent: undefined, actions: [] }
  if (body === 'json' || body === 'vnd') {
    const { meta, body: object } = jsonBody(rng, canaries, n)
    plan.meta = meta
    plan.sent = object
    plan.payload = body === 'json' ? object : JSON.stringify(object)
    if (body === 'vnd') plan.sent = plan.payload
    if (body === 'vnd') headers['content-type'] = 'application/vnd.api+json'
  } else if (body === 'text') {
    const lines = [`ref ${canaries.control()}`]
    for (let i = rng.between(1, 3); i > 0; i--) lines.push(embed(rng, shapeText(rng, canaries, 'text-body')))
    plan.payload = plan.sent = lines.join('\n')
    headers['content-type'] = 'text/plain; charset=utf-8'
  } else if (body === 'form') {
    plan.payload = plan.sent = `ref=${canaries.control()}&${encodeURIComponent(sensitiveKey(rng))}=${canaries.next('form:key')}` +
      `&note=${encodeURIComponent(embed(rng, shapeText(rng, canaries, 'form:string')))}`
    headers['content-type'] = 'application/x-www-form-urlencoded'
  }
  for (let i = rng.between(1, 3); i > 0; i--) plan.actions.push(makeAction(rng, canaries, rng.pick(LOG_KINDS)))
  if (rng.chance(0.15)) {
    plan.fail = {
      status: rng.chance(0.7) ? 500 : rng.pick([400, 403, 422]),
      message: `failed with ${shapeText(rng, canaries, 'thrown-error:message')}`,
      cause: shapeText(rng, canaries, 'thrown-error:cause')
    }
  }
  return plan
}

async function propertyApp (t: Test, plans: Plan[], seen: unknown[]): Promise<{ app: FastifyInstance, logDir: string }> {
  const built = await buildApp(t, {
    enableFileLogging: true,
    enableJsonLogging: true,
    logResponseBody: true,
    logHeaders: true,
    logFileMaxBytes: 65536,
    logFileBackupCount: 999
  })
  const { app } = built
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, body))
  app.addContentTypeParser('application/vnd.api+json', { parseAs: 'string' }, (_request, body, done) => done(null, body))
  async function handler (request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const plan = plans[Number((request.params as { n: string }).n)]
    seen[plan.n] = request.body
    for (const action of plan.actions) await runAction(action, request)
    if (plan.fail !== undefined) {
      const error = new Error(plan.fail.message, { cause: new Error(plan.fail.cause) })
      throw plan.fail.status === 500 ? error : Object.assign(error, { statusCode: plan.fail.status })
    }
    switch (plan.body) {
      case 'json': return request.body
      case 'text': return reply.type('text/plain; charset=utf-8').send(request.body)
      case 'vnd': return reply.type('application/vnd.api+json').send(request.body)
      default: return { ok: true, n: plan.n }
    }
  }
  app.route({ method: ['GET', 'POST'], url: '/r/:n/*', handler })
  return built
}

t.test(`random secrets in bodies, queries, headers, errors and log calls reach no sink (${REPLAY})`, async (t) => {
  const rng = new Rng(SEED)
  const canaries = new Canaries(SEED, rng)
  const plans: Plan[] = []
  while (canaries.placed.size < TARGET_CANARIES) plans.push(makePlan(rng, canaries, plans.length))
  const seen: unknown[] = []
  const { app, logDir } = await propertyApp(t, plans, seen)

  const started = performance.now()
  const mismatches: string[] = []
  const ids = new Map<string, Plan>()
  for (const plan of plans) {
    const res = await app.inject({ method: plan.body === 'none' ? 'GET' : 'POST', url: plan.url, headers: plan.headers, payload: plan.payload })
    ids.set(res.headers['x-request-id'] as string, plan)
    const status = plan.fail?.status ?? 200
    if (res.statusCode !== status) mismatches.push(`#${plan.n}: status ${res.statusCode}, expected ${status}: ${res.body.slice(0, 200)}`)
    if (plan.body !== 'none' && JSON.stringify(seen[plan.n]) !== JSON.stringify(plan.sent)) mismatches.push(`#${plan.n}: the handler saw ${difference(JSON.stringify(seen[plan.n]), JSON.stringify(plan.sent))}`)
    if (plan.fail === undefined) {
      const echoed = plan.body === 'json' ? JSON.stringify(res.json()) : res.body
      const expected = plan.body === 'json' ? JSON.stringify(plan.sent) : plan.body === 'text' || plan.body === 'vnd' ? plan.sent : JSON.stringify({ ok: true, n: plan.n })
      if (echoed !== expected) mismatches.push(`#${plan.n}: the client got ${difference(echoed, String(expected))}`)
    }
  }
  const stats = app.apiLogging.stats()
  await app.close()
  t.comment(`${plans.length} requests, ${canaries.placed.size} secrets, ${canaries.controls.size} controls in ${Math.round(performance.now() - started)} ms`)
  t.same(mismatches, [], `the application and the client see the real, unredacted values; ${REPLAY}`)
  t.same([stats.file.dropped, stats.json.dropped], [0, 0], 'no line was dropped (a dropped line would hide a leak)')

  const files = readAllFiles(logDir)
  t.ok([...files.keys()].filter((name) => name.startsWith('api.log.')).length >= 2, `api.log rotated (files: ${[...files.keys()].join(', ')})`)
  assertNoLeaks(t, canaries, leaksIn(files, canaries), 'api.log* or api_structured.jsonl*')

  // Every request has its completion line, with the request body's harmless part intact.
  const records: JsonRecord[] = []
  for (const [name, text] of files) {
    if (!name.startsWith('api_structured.jsonl')) continue
    for (const line of text.split('\n')) if (line !== '') records.push(JSON.parse(line) as JsonRecord)
  }
  const completions = new Map<string, JsonRecord>()
  for (const record of records) if (record.request_id !== null && typeof record.status_code === 'number') completions.set(record.request_id, record)
  const missing: string[] = []
  const metaDiffs: string[] = []
  for (const [id, plan] of ids) {
    const end = completions.get(id)
    if (end === undefined) {
      missing.push(`#${plan.n} ${id}`)
      continue
    }
    if (plan.meta === undefined) continue
    const requestMeta = (end.request_body as { meta?: unknown } | undefined)?.meta
    if (JSON.stringify(requestMeta) !== JSON.stringify(plan.meta)) metaDiffs.push(`#${plan.n} request_body.meta: ${JSON.stringify(requestMeta)}`)
    if (plan.fail === undefined) {
      const responseMeta = (end.response_body as { meta?: unknown } | undefined)?.meta
      if (JSON.stringify(responseMeta) !== JSON.stringify(plan.meta)) metaDiffs.push(`#${plan.n} response_body.meta: ${JSON.stringify(responseMeta)}`)
    }
  }
  t.same(missing, [], 'every request has a completion line')
  t.same(metaDiffs, [], `token_count, tokenizer and other harmless fields stay visible in request_body and response_body; ${REPLAY}`)

  const jsonText = [...files].filter(([name]) => name.startsWith('api_structured.jsonl')).map(([, text]) => text).join('\n')
  const visible = new Set(jsonText.match(new RegExp(`ctrl${canaries.tag}x\\d{5}[a-z0-9]{4}`, 'g')) ?? [])
  const lost = [...canaries.controls].filter((control) => !visible.has(control))
  t.same(lost.slice(0, 10), [], `all ${canaries.controls.size} harmless control values stay visible (${lost.length} lost); ${REPLAY}`)
  t.ok(jsonText.includes('[REDACTED]'), 'redaction markers are present')
})

t.test(`secrets in paths, queries, errors and log messages stay off the console (child process, ${REPLAY})`, async (t) => {
  const rng = new Rng(SEED + 1)
  const canaries = new Canaries(SEED + 1, rng)
  const plans: Array<{ url: string, headers: Record<string, string>, info: string, warn: string, apiCall: string, fail: string | null, cause: string }> = []
  for (let n = 0; n < 60; n++) {
    plans.push({
      url: `/c/${n}/${urlShape(rng, canaries, 'console:path')}?${encodeURIComponent(sensitiveKey(rng))}=${canaries.next('console:query-key')}&q=${urlShape(rng, canaries, 'console:query-value')}`,
      headers: { 'user-agent': shapeText(rng, canaries, 'console:user-agent'), authorization: `Bearer ${canaries.next('console:authorization')}` },
      info: embed(rng, shapeText(rng, canaries, 'console:request.log %s')),
      warn: `named ${shapeText(rng, canaries, 'console:getLogger message')}`,
      apiCall: `declined ${shapeText(rng, canaries, 'console:logApiCall error')}`,
      fail: rng.chance(0.4) ? `failed with ${shapeText(rng, canaries, 'console:thrown message')}` : null,
      cause: shapeText(rng, canaries, 'console:thrown cause')
    })
  }
  const dir = tempDir(t)
  const planFile = join(dir, 'plans.json')
  writeFileSync(planFile, JSON.stringify(plans))
  const logDir = join(dir, 'logs')
  const script = `
'use strict'
const [root, planFile, logDir] = process.argv.slice(1)
const api = require(root)
const Fastify = require(require.resolve('fastify', { paths: [root] }))
const plans = JSON.parse(require('node:fs').readFileSync(planFile, 'utf8'))
async function main () {
  const app = Fastify()
  await app.register(api, { envFile: false, enableConsoleLogging: true, enableFileLogging: true, enableJsonLogging: true, logDir, logHeaders: true, logResponseBody: true })
  app.get('/c/:n/*', async (request) => {
    const plan = plans[Number(request.params.n)]
    request.log.info('processing %s', plan.info)
    api.getLogger('console-named').warn(plan.warn)
    try { api.logApiCall('charge', () => { throw new Error(plan.apiCall) }) } catch {}
    if (plan.fail !== null) throw new Error(plan.fail, { cause: new Error(plan.cause) })
    return { ok: true }
  })
  const statuses = []
  for (const plan of plans) statuses.push((await app.inject({ url: plan.url, headers: plan.headers })).statusCode)
  await app.close()
  process.stderr.write(JSON.stringify({ statuses }) + '\\n')
}
main().catch((err) => { process.stderr.write(String(err && err.stack) + '\\n'); process.exitCode = 1 })
`
  const result = await start(process.execPath, ['-e', script, PACKAGE_ROOT, planFile, logDir], { timeoutMs: 60_000 }).result
  t.equal(result.code, 0, `the child exits cleanly: ${result.stderr.slice(0, 500)}`)
  const statuses = (JSON.parse(result.stderr.trim().split('\n').pop() ?? '{}') as { statuses?: number[] }).statuses ?? []
  t.same(statuses, plans.map((plan) => plan.fail === null ? 200 : 500), 'each request got its status')
  const lines = result.stdout.split('\n').filter((line) => line !== '')
  // start + completion + info + warn + api call started + api call failed per request
  t.ok(lines.length >= plans.length * 6, `the console shows every request (${lines.length} lines)`)
  const files = readAllFiles(logDir)
  files.set('stdout', result.stdout)
  assertNoLeaks(t, canaries, leaksIn(files, canaries), 'stdout (console) or the child\'s files')
})

// ---------------------------------------------------------------------------------------------
// A length limit must not cut a secret so that its shape is no longer recognized and the rest of
// it is written: redaction has to see what is kept, or the cut has to happen after redaction.

interface BoundaryShape {
  name: string
  /** The shape with `secret` at `offset`; `secrets` are all values that must not show. */
  build (secret: string, rng: Rng): { text: string, offset: number, secrets: string[] }
  secret (rng: Rng): string
  /** How many characters of the secret the cut keeps, per trial. */
  keep: number[]
  /** Only shapes that survive in a URL. */
  urlSafe: boolean
}

const BOUNDARY_SHAPES: BoundaryShape[] = [
  { name: 'quoted "password": "…"', build: (s) => ({ text: `{"password":"${s}"}`, offset: 13, secrets: [s] }), secret: (rng) => rng.alnum(24), keep: [8, 16, 23], urlSafe: false },
  { name: 'URL user:password@', build: (s) => ({ text: `https://user:${s}@db.internal/x`, offset: 13, secrets: [s] }), secret: (rng) => rng.alnum(24), keep: [8, 16, 23], urlSafe: true },
  // The cut lands in the payload (claims): the header is no secret, the signature is cut off.
  { name: 'JWT', build: (s, rng) => { const head = 'eyJ' + rng.alnum(21); return { text: `${head}.${s}.${rng.alnum(24)}`, offset: head.length + 1, secrets: [s] } }, secret: (rng) => rng.alnum(24), keep: [8, 16, 23], urlSafe: true },
  { name: 'card number', build: (s) => ({ text: s, offset: 0, secrets: [s] }), secret: (rng) => cardNumber(rng), keep: [10, 12, 15], urlSafe: true },
  { name: 'name=value', build: (s) => ({ text: `api_key=${s}`, offset: 8, secrets: [s] }), secret: (rng) => rng.alnum(24), keep: [8, 16, 23], urlSafe: true },
  { name: 'name: value', build: (s) => ({ text: `password: ${s}`, offset: 10, secrets: [s] }), secret: (rng) => rng.alnum(24), keep: [8, 16, 23], urlSafe: false },
  { name: 'Bearer', build: (s) => ({ text: `Bearer ${s}`, offset: 7, secrets: [s] }), secret: (rng) => rng.alnum(24), keep: [8, 16, 23], urlSafe: false },
  { name: 'Basic', build: (s) => ({ text: `Basic ${s}`, offset: 6, secrets: [s] }), secret: (rng) => rng.alnum(24), keep: [8, 16, 23], urlSafe: false }
]

/** Fragments of `secret` (8 characters; 10 for digit-only secrets) found in `text`. */
function fragmentsIn (text: string, secret: string): string[] {
  const size = /^\d+$/.test(secret) ? 10 : 8
  const found: string[] = []
  for (let i = 0; i + size <= secret.length; i++) {
    const piece = secret.slice(i, i + size)
    if (text.includes(piece)) {
      found.push(piece)
      break
    }
  }
  return found
}

interface CutPoint {
  field: string
  /** Characters of the field's value before our text starts (`Error: ` in a stack). */
  lead: number
  limit: (app: FastifyInstance) => number
  urlOnly?: boolean
  send: (app: FastifyInstance, value: string, id: string) => Promise<string>
}

const MESSAGE_LIMIT = 8192

const CUT_POINTS: CutPoint[] = [
  { field: 'user_agent (256)', lead: 0, limit: () => 256, send: async (app, value, id) => { await app.inject({ url: '/b/ok', headers: { 'user-agent': value, 'x-request-id': id } }); return id } },
  { field: 'request_headers value (256)', lead: 0, limit: () => 256, send: async (app, value, id) => { await app.inject({ url: '/b/ok', headers: { 'x-note': value, 'x-request-id': id } }); return id } },
  {
    field: 'rejected_request_id (128)',
    lead: 0,
    limit: () => 128,
    send: async (app, value) => (await app.inject({ url: '/b/ok', headers: { 'x-request-id': value } })).headers['x-request-id'] as string
  },
  {
    field: 'text request_body (bodyMaxBytes)',
    lead: 0,
    limit: (app) => app.apiLogging.config.bodyMaxBytes,
    send: async (app, value, id) => { await app.inject({ method: 'POST', url: '/b/ok', headers: { 'content-type': 'text/plain', 'x-request-id': id }, payload: value }); return id }
  },
  { field: 'exception_message (2048)', lead: 0, limit: () => 2048, send: async (app, value, id) => { await app.inject({ url: '/b/throw', headers: { 'x-error': Buffer.from(value).toString('base64'), 'x-request-id': id } }); return id } },
  { field: 'exception stack (8192)', lead: 'Error: '.length, limit: () => 8192, send: async (app, value, id) => { await app.inject({ url: '/b/throw', headers: { 'x-error': Buffer.from(value).toString('base64'), 'x-request-id': id } }); return id } },
  { field: 'log message (8192)', lead: 0, limit: () => MESSAGE_LIMIT, send: async (app, value, id) => { await app.inject({ url: '/b/log', headers: { 'x-error': Buffer.from(value).toString('base64'), 'x-request-id': id } }); return id } },
  { field: 'string in a logged object (16384)', lead: 0, limit: () => 16384, send: async (app, value, id) => { await app.inject({ url: '/b/field', headers: { 'x-error': Buffer.from(value).toString('base64'), 'x-request-id': id } }); return id } },
  { field: 'path (2048)', lead: '/b/ok?q='.length, limit: () => 2048, urlOnly: true, send: async (app, value, id) => { await app.inject({ url: `/b/ok?q=${value}`, headers: { 'x-request-id': id } }); return id } }
]

t.test(`secrets cut by a length limit leave no readable fragment (${REPLAY})`, async (t) => {
  const rng = new Rng(SEED + 2)
  const { app, logDir } = await buildApp(t, { logHeaders: true, bodyMaxBytes: 32768, maxRecordBytes: 262144 }, { bodyLimit: 4 * 1024 * 1024 })
  const decode = (request: FastifyRequest): string => Buffer.from(String(request.headers['x-error']), 'base64').toString()
  app.route({ method: ['GET', 'POST'], url: '/b/ok', handler: async () => 'ok' })
  app.get('/b/throw', async (request) => { throw new Error(decode(request)) })
  app.get('/b/log', async (request) => { request.log.info(decode(request)); return 'ok' })
  app.get('/b/field', async (request) => { request.log.info({ note: decode(request) }, 'field'); return 'ok' })

  const trials: Array<{ field: string, shape: string, keep: number, id: string, secrets: string[] }> = []
  let n = 0
  for (const cut of CUT_POINTS) {
    for (const shape of BOUNDARY_SHAPES) {
      if (cut.urlOnly === true && !shape.urlSafe) continue
      for (const keep of shape.keep) {
        const secret = shape.secret(rng)
        const { text, offset, secrets } = shape.build(secret, rng)
        // Our value starts `lead` characters into the field: pad so the cut keeps `keep` characters of the secret.
        const padLength = cut.limit(app) - cut.lead - offset - keep
        // A space would be percent-encoded in a URL (and shift the cut): a comma separates there.
        const gap = cut.urlOnly === true ? ',' : ' '
        const value = 'p'.repeat(padLength - 1) + gap + text + gap + 'tail'
        const id = await cut.send(app, value, `b-${n++}`)
        trials.push({ field: cut.field, shape: shape.name, keep, id, secrets })
      }
    }
  }
  await app.close()
  const files = readAllFiles(logDir)
  const byId = new Map<string, string[]>()
  for (const [name, text] of files) {
    for (const line of text.split('\n')) {
      const id = name.startsWith('api_structured') ? (JSON.parse(line === '' ? '{}' : line) as { request_id?: string }).request_id : /request_id=(\S+)/.exec(line)?.[1]
      if (id === undefined || id === null) continue
      const list = byId.get(id) ?? []
      list.push(line)
      byId.set(id, list)
    }
  }
  const groups = new Map<string, string[]>()
  for (const trial of trials) {
    const key = `${trial.field} / ${trial.shape}`
    const lines = (byId.get(trial.id) ?? []).join('\n')
    const found = trial.secrets.flatMap((secret) => fragmentsIn(lines, secret))
    const list = groups.get(key) ?? []
    if (lines === '') list.push(`keep=${trial.keep}: no line logged`)
    else if (found.length > 0) list.push(`keep=${trial.keep}: ${found.map((piece) => context(lines, piece)).join(', ')}`)
    groups.set(key, list)
  }
  for (const [key, problems] of groups) t.same(problems, [], `${key}: the cut secret leaves no 8+ character fragment; ${REPLAY}`)
})

// Percent-encoding hides a secret's shape from a search of the raw URL; the URL is what is logged.
t.test(`percent-encoded secret shapes in the query string reach no sink (${REPLAY})`, async (t) => {
  const rng = new Rng(SEED + 3)
  const canaries = new Canaries(SEED + 3, rng)
  const { app, logDir } = await buildApp(t)
  app.get('/p', async () => 'ok')
  const urls = [
    `/p?q=${encodeURIComponent(`Bearer ${canaries.next('query:percent-encoded Bearer')}`)}`,
    `/p?next=${encodeURIComponent(`/callback?access_token=${canaries.next('query:percent-encoded nested name=value')}`)}`,
    `/p?q=${encodeURIComponent(`{"password":"${canaries.next('query:percent-encoded JSON')}"}`)}`,
    `/p?u=${encodeURIComponent(`https://user:${canaries.next('query:percent-encoded URL userinfo')}@host/`)}`
  ]
  for (const url of urls) t.equal((await app.inject(url)).statusCode, 200)
  await app.close()
  assertNoLeaks(t, canaries, leaksIn(readAllFiles(logDir), canaries), 'any file')
})
