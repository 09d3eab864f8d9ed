'use strict'

// Writes api_structured.jsonl files as the plugin writes them (its own JSON formatter, its own
// record shape), for the api-logs tests and for measuring api-logs on large folders.
//
//   node scripts/generate-logs.js DIR [--bytes 113m] [--days 1] [--gzip-days 0] [--seed 1] [--steady]
//
// DIR gets api_structured.jsonl for today (its records end now) and api_structured.jsonl.YYYY-MM-DD
// for each earlier UTC day; --bytes is the size of each day's file; the oldest --gzip-days files
// are written as .gz instead. --steady: today's file gets only the share of --bytes that the hours
// since midnight UTC make, so the traffic is as dense today as on the other days. Needs
// `npm run build` first.

const { createWriteStream, mkdirSync } = require('node:fs')
const { join } = require('node:path')
const { createGzip } = require('node:zlib')
const { parseArgs } = require('node:util')
const { formatJsonLine } = require('../dist/format/json.js')

const DAY_MS = 86_400_000

// The demo's routes, with weights, median latency (ms), spread of the log-normal, and the share
// of 4xx and 5xx answers. A null endpoint is a path no route matched (404).
const ROUTES = [
  { method: 'GET', endpoint: '/api/dashboard/overview', weight: 22, median: 18, sigma: 0.5, client: 0.005, server: 0.002 },
  { method: 'GET', endpoint: '/api/agents/status', weight: 14, median: 6, sigma: 0.6, client: 0.01, server: 0.001, query: ['?include_metrics=true', '?include_metrics=false', ''] },
  { method: 'GET', endpoint: '/api/videos/:id', weight: 18, median: 9, sigma: 0.7, client: 0.06, server: 0.003 },
  { method: 'POST', endpoint: '/api/video/generate', weight: 6, median: 140, sigma: 0.9, client: 0.05, server: 0.03, body: true },
  { method: 'POST', endpoint: '/api/storyboard/video/calculate-cost', weight: 10, median: 4, sigma: 0.5, client: 0.12, server: 0.001, body: true },
  { method: 'GET', endpoint: '/api/metrics/trends', weight: 8, median: 320, sigma: 0.8, client: 0, server: 0.01 },
  { method: 'GET', endpoint: '/api/search', weight: 9, median: 45, sigma: 1.1, client: 0.02, server: 0.004, query: ['?q=blue', '?q=lo-fi%20rain', '?q=drum&page=2'] },
  { method: 'POST', endpoint: '/api/integrations', weight: 2, median: 25, sigma: 0.6, client: 0.1, server: 0.01, body: true },
  { method: 'DELETE', endpoint: '/api/videos/:id', weight: 1, median: 12, sigma: 0.5, client: 0.2, server: 0.005 },
  { method: 'GET', endpoint: null, weight: 2, median: 0.4, sigma: 0.4, client: 1, server: 0, paths: ['/wp-login.php', '/api/video', '/favicon.png', '/.env'] }
]
const TOTAL_WEIGHT = ROUTES.reduce((sum, route) => sum + route.weight, 0)
const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0',
  'music-dashboard-web/2.3.1 (+https://dashboard.example.com)',
  'curl/8.5.0'
]
const PROMPTS = ['neon city at night, synthwave, slow camera pan', 'lo-fi rain on a window, warm lamp light', 'orchestral sunrise over mountains, drone shot', 'drum and bass car chase through a tunnel']
const ENGINES = ['runway_gen3', 'pika_1', 'sora_preview']
const PLUGIN = { module: 'plugin', function: 'onRequestLogger', line: 161 }
const PLUGIN_DONE = { module: 'plugin', function: 'onResponseClosed', line: 268 }
const PLUGIN_SLOW = { module: 'plugin', function: 'onResponseClosed', line: 219 }
const DB = { module: 'db', function: 'query', line: 88 }
const CALL = { module: 'server', function: '<anonymous>', line: 41 }
const JOB = { module: 'jobs', function: 'refreshTrends', line: 17 }

