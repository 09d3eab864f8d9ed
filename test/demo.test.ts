import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { readJsonLines, tempDir, type JsonRecord } from './helpers/app'
import { PACKAGE_ROOT, start } from './helpers/child'

// The music-dashboard demo, booted for real (`node examples/music-dashboard/server.js`), driven
// over HTTP, stopped with SIGTERM; then its log files are read.
const SERVER = join(PACKAGE_ROOT, 'examples', 'music-dashboard', 'server.js')
const API_KEY = 'sk-demo-secret-123'
const BEARER = 'demo-bearer-7f3c9a1e5b2d4f6a8c0e'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

interface Answer {
  status: number
  id: string
  body: any
}

t.test('music-dashboard demo: routes, request ids, redaction, errors, slow requests, background job, SIGTERM', async (t) => {
  const logDir = tempDir(t, 'demo-logs-')
  const cwd = tempDir(t, 'demo-cwd-') // no stray .env is read from here
  const server = start(process.execPath, [SERVER], {
    cwd,
    timeoutMs: 30_000,
    env: {
      PORT: '0',
      HOST: undefined,
      LOG_DIR: logDir,
      DB_PATH: ':memory:',
      JOB_INTERVAL_MS: '100',
      TRENDS_DELAY_MS: '1100',
      ENABLE_CONSOLE_LOGGING: 'false',
      // More than the defaults, so redaction is tested where secrets would otherwise appear.
      LOG_LEVEL: 'DEBUG',
      LOG_HEADERS: 'true',
      LOG_RESPONSE_BODY: 'true'
    }
  })
  t.teardown(() => { if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL') })
  const listening = await server.waitForLine(/^listening on http:\/\/127\.0\.0\.1:(\d+) .*SQLite through (\S+)\)$/)
  const port = Number(listening[1])
  t.ok(port > 0, `listening on ${port}`)
  // Node's own SQLite where the line has it (no native addon), better-sqlite3 on Node 20.
  const [major, minor] = process.versions.node.split('.').map(Number)
  t.equal(listening[2], major > 22 || (major === 22 && minor >= 13) ? 'node:sqlite' : 'better-sqlite3', `the SQLite driver for Node ${process.versions.node}`)
  const base = `http://127.0.0.1:${port}`

  const answers: Answer[] = []
  async function call (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await res.text()
    const answer = { status: res.status, id: res.headers.get('x-request-id') ?? '', body: text === '' ? null : JSON.parse(text) }
    answers.push(answer)
    return answer
  }

  const overview = await call('GET', '/api/dashboard/overview')
  t.equal(overview.status, 200)
  t.match(overview.body, { agents: 4, videos: 0, pending: 0 })

  const agents = await call('GET', '/api/agents/status?include_metrics=true')
  t.equal(agents.status, 200)
  t.equal(agents.body.agents.length, 4)
  t.type(agents.body.agents[0].metrics.tasks_completed, 'number', 'metrics when asked')
  const agentsPlain = await call('GET', '/api/agents/status')
  t.equal(agentsPlain.body.agents[0].metrics, undefined, 'no metrics otherwise')

  const cost = await call('POST', '/api/storyboard/video/calculate-cost', { duration: 180, engine: 'runway_gen3' })
  t.equal(cost.status, 200)
  t.same(cost.body, { engine: 'runway_gen3', duration: 180, cost_usd: 9 })
  const badCost = await call('POST', '/api/storyboard/video/calculate-cost', { duration: 180, engine: 'veo_ultra' })
  t.equal(badCost.status, 400, 'unsupported engine on calculate-cost: 400 from validation')
  const badDuration = await call('POST', '/api/storyboard/video/calculate-cost', { duration: 601, engine: 'pika_1' })
  t.equal(badDuration.status, 400, 'duration out of range: 400')

  const generated = await call('POST', '/api/video/generate', { engine: 'pika_1', duration: 60, prompt: 'neon city at night' })
  t.equal(generated.status, 200)
  t.match(generated.body, { id: Number, status: 'pending' })
  const taskId: number = generated.body.id
  const failed = await call('POST', '/api/video/generate', { engine: 'unknown_engine', duration: 30 })
  t.equal(failed.status, 500, 'unsupported engine on generate: 500')

  const found = await call('GET', `/api/videos/${taskId}`)
  t.equal(found.status, 200)
  t.match(found.body, { id: taskId, engine: 'pika_1', duration: 60 })
  const missing = await call('GET', '/api/videos/999999')
  t.equal(missing.status, 404)
  t.same(missing.body, { error: 'video not found' })

  const trends = await call('GET', '/api/metrics/trends')
  t.equal(trends.status, 200)

  const integration = await call('POST', '/api/integrations',
    { provider: 'runway', api_key: API_KEY, webhook_url: 'https://hooks.example.com/runway' },
    { authorization: `Bearer ${BEARER}` })
  t.equal(integration.status, 200)
  t.same(integration.body, { saved: true, provider: 'runway' })

  const health = await call('GET', '/health')
  t.equal(health.status, 200)
  t.same(health.body, { status: 'ok' })

  // The background job completes the task (JOB_INTERVAL_MS=100).
  let status = found.body.status as string
  const deadline = Date.now() + 5000
  while (status !== 'completed' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    status = (await call('GET', `/api/videos/${taskId}`)).body.status
  }
  t.equal(status, 'completed', 'the background job completed the task')

  for (const answer of answers) t.match(answer.id, UUID, `x-request-id on a ${answer.status}`)
  t.equal(new Set(answers.map((a) => a.id)).size, answers.length, 'one id per request')

  server.child.kill('SIGTERM')
  const exit = await server.result
  t.equal(exit.code, 0, `exit code 0 after SIGTERM (stderr: ${exit.stderr.slice(0, 500)})`)
  t.equal(exit.signal, null)

  // ---- the logs ----
  const files = readdirSync(logDir).sort()
  t.same(files, ['api.log', 'api_structured.jsonl'])
  const records = readJsonLines(logDir)
  const text = readFileSync(join(logDir, 'api.log'), 'utf8')
  const json = readFileSync(join(logDir, 'api_structured.jsonl'), 'utf8')
  t.ok(records.length > 40, `${records.length} JSON lines`)
  t.equal(text.split('\n').filter(Boolean).length, records.length, 'as many lines in api.log')

  const find = (what: string, test: (r: JsonRecord) => boolean): JsonRecord => {
    const hit = records.find(test)
    t.ok(hit, what)
    return hit ?? ({} as JsonRecord)
  }
  const completion = (answer: Answer): JsonRecord =>
    find(`completion line of the ${answer.status}`, (r) => r.request_id === answer.id && r.logger === 'api' && /^API (Response|Error): /.test(r.message))

  // Every answered request (but /health) has its arrival and completion lines on disk.
  for (const answer of answers.filter((a) => a !== health)) {
    const lines = records.filter((r) => r.request_id === answer.id && r.logger === 'api')
    t.equal(lines.filter((r) => r.message.startsWith('API Request: ')).length, 1, `arrival line of ${answer.id}`)
    t.equal(lines.filter((r) => /^API (Response|Error): .* - \d{3}$/.test(r.message) && r.status_code === answer.status).length, 1, `completion line of ${answer.id}`)
  }

  // getLogger('db') and logApiCall lines carry the request's id with nothing passed.
  const generateLine = completion(generated)
  t.equal(generateLine.message, 'API Response: POST /api/video/generate - 200')
  const saved = find('db: Saved video task', (r) => r.logger === 'db' && r.message === 'Saved video task' && r.task_id === taskId)
  t.equal(saved.request_id, generated.id, 'the db line has the generate request id')
  t.match(saved, { engine: 'pika_1', duration: 60, module: 'db', function: 'saveVideoTask' })
  const apiCalls = records.filter((r) => r.logger === 'api_call' && r.request_id === generated.id).map((r) => r.message)
  t.equal(apiCalls.length, 2)
  t.equal(apiCalls[0], 'API call started: create_video')
  t.match(apiCalls[1], /^API call completed: create_video \(\d+(\.\d+)?ms\)$/)
  const requestIds = new Set(answers.map((a) => a.id))
  const dbInRequests = records.filter((r) => r.logger === 'db' && r.request_id !== null)
  t.ok(dbInRequests.length >= 5, `${dbInRequests.length} db lines inside requests`)
  t.ok(dbInRequests.every((r) => requestIds.has(r.request_id as string)), 'each one carries the id of a request that was made')
  t.equal(find('db: Loaded video task of the 404', (r) => r.logger === 'db' && r.task_id === 999999).request_id, missing.id)

  // The background job runs outside any request.
  const jobLine = find('jobs: Video task completed', (r) => r.logger === 'jobs' && r.message === 'Video task completed' && r.task_id === taskId)
  t.equal(jobLine.request_id, null, 'the jobs line has request_id null')
  t.equal(find('db: status update by the job', (r) => r.logger === 'db' && r.message === 'Updated video task status' && r.task_id === taskId).request_id, null)
  t.ok(records.filter((r) => r.logger === 'jobs').every((r) => r.request_id === null), 'every jobs line has request_id null')
  t.equal(records[records.length - 1].message, 'Video job stopped', 'the line logged during shutdown is the last one on disk')

  // Secrets appear nowhere: not in the files, not on stdout/stderr.
  for (const [name, content] of [['api.log', text], ['api_structured.jsonl', json], ['stdout', exit.stdout], ['stderr', exit.stderr]]) {
    t.notOk(content.includes(API_KEY), `api_key not in ${name}`)
    t.notOk(content.includes(BEARER), `Bearer token not in ${name}`)
  }
  const integrationLine = completion(integration)
  t.equal(integrationLine.message, 'API Response: POST /api/integrations - 200')
  t.same(integrationLine.request_body, { provider: 'runway', api_key: '[REDACTED]', webhook_url: 'https://hooks.example.com/runway' })
  t.equal((integrationLine.request_headers as Record<string, string>).authorization, '[REDACTED]', 'Authorization header redacted')
  t.same(integrationLine.response_body, { saved: true, provider: 'runway' })
  t.match(find('app: Integration saved', (r) => r.logger === 'app' && r.message === 'Integration saved'), { request_id: integration.id, api_key: '[REDACTED]' })
  t.match(text, / API Response: POST \/api\/integrations - 200 .*request_body=\{"provider":"runway","api_key":"\[REDACTED\]"/)

  // The 500: exception and message on its completion line; the stack once, on the failed
  // logApiCall's line, which the completion line names.
  const errorLine = completion(failed)
  t.match(errorLine, {
    level: 'ERROR',
    message: 'API Error: POST /api/video/generate - 500',
    error_class: 'server_error',
    exception_type: 'Error',
    exception_message: 'Invalid engine specified',
    exception_logged_by: 'api_call'
  })
  t.notOk('exception' in errorLine, 'the stack is not written twice')
  const callFailed = find('api_call: failed', (r) => r.logger === 'api_call' && r.request_id === failed.id && r.level === 'ERROR')
  t.match(callFailed, { message: 'API call failed: create_video - Invalid engine specified', exception_type: 'Error' })
  t.match(callFailed?.exception, /^Error: Invalid engine specified\n\s+at .*music-dashboard[\\/]app\.js:\d+/)

  // The 400s from validation: WARNING, client_error, no stack.
  for (const answer of [badCost, badDuration]) {
    const line = completion(answer)
    t.match(line, { level: 'WARNING', message: 'API Error: POST /api/storyboard/video/calculate-cost - 400', error_class: 'client_error', exception_code: 'FST_ERR_VALIDATION' })
    t.equal(line.exception, undefined, 'no stack for a 4xx')
  }
  t.match(completion(missing), { level: 'WARNING', status_code: 404, error_class: 'client_error', endpoint: '/api/videos/:id' })

  // The slow request.
  const slow = find('Slow API Request line', (r) => r.request_id === trends.id && r.message.startsWith('Slow API Request: '))
  t.equal(slow.level, 'WARNING')
  t.match(slow.message, /^Slow API Request: GET \/api\/metrics\/trends - \d+ms$/)
  const trendsLine = completion(trends)
  t.equal(trendsLine.slow_request, true)
  t.ok((trendsLine.response_time_ms as number) > 1000, `response_time_ms ${String(trendsLine.response_time_ms)}`)
  t.equal(slow.slow_threshold_ms, 1000)

  // /health is excluded, id included.
  t.notOk(text.includes('/health'), 'no api.log line mentions /health')
  t.notOk(json.includes('/health'), 'no JSON line mentions /health')
  t.notOk(json.includes(health.id), 'nor its request id')
})
