import { EventEmitter, once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { getLogger, getRequestId, logApiCall } from '../dist/index.js'
import { buildApp, linesOf, readJsonLines } from './helpers/app'

const db = getLogger('db')

t.test('getRequestId follows the request through await, timers, immediates and emitters', async (t) => {
  const { app } = await buildApp(t)
  app.post('/chain', async (request) => {
    const seen: Record<string, string | undefined> = { handler: getRequestId() }
    await sleep(5)
    seen.afterAwait = getRequestId()
    seen.timer = await new Promise((resolve) => setTimeout(() => resolve(getRequestId()), 1))
    seen.immediate = await new Promise((resolve) => setImmediate(() => resolve(getRequestId())))
    const emitter = new EventEmitter()
    const heard = new Promise<string | undefined>((resolve) => emitter.on('job', () => resolve(getRequestId())))
    setTimeout(() => emitter.emit('job'), 1)
    seen.emitter = await heard
    seen.nested = await (async () => { await Promise.resolve(); return getRequestId() })()
    return { id: request.id, seen }
  })
  t.equal(getRequestId(), undefined, 'undefined outside a request')
  const bodies = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    app.inject({ method: 'POST', url: '/chain', payload: { n: i } }).then((res) => res.json())))
  for (const body of bodies) {
    for (const [where, id] of Object.entries(body.seen)) t.equal(id, body.id, `${where} sees its own request`)
  }
  t.equal(getRequestId(), undefined, 'still undefined after the requests')
})

t.test('getLogger lines carry logger name, caller origin and the request id', async (t) => {
  const { app, logDir } = await buildApp(t)
  let callLine = 0
  app.get('/videos/:id', async (request) => {
    await sleep(1)
    callLine = new Error().stack!.split('\n')[1].match(/:(\d+):\d+\)?$/)![1] as unknown as number; db.info({ video: (request.params as { id: string }).id }, 'loading video')
    return 'ok'
  })
  const res = await app.inject('/videos/v-9')
  const id = res.headers['x-request-id'] as string
  const lines = await linesOf(app, logDir, id)
  const dbLine = lines.find((l) => l.logger === 'db')
  t.ok(dbLine, 'the db line is among the request\'s lines')
  t.match(dbLine, { level: 'INFO', message: 'loading video', module: 'context.test', request_id: id, video: 'v-9' })
  t.equal(dbLine!.line, Number(callLine), 'line is the caller\'s')
  t.same(lines.map((l) => l.logger), ['api', 'db', 'api'], 'in order, between start and completion')
})

t.test('getLogger outside a request: request_id null, or the one bound explicitly', async (t) => {
  const { app, logDir } = await buildApp(t)
  const jobs = getLogger('jobs')
  t.equal(getLogger('jobs'), jobs, 'one logger per name')
  jobs.info('tick')
  jobs.child({ request_id: 'req-from-queue', job: 7 }).warn('resumed')
  jobs.info({ level: 'custom', message: 'shadow', logger: 'x' }, 'collisions')
  await app.apiLogging.flush()
  const records = readJsonLines(logDir)
  t.match(records[0], { logger: 'jobs', message: 'tick', request_id: null })
  t.match(records[1], { logger: 'jobs', level: 'WARNING', message: 'resumed', request_id: 'req-from-queue', job: 7 })
  t.match(records[2], { logger: 'jobs', level: 'INFO', message: 'collisions', field_level: 'custom', field_message: 'shadow', field_logger: 'x' })
})

t.test('getLogger respects the configured level', async (t) => {
  const { app, logDir } = await buildApp(t, { level: 'ERROR' })
  const quiet = getLogger('quiet')
  t.equal(quiet.isLevelEnabled('info'), false)
  t.equal(quiet.isLevelEnabled('error'), true)
  quiet.info('no')
  quiet.error('yes')
  await app.apiLogging.flush()
  t.same(readJsonLines(logDir).map((r) => r.message), ['yes'])
})