/** mulberry32: the same seed gives the same files. */
function random (seed) {
  let a = seed >>> 0
  return function next () {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function uuid (rng) {
  const hex = '0123456789abcdef'
  let out = ''
  for (let i = 0; i < 32; i++) {
    out += i === 12 ? '4' : i === 16 ? hex[8 + Math.floor(rng() * 4)] : hex[Math.floor(rng() * 16)]
    if (i === 7 || i === 11 || i === 15 || i === 19) out += '-'
  }
  return out
}

function pickRoute (rng) {
  let roll = rng() * TOTAL_WEIGHT
  for (const route of ROUTES) {
    roll -= route.weight
    if (roll < 0) return route
  }
  return ROUTES[0]
}

// Box-Muller: a standard normal draw.
function normal (rng) {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng())
}

function round2 (n) {
  return Math.round(n * 100) / 100
}

/**
 * The records of `requests` requests spread evenly over [start, start + spanMs), in time order,
 * each as `{ record, request }`: `record` a LogRecord for the plugin's JSON formatter, `request`
 * (on completion lines only) the facts a report must find: id, method, endpoint, status, time.
 */
function * requestRecords ({ seed = 1, start, spanMs, requests, slowThresholdMs = 1000 }) {
  const rng = random(seed)
  const step = spanMs / requests
  for (let n = 0; n < requests; n++) {
    const time = Math.floor(start + n * step + rng() * step * 0.5)
    const route = pickRoute(rng)
    const id = uuid(rng)
    let path = route.endpoint === null
      ? route.paths[Math.floor(rng() * route.paths.length)]
      : route.endpoint.replace(':id', String(1 + Math.floor(rng() * 5000)))
    if (route.query) path += route.query[Math.floor(rng() * route.query.length)]
    const agent = AGENTS[Math.floor(rng() * AGENTS.length)]
    const ip = `10.0.${Math.floor(rng() * 4)}.${1 + Math.floor(rng() * 250)}`
    const roll = rng()
    // Validation (400) on bodies and ids, a missing resource (404) otherwise.
    const invalid = route.body === true || route.endpoint?.includes(':id') === true
    const status = roll < route.server ? (rng() < 0.8 ? 500 : 503) : roll < route.server + route.client ? (route.endpoint === null || !invalid || rng() < 0.4 ? 404 : 400) : (route.method === 'POST' ? 201 : 200)
    const ms = Math.max(0.05, round2(route.median * Math.exp(route.sigma * normal(rng)) * (status >= 500 ? 3 : 1)))
    const body = route.body ? { engine: ENGINES[Math.floor(rng() * ENGINES.length)], duration: 15 * (1 + Math.floor(rng() * 8)), prompt: PROMPTS[Math.floor(rng() * PROMPTS.length)], aspect_ratio: '16:9', callback_url: 'https://dashboard.example.com/hooks/render' } : undefined
    yield { record: { time, level: 30, logger: 'api', message: `API Request: ${route.method} ${path}`, origin: PLUGIN, requestId: id, trace: null, fields: { method: route.method, path, client_ip: ip, user_agent: agent } } }
    const end = time + Math.max(1, Math.round(ms))
    if (route.endpoint !== null && rng() < 0.15) {
      yield { record: { time: time + 1, level: 30, logger: 'db', message: 'query done', origin: DB, requestId: id, trace: null, fields: { table: route.endpoint.split('/')[2], rows: Math.floor(rng() * 40), duration_ms: round2(ms * 0.3) } } }
    }
    if (route.endpoint === '/api/video/generate' && status < 400) {
      yield { record: { time: time + 1, level: 30, logger: 'api_call', message: 'API call started: create_video', origin: CALL, requestId: id, trace: null, fields: { operation: 'create_video' } } }
      yield { record: { time: end - 1, level: 30, logger: 'api_call', message: `API call completed: create_video (${round2(ms * 0.8)}ms)`, origin: CALL, requestId: id, trace: null, fields: { operation: 'create_video', duration_ms: round2(ms * 0.8) } } }
    }
    const slow = slowThresholdMs > 0 && ms > slowThresholdMs
    if (slow) {
      yield { record: { time: end, level: 40, logger: 'api', message: `Slow API Request: ${route.method} ${path} - ${Math.round(ms)}ms`, origin: PLUGIN_SLOW, requestId: id, trace: null, fields: { method: route.method, path, response_time_ms: ms, slow_threshold_ms: slowThresholdMs } } }
    }
    const fields = { method: route.method, path, endpoint: route.endpoint, status_code: status, response_time_ms: ms, content_length: status === 404 ? 73 : 40 + Math.floor(rng() * 2000), slow_request: slow, client_ip: ip, user_agent: agent }
    if (status >= 400) fields.error_class = status >= 500 ? 'server_error' : 'client_error'
    if (status >= 500) {
      fields.exception_type = 'Error'
      fields.exception_message = status === 503 ? 'render queue full' : route.body === true ? 'Invalid engine specified' : 'connect ECONNREFUSED 10.0.0.5:5432'
      fields.exception = `Error: ${fields.exception_message}\n    at Object.<anonymous> (/srv/music-dashboard/server.js:126:11)\n    at preHandlerCallbackInner (/srv/music-dashboard/node_modules/fastify/lib/handle-request.js:190:24)`
    } else if (status === 400) {
      fields.exception_type = 'Error'
      fields.exception_message = route.body === true ? "body must have required property 'engine'" : 'params/id must be integer'
      fields.exception_code = 'FST_ERR_VALIDATION'
    }
    if (body !== undefined) fields.request_body = body
    const label = status >= 400 ? 'API Error' : 'API Response'
    yield {
      record: { time: end, level: status >= 500 ? 50 : status >= 400 ? 40 : 30, logger: 'api', message: `${label}: ${route.method} ${path} - ${status}`, origin: PLUGIN_DONE, requestId: id, trace: null, fields },
      request: { id, method: route.method, endpoint: route.endpoint, path, status, ms, slow, time: end }
    }
    if (rng() < 0.002) {
      yield { record: { time: end, level: rng() < 0.5 ? 50 : 40, logger: 'jobs', message: 'trend refresh failed', origin: JOB, requestId: null, trace: null, fields: { job: 'refresh-trends', attempt: 1 + Math.floor(rng() * 3), exception_type: 'Error', exception_message: 'connect ECONNREFUSED 10.0.0.5:5432' } } }
    }
  }
}

/** One JSON line of the plugin for a record made by `requestRecords`. */
function jsonLine (record) {
  return formatJsonLine(record)
}

function parseSize (text) {
  const match = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(text)
  if (match === null) throw new Error(`not a size: ${text} (examples: 500k, 113m, 1g)`)
  return Math.round(Number(match[1]) * { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2].toLowerCase()])
}

