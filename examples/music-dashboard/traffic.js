'use strict'

// A realistic mixed load for the demo (`npm run demo:traffic`, with the server running):
// successes, 404s, a 400 from validation, a 500 from the service, slow trends, secrets that the
// logs must hide, and health checks. Then read ./logs.
//   TARGET       base URL (default http://127.0.0.1:3000)
//   REQUESTS     how many requests (default 60)
//   CONCURRENCY  requests in flight at once (default 4)

const TARGET = (process.env.TARGET || 'http://127.0.0.1:3000').replace(/\/+$/, '')
const REQUESTS = positiveInt('REQUESTS', 60)
const CONCURRENCY = positiveInt('CONCURRENCY', 4)
const TIMEOUT_MS = 15000

function positiveInt (name, fallback) {
  const value = process.env[name]
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`${name} must be a positive integer, got ${JSON.stringify(value)}\n`)
    process.exit(2)
  }
  return n
}

const ENGINES = ['runway_gen3', 'pika_1', 'sora_preview']
const PROMPTS = ['neon city at night, synthwave', 'lo-fi rain on a window', 'orchestral sunrise over mountains', 'drum and bass car chase']
const createdIds = []
let n = 0

const pick = (list) => list[n % list.length]

function json (method, path, body, headers = {}) {
  return { method, path, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }
}

// One request of each kind, in a fixed order: every kind shows up in any run of 16 or more.
const SCENARIOS = [
  () => ({ method: 'GET', path: '/api/dashboard/overview' }),
  () => ({ method: 'GET', path: '/api/agents/status?include_metrics=true' }),
  () => json('POST', '/api/storyboard/video/calculate-cost', { duration: 30 + (n % 5) * 30, engine: pick(ENGINES) }),
  () => json('POST', '/api/video/generate', { engine: pick(ENGINES), duration: 15 + (n % 4) * 15, prompt: pick(PROMPTS) }),
  () => ({ method: 'GET', path: `/api/videos/${createdIds.length > 0 ? createdIds[n % createdIds.length] : 1}` }),
  () => ({ method: 'GET', path: '/health' }),
  () => ({ method: 'GET', path: '/api/metrics/trends' }),
  () => ({ method: 'GET', path: `/api/videos/${900000 + n}` }), // 404
  () => json('POST', '/api/storyboard/video/calculate-cost', { duration: 120, engine: 'veo_ultra' }), // 400: not a supported engine
  () => json('POST', '/api/video/generate', { engine: 'unknown_engine', duration: 30, prompt: 'glitch art' }), // 500
  () => json('POST', '/api/integrations',
    { provider: 'runway', api_key: 'sk-live-4f9a8b7c6d5e4f3a2b1c', webhook_url: 'https://bot:hunter2pass@hooks.example.com/runway' },
    { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJl' }),
  () => ({ method: 'GET', path: '/api/agents/status?include_metrics=false&token=qa-debug-token-123' }), // token shows [REDACTED] in the path
  () => ({ method: 'GET', path: '/api/dashboard/overview', headers: { 'x-request-id': `traffic-${Date.now()}-${n}` } }), // an incoming id is kept
  () => json('POST', '/api/storyboard/video/calculate-cost', { duration: 0, engine: 'pika_1' }), // 400: duration out of range
  () => ({ method: 'GET', path: '/health' }),
  () => ({ method: 'GET', path: '/api/metrics/trends' })
]

async function send (spec) {
  const started = performance.now()
  const res = await fetch(TARGET + spec.path, {
    method: spec.method,
    headers: { 'user-agent': 'music-dashboard-traffic/1.0', ...spec.headers },
    body: spec.body,
    signal: AbortSignal.timeout(TIMEOUT_MS)
  })
  const text = await res.text()
  if (res.ok && spec.path === '/api/video/generate') {
    const id = JSON.parse(text).id
    if (id !== undefined) createdIds.push(id)
  }
  return { status: res.status, ms: performance.now() - started }
}

async function main () {
  const byStatus = new Map()
  let failures = 0
  let firstFailure = null

  async function worker () {
    while (n < REQUESTS) {
      const spec = SCENARIOS[n % SCENARIOS.length]()
      n++
      const key = `${spec.method} ${spec.path.split('?')[0]}`
      try {
        const { status, ms } = await send(spec)
        const entry = byStatus.get(status) ?? { count: 0, totalMs: 0, routes: new Set() }
        entry.count++
        entry.totalMs += ms
        entry.routes.add(key.replace(/\/\d+$/, '/:id'))
        byStatus.set(status, entry)
      } catch (err) {
        failures++
        firstFailure ??= err
      }
    }
  }

  const started = performance.now()
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, REQUESTS) }, worker))
  const seconds = ((performance.now() - started) / 1000).toFixed(1)

  if (failures === REQUESTS) {
    const cause = firstFailure?.cause?.code ?? firstFailure?.message
    process.stderr.write(`no answer from ${TARGET} (${cause}); is the demo running? npm start\n`)
    process.exit(1)
  }
  process.stdout.write(`${REQUESTS} requests to ${TARGET} in ${seconds}s (concurrency ${CONCURRENCY})\n`)
  for (const [status, entry] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    const avg = Math.round(entry.totalMs / entry.count)
    process.stdout.write(`  ${status}: ${String(entry.count).padStart(3)} requests, avg ${avg} ms  (${[...entry.routes].join(', ')})\n`)
  }
  if (failures > 0) process.stdout.write(`  network errors: ${failures} (${firstFailure?.cause?.code ?? firstFailure?.message})\n`)
  process.stdout.write('Now read logs/api.log and logs/api_structured.jsonl (jq -c \'select(.level != "INFO")\').\n')
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`)
  process.exit(1)
})