t.test('request.log writes to the sinks with the request id', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/x', async (request) => {
    request.log.info('plain')
    request.log.info('formatted %s and %d', 'text', 42)
    request.log.warn({ user: 'ana', password: 'p4ss', nested: { authorization: 'Bearer x' } }, 'with context')
    request.log.error(new RangeError('out of range'))
    request.log.error({ err: new Error('wrapped') }, 'failed to do it')
    request.log.child({ component: 'billing' }).info('from a child')
    request.log.debug('below the level')
    t.equal(request.log.level, 'info')
    return 'ok'
  })
  const res = await app.inject('/x')
  const id = res.headers['x-request-id'] as string
  const lines = (await linesOf(app, logDir, id)).filter((l) => l.logger === 'app')
  t.same(lines.map((l) => l.message), ['plain', 'formatted text and 42', 'with context', 'out of range', 'failed to do it', 'from a child'])
  for (const line of lines) {
    t.equal(line.request_id, id)
    t.equal(line.module, 'context.test')
  }
  t.match(lines[2], { level: 'WARNING', user: 'ana', password: '[REDACTED]', nested: { authorization: '[REDACTED]' } })
  t.match(lines[3], { level: 'ERROR', exception_type: 'RangeError', exception_message: 'out of range' })
  t.match(lines[3].exception, /^RangeError: out of range\n\s+at /)
  t.match(lines[4], { exception_type: 'Error', exception_message: 'wrapped' })
  t.notOk('err' in lines[4], 'the error object is turned into exception fields')
  t.match(lines[5], { component: 'billing' })
})

t.test('logApiCall logs start and completion of sync and async calls and returns their result', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.post('/api/video/generate', async () => {
    const cost = logApiCall('calculate_cost', () => 42)
    const task = await logApiCall('create_video', async () => { await sleep(10); return { task: 't-1', cost } })
    return task
  })
  const res = await app.inject({ method: 'POST', url: '/api/video/generate', payload: {} })
  t.same(res.json(), { task: 't-1', cost: 42 })
  const id = res.headers['x-request-id'] as string
  const calls = (await linesOf(app, logDir, id)).filter((l) => l.logger === 'api_call')
  t.same(calls.map((l) => l.message.replace(/\([\d.]+ms\)/, '(Nms)')), [
    'API call started: calculate_cost',
    'API call completed: calculate_cost (Nms)',
    'API call started: create_video',
    'API call completed: create_video (Nms)'
  ])
  for (const call of calls) t.equal(call.module, 'context.test', 'origin is the caller of logApiCall')
  t.type(calls[3].duration_ms, 'number')
  t.ok((calls[3].duration_ms as number) >= 9, 'duration covers the awaited work')
  t.equal(calls[3].operation, 'create_video')
})

t.test('logApiCall logs failures with the exception and rethrows the same error', async (t) => {
  const { app, logDir } = await buildApp(t)
  const syncError = new Error('sync failure')
  const asyncError = new TypeError('Invalid engine specified')
  const thrown = t.throws(() => logApiCall('sync_op', () => { throw syncError }))
  t.equal(thrown, syncError)
  await t.rejects(logApiCall('async_op', async () => { await sleep(1); throw asyncError }), asyncError)
  await app.apiLogging.flush()
  const failures = readJsonLines(logDir).filter((r) => r.level === 'ERROR')
  t.equal(failures.length, 2)
  t.match(failures[0], { logger: 'api_call', message: 'API call failed: sync_op - sync failure', exception_type: 'Error', operation: 'sync_op', request_id: null })
  t.match(failures[1], { message: 'API call failed: async_op - Invalid engine specified', exception_type: 'TypeError' })
  t.match(failures[1].exception, /^TypeError: Invalid engine specified\n/)
})

t.test('concurrent requests never mix their ids', async (t) => {
  const { app, logDir } = await buildApp(t, { logRequestStart: false })
  const worker = getLogger('worker')
  app.get('/tasks/:n', async (request) => {
    const n = (request.params as { n: string }).n
    for (let step = 0; step < 3; step++) {
      await sleep(Math.floor(Math.random() * 5))
      worker.info({ n, step }, 'step')
    }
    const emitter = new EventEmitter()
    setImmediate(() => emitter.emit('done'))
    await once(emitter, 'done')
    return { n, id: request.id }
  })
  const results = await Promise.all(Array.from({ length: 60 }, (_, n) => app.inject(`/tasks/${n}`).then((res) => res.json())))
  await app.apiLogging.flush()
  const byN = new Map(results.map((r) => [String(r.n), r.id]))
  const steps = readJsonLines(logDir).filter((r) => r.logger === 'worker')
  t.equal(steps.length, 180)
  t.ok(steps.every((s) => s.request_id === byN.get(String(s.n))), 'every worker line carries its own request id')
})

t.test('an explicit request_id inside a request is kept as field_request_id; error codes are kept', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/x', async (request) => {
    request.log.info({ request_id: 'upstream-42' }, 'relayed')
    getLogger('io').error({ err: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) }, 'connect failed')
    return 'ok'
  })
  const res = await app.inject('/x')
  const lines = await linesOf(app, logDir, res.headers['x-request-id'] as string)
  t.match(lines.find((l) => l.message === 'relayed'), { request_id: res.headers['x-request-id'], field_request_id: 'upstream-42' })
  t.match(lines.find((l) => l.message === 'connect failed'), { exception_type: 'Error', exception_message: 'refused', exception_code: 'ECONNREFUSED' })
})

