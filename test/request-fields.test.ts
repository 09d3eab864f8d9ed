import t from 'tap'
import { buildApp, linesOf, readJsonLines, readTextLines } from './helpers/app'
import { ERR_INVALID_CONFIG, loadConfig } from '../dist/index.js'

// LOG_REQUEST_HEADERS (chosen request headers on the completion line) and the extraFields
// register option (the application's own fields there).

function completion (lines: Array<{ message: string }>): Record<string, unknown> {
  return lines.find((line) => /^API (Response|Error)/.test(line.message)) as Record<string, unknown>
}

t.test('LOG_REQUEST_HEADERS adds the named headers, in lower case, redacted', async (t) => {
  const { app, logDir } = await buildApp(t, { logRequestHeaders: ['X-Tenant', 'accept', 'Authorization', 'x-absent', 'x-tenant'] })
  app.get('/orders', async () => [])
  const res = await app.inject({
    url: '/orders',
    headers: { 'x-tenant': 'acme', accept: 'application/json', authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig', cookie: 'session=abc', 'x-long': 'a'.repeat(600) }
  })
  const line = completion(await linesOf(app, logDir, res.headers['x-request-id'] as string))
  t.same(line.request_headers, { 'x-tenant': 'acme', accept: 'application/json', authorization: '[REDACTED]' }, 'only the named ones, once each')
  t.equal(app.apiLogging.config.logRequestHeaders.join(','), 'x-tenant,accept,authorization,x-absent', 'lower case, each once')
  t.match(readTextLines(logDir).find((text) => text.includes('API Response')), /request_headers=\{"x-tenant":"acme"/)
})

t.test('a value is cut as every logged header is; a request with none of the names gets no field', async (t) => {
  const { app, logDir } = await buildApp(t, { logRequestHeaders: ['x-trace'] })
  app.get('/', async () => 'ok')
  const long = await app.inject({ url: '/', headers: { 'x-trace': 'z'.repeat(5000) } })
  const field = completion(await linesOf(app, logDir, long.headers['x-request-id'] as string)).request_headers as Record<string, string>
  t.ok(field['x-trace'].length < 400, `cut (${field['x-trace'].length} characters)`)
  const none = await app.inject({ url: '/' })
  t.notOk('request_headers' in completion(await linesOf(app, logDir, none.headers['x-request-id'] as string)))
})

t.test('LOG_HEADERS=true still logs every header, whatever the list', async (t) => {
  const { app, logDir } = await buildApp(t, { logHeaders: true, logRequestHeaders: ['x-tenant'] })
  app.get('/', async () => 'ok')
  const res = await app.inject({ url: '/', headers: { 'x-tenant': 'acme', 'x-other': '1' } })
  t.match(completion(await linesOf(app, logDir, res.headers['x-request-id'] as string)).request_headers, { 'x-tenant': 'acme', 'x-other': '1' })
})

t.test('LOG_REQUEST_HEADERS from the environment; a bad name fails with the others', async (t) => {
  t.same(loadConfig({ envFile: false, logRequestHeaders: undefined }).logRequestHeaders, [], 'none by default')
  process.env.LOG_REQUEST_HEADERS = ' X-Tenant , accept-language ,'
  t.teardown(() => { delete process.env.LOG_REQUEST_HEADERS })
  t.same(loadConfig({ envFile: false }).logRequestHeaders, ['x-tenant', 'accept-language'])
  process.env.LOG_REQUEST_HEADERS = 'x-tenant,bad header'
  const err = t.throws(() => loadConfig({ envFile: false })) as Error & { code: string }
  t.equal(err.code, ERR_INVALID_CONFIG)
  t.match(err.message, 'LOG_REQUEST_HEADERS="x-tenant,bad header" (from environment) must be a comma-separated list of HTTP header names')
})

t.test('extraFields adds the application\'s fields, redacted, in both files', async (t) => {
  const { app, logDir } = await buildApp(t, {
    extraFields (request) {
      const user = (request as unknown as { user?: { id: number, tenant: string, token: string } }).user
      return user === undefined ? undefined : { user_id: user.id, tenant: user.tenant, api_token: user.token, account: { id: 's-1', password: 'p' }, note: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig' }
    }
  })
  app.decorateRequest('user', null)
  app.addHook('preHandler', async (request) => {
    if (request.headers['x-user'] !== undefined) (request as unknown as { user: object }).user = { id: 42, tenant: 'acme', token: 'sk-live-1' }
  })
  app.get('/me', async () => ({ ok: true }))
  const res = await app.inject({ url: '/me', headers: { 'x-user': '1' } })
  const line = completion(await linesOf(app, logDir, res.headers['x-request-id'] as string))
  t.match(line, { user_id: 42, tenant: 'acme', api_token: '[REDACTED]', account: { id: 's-1', password: '[REDACTED]' }, status_code: 200 })
  t.notMatch(String(line.note), /eyJ/, 'secrets inside strings too')
  t.match(readTextLines(logDir).find((text) => text.includes('API Response')), /user_id=42 tenant=acme/)
  const anonymous = await app.inject({ url: '/me' })
  t.notOk('user_id' in completion(await linesOf(app, logDir, anonymous.headers['x-request-id'] as string)), 'nothing returned, nothing added')
})

t.test('extraFields cannot overwrite the line\'s own fields', async (t) => {
  const { app, logDir } = await buildApp(t, { extraFields: () => ({ status_code: 999, request_id: 'forged', message: 'forged', aborted: 'x', tenant: 't' }) })
  app.get('/', async () => 'ok')
  const res = await app.inject({ url: '/' })
  const id = res.headers['x-request-id'] as string
  const line = completion(await linesOf(app, logDir, id))
  t.match(line, { status_code: 200, request_id: id, field_status_code: 999, field_request_id: 'forged', field_message: 'forged', field_aborted: 'x', tenant: 't' })
  t.match(line.message, /^API Response: GET \/ - 200$/)
})

t.test('a throwing or wrong extraFields keeps the response and its line, says so once, and is counted', async (t) => {
  const notAnError: unknown = 'a string' // applications throw anything
  const answers: Array<() => unknown> = [
    () => { throw new Error('login failed for password=hunter2') },
    () => 'tenant-a',
    () => [1, 2],
    async () => ({ tenant: 'a' }),
    () => ({ get tenant () { throw new Error('getter') } }),
    () => { throw notAnError }
  ]
  let call = 0
  const { app, logDir } = await buildApp(t, { extraFields: () => answers[call++]() as Record<string, unknown> })
  app.get('/', async () => ({ ok: true }))
  const ids: string[] = []
  for (let i = 0; i < answers.length; i++) {
    const res = await app.inject({ url: '/' })
    t.equal(res.statusCode, 200, `response ${i} unharmed`)
    t.same(res.json(), { ok: true })
    ids.push(res.headers['x-request-id'] as string)
  }
  await app.apiLogging.flush()
  const all = readJsonLines(logDir)
  const errors = ids.map((id) => completion(all.filter((line) => line.request_id === id)).extra_fields_error as string)
  t.match(errors, [
    /^extraFields\(\) threw Error: login failed for password=/,
    'extraFields() must return an object, got string',
    'extraFields() must return an object, got an array',
    /not a promise/,
    undefined,
    'extraFields() threw string: a string'
  ])
  t.notMatch(errors[0], /hunter2/, 'the error message is redacted too')
  const withGetter = completion(all.filter((line) => line.request_id === ids[4]))
  t.type(withGetter.tenant, 'string', `a throwing getter is caught by the redactor: ${String(withGetter.tenant)}`)
  const warnings = all.filter((line) => line.function === 'extraFields')
  t.equal(warnings.length, 1, 'one WARNING line, for the first failure')
  t.match(warnings[0], { level: 'WARNING', logger: 'api', message: /^extraFields\(\) threw Error: .*the completion lines carry extra_fields_error/ })
  t.equal(app.apiLogging.stats().extraFieldsErrors, answers.length - 1)
})

t.test('extraFields that is not a function fails register', async (t) => {
  await t.rejects(buildApp(t, { extraFields: { user: 1 } as never }), { code: ERR_INVALID_CONFIG, message: /option extraFields: must be a function \(request, reply\).*got object/ })
})

t.test('with route options: a route\'s headers replace LOG_REQUEST_HEADERS, extraFields serves every route, its failures counted once for all', async (t) => {
  let fail = false
  const { app, logDir } = await buildApp(t, {
    logRequestHeaders: ['x-tenant'],
    extraFields: () => {
      if (fail) throw new Error('no user')
      return { plan: 'pro' }
    }
  })
  app.get('/plain', async () => 'ok')
  app.get('/own', { config: { apiLogging: { headers: ['x-region'], level: 'DEBUG' } } }, async () => 'ok')
  const headers = { 'x-tenant': 'acme', 'x-region': 'eu' }
  const plain = completion(await linesOf(app, logDir, (await app.inject({ url: '/plain', headers })).headers['x-request-id'] as string))
  const own = completion(await linesOf(app, logDir, (await app.inject({ url: '/own', headers })).headers['x-request-id'] as string))
  t.same(plain.request_headers, { 'x-tenant': 'acme' }, 'the global list')
  t.same(own.request_headers, { 'x-region': 'eu' }, 'the route\'s list instead')
  t.equal(plain.plan, 'pro')
  t.equal(own.plan, 'pro', 'a route with options has the fields too')

  fail = true
  await app.inject({ url: '/plain' })
  await app.inject({ url: '/own' })
  await app.inject({ url: '/own' })
  await app.apiLogging.flush()
  t.equal(app.apiLogging.stats().extraFieldsErrors, 3, 'one count for the registration')
  const warnings = readJsonLines(logDir).filter((line) => line.level === 'WARNING' && line.message.includes('extra_fields_error'))
  t.equal(warnings.length, 1, 'the first failure said once, not once per route')
})