function utcDay (time) {
  return new Date(time).toISOString().slice(0, 10)
}

function write (stream, chunk) {
  return stream.write(chunk) ? Promise.resolve() : new Promise((resolve) => stream.once('drain', resolve))
}

/** Writes one day's file of about `bytes` bytes over `spanMs`; resolves with its line and request counts. */
async function writeDay (path, { seed, day, spanMs, bytes, gzip }) {
  const file = createWriteStream(path)
  const out = gzip ? createGzip() : file
  if (gzip) out.pipe(file)
  const closed = new Promise((resolve, reject) => { file.on('close', resolve).on('error', reject) })
  // About 1035 bytes per request (start, completion and the occasional db, api_call, slow and job lines).
  const requests = Math.max(1, Math.round(bytes / 1035))
  let written = 0
  let lines = 0
  let batch = ''
  for (const { record } of requestRecords({ seed, start: day, spanMs, requests })) {
    const line = jsonLine(record)
    written += Buffer.byteLength(line)
    lines++
    batch += line
    if (batch.length > 1 << 20) {
      await write(out, batch)
      batch = ''
    }
  }
  out.end(batch)
  await closed
  return { lines, requests, bytes: written }
}

async function main () {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      bytes: { type: 'string', default: '113m' },
      days: { type: 'string', default: '1' },
      'gzip-days': { type: 'string', default: '0' },
      seed: { type: 'string', default: '1' },
      steady: { type: 'boolean', default: false }
    }
  })
  if (positionals.length !== 1) throw new Error('usage: node scripts/generate-logs.js DIR [--bytes 113m] [--days 1] [--gzip-days 0] [--seed 1]')
  const dir = positionals[0]
  mkdirSync(dir, { recursive: true })
  const bytes = parseSize(values.bytes)
  const days = Number(values.days)
  const gzipDays = Number(values['gzip-days'])
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS
  for (let i = days - 1; i >= 0; i--) {
    const day = today - i * DAY_MS
    const gzip = days - 1 - i < gzipDays
    const name = i === 0 ? 'api_structured.jsonl' : `api_structured.jsonl.${utcDay(day)}`
    const path = join(dir, name + (gzip ? '.gz' : ''))
    // Today's file ends now, as a live file does.
    const spanMs = i === 0 ? Math.max(60_000, Date.now() - day - 1000) : DAY_MS - 60_000
    const share = i === 0 && values.steady ? spanMs / DAY_MS : 1
    const result = await writeDay(path, { seed: Number(values.seed) + i, day, spanMs, bytes: Math.round(bytes * share), gzip })
    process.stdout.write(`${path}: ${result.lines} lines, ${result.requests} requests, ${result.bytes} bytes${gzip ? ' (before gzip)' : ''}\n`)
  }
}

module.exports = { requestRecords, jsonLine, uuid, random, ROUTES }

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${err.message}\n`)
    process.exit(1)
  })
}