t.test('the plugin\'s own lines name the line of the statement that logged them (in lib/request-lines.ts)', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/x', async () => 'ok')
  const res = await app.inject('/x')
  const [start, end] = await linesOf(app, logDir, res.headers['x-request-id'] as string)
  const { readFileSync } = await import('node:fs')
  const { join } = await import('node:path')
  // With source maps on (tap runs with them) the line is the TypeScript source's, else the build's.
  const lines = (file: string): string[] => readFileSync(join(__dirname, '..', file), 'utf8').split('\n')
  const at = (line: number): string[] => [lines('lib/request-lines.ts')[line - 1], lines('dist/request-lines.js')[line - 1]]
  t.ok(at(start.line).some((text) => /START_SITE\.origin\(\)/.test(text ?? '')), `start line ${start.line} is the API Request statement`)
  t.ok(at(end.line).some((text) => /COMPLETION_SITE\.origin\(\)/.test(text ?? '')), `completion line ${end.line} is the API Response statement`)
})

t.test('request.log is a logger and nothing else: the plugin\'s bookkeeping is not on it', async (t) => {
  const { app } = await buildApp(t)
  app.get('/x', async (request) => {
    const log = request.log as unknown as Record<string | symbol, unknown>
    return {
      keys: Object.keys(log),
      symbols: Object.getOwnPropertySymbols(log).length,
      bookkeeping: ['request', 'reply', 'failure', 'responseBody', 'output', 'target', 'startedAt'].filter((name) => name in log),
      methods: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'child', 'isLevelEnabled'].every((name) => typeof log[name] === 'function'),
      level: request.log.level
    }
  })
  const body = (await app.inject('/x')).json()
  t.same(body, { keys: [], symbols: 0, bookkeeping: [], methods: true, level: 'info' })
})

t.test('request.log.level: raised per request, never below the plugin\'s level', async (t) => {
  const { app, logDir } = await buildApp(t, { level: 'INFO' })
  app.get('/x', async (request) => {
    const log = request.log as typeof request.log & { isLevelEnabled: (level: string) => boolean }
    const before = [log.isLevelEnabled('debug'), log.isLevelEnabled('info')]
    request.log.level = 'debug'
    const lowered = request.log.level
    request.log.level = 'warn'
    request.log.info('hidden')
    request.log.warn('shown')
    t.throws(() => { request.log.level = 'loud' }, /unknown level loud/)
    return { before, lowered, after: request.log.level, warnOn: log.isLevelEnabled('warn'), bogus: log.isLevelEnabled('loud') }
  })
  const res = await app.inject('/x')
  t.same(res.json(), { before: [false, true], lowered: 'info', after: 'warn', warnOn: true, bogus: false })
  const messages = (await linesOf(app, logDir, res.headers['x-request-id'] as string)).filter((r) => r.logger === 'app').map((r) => r.message)
  t.same(messages, ['shown'])
})

t.test('warning() and critical(): the guide\'s level names on every logger', async (t) => {
  const { app, logDir } = await buildApp(t, { level: 'DEBUG' })
  app.get('/x', async (request) => {
    request.log.warning('request warning')
    request.log.critical({ code: 7 }, 'request critical')
    request.log.child({ part: 'c' }).warning('child of request.log')
    return 'ok'
  })
  const res = await app.inject('/x')
  const log = getLogger('guide')
  log.warning('named warning %d', 1)
  log.critical(new Error('named critical'))
  log.child({ a: 1 }).warning('child warning')
  app.apiLogging.getLogger('bound').critical('bound critical')
  t.equal(typeof app.log.warning, 'function', 'Fastify\'s own logger has them too')
  t.equal(typeof app.log.child({}).critical, 'function', 'and its children')
  await app.apiLogging.flush()
  const lines = readJsonLines(logDir)
  const byMessage = (message: string): Record<string, unknown> | undefined => lines.find((line) => line.message === message)
  t.match(byMessage('request warning'), { level: 'WARNING', logger: 'app', request_id: res.headers['x-request-id'], module: 'context.test' })
  t.match(byMessage('request critical'), { level: 'CRITICAL', code: 7 })
  t.match(byMessage('child of request.log'), { level: 'WARNING', part: 'c', request_id: res.headers['x-request-id'] })
  t.match(byMessage('named warning 1'), { level: 'WARNING', logger: 'guide', module: 'context.test' })
  t.match(byMessage('named critical'), { level: 'CRITICAL', exception_type: 'Error' })
  t.match(byMessage('child warning'), { level: 'WARNING', a: 1 })
  t.match(byMessage('bound critical'), { level: 'CRITICAL', logger: 'bound' })
})
