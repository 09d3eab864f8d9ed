import t from 'tap'
import { getLogger } from '../dist/index.js'
import { buildApp, linesOf, readJsonLines, readTextLines } from './helpers/app'

const SENSITIVE = ['password', 'secret', 'token', 'api_key', 'access_token', 'refresh_token', 'authorization', 'credit_card', 'ssn', 'cookie', 'set-cookie']

function spellings (key: string): string[] {
  const camel = key.replace(/[-_](\w)/g, (_m, c: string) => c.toUpperCase())
  return [...new Set([key, key.toUpperCase(), camel, key.replace(/[-_]/g, '-'), `X-${key.replace(/_/g, '-')}`])]
}

t.test('every sensitive key is redacted at any depth and in any spelling, in every sink', async (t) => {
  const { app, logDir } = await buildApp(t, { logResponseBody: true })
  app.post('/echo', async (request) => request.body)
  let n = 0
  const canaries: string[] = []
  for (const key of SENSITIVE) {
    for (const name of spellings(key)) {
      const canary = `canary-${n++}-x`
      canaries.push(canary)
      const body = { level1: [{ level2: { [name]: canary } }], [name]: { nested: canary }, items: [[{ [name]: canary }]] }
      const res = await app.inject({ method: 'POST', url: `/echo?${encodeURIComponent(name)}=${canary}`, payload: body })
      t.same(res.json(), body, 'the application and the client see the real values')
      const [start, end] = await linesOf(app, logDir, res.headers['x-request-id'] as string)
      t.equal(start.path, `/echo?${encodeURIComponent(name)}=[REDACTED]`, `${name} in the query`)
      t.same(end.request_body, { level1: [{ level2: { [name]: '[REDACTED]' } }], [name]: '[REDACTED]', items: [[{ [name]: '[REDACTED]' }]] }, `${name} in the body`)
      t.same(end.response_body, end.request_body, `${name} in the response body`)
    }
  }
  await app.close()
  const everything = readTextLines(logDir).join('\n') + '\n' + readJsonLines(logDir).map((r) => JSON.stringify(r)).join('\n')
  for (const canary of canaries) t.notOk(everything.includes(canary), `${canary} reached no sink`)
})

t.test('similar but harmless keys stay visible', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.post('/echo', async () => 'ok')
  const body = { token_count: 5, tokenizer: 'bpe', author: 'ana', passage: 'text', secretary: 'bob' }
  const res = await app.inject({ method: 'POST', url: '/echo', payload: body })
  const [, end] = await linesOf(app, logDir, res.headers['x-request-id'] as string)
  t.same(end.request_body, { token_count: 5, tokenizer: 'bpe', author: 'ana', passage: 'text', secretary: '[REDACTED]' },
    'keys that contain "secret" are redacted; token_count and tokenizer are not')
})

t.test('values logged by application code are redacted without touching the objects', async (t) => {
  const { app, logDir } = await buildApp(t)
  const payment = { amount: 10, card: { credit_card: '4111111111111111', holder: 'Ana' } }
  const circular: Record<string, unknown> = { name: 'loop', password: 'pw' }
  circular.self = circular
  const log = getLogger('payments')
  log.info({ payment, circular }, 'charged')
  t.equal(payment.card.credit_card, '4111111111111111', 'the caller\'s object is not mutated')
  t.equal(circular.password, 'pw')
  await app.apiLogging.flush()
  const [record] = readJsonLines(logDir)
  t.same(record.payment, { amount: 10, card: { credit_card: '[REDACTED]', holder: 'Ana' } })
  t.same(record.circular, { name: 'loop', password: '[REDACTED]', self: '[Circular]' })
})

t.test('hostile values do not break the line', async (t) => {
  const { app, logDir } = await buildApp(t)
  const hostile = {
    big: 10n,
    get boom (): string { throw new Error('getter exploded') },
    json: { toJSON (): never { throw new Error('toJSON exploded') } },
    fn () {},
    buffer: Buffer.alloc(2048),
    when: new Date(0)
  }
  getLogger('hostile').info({ hostile }, 'still one line')
  await app.apiLogging.flush()
  const [record] = readJsonLines(logDir)
  t.same(record.hostile, {
    big: '10',
    boom: '[Unreadable: getter exploded]',
    json: '[Unserializable: toJSON exploded]',
    fn: '[Function fn]',
    buffer: '[Buffer 2048 bytes]',
    when: '1970-01-01T00:00:00.000Z'
  })
})

t.test('secrets in known shapes are found inside any string', async (t) => {
  const { app, logDir } = await buildApp(t)
  const log = getLogger('shapes')
  const cases: Array<[string, string]> = [
    ['Authorization: Bearer abc.def-ghi', 'Authorization: Bearer [REDACTED]'],
    ['proxy sent Basic dXNlcjpwYXNzd29yZA==', 'proxy sent Basic [REDACTED]'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln here', 'jwt [REDACTED] here'],
    ['paid with 4111 1111 1111 1111 today', 'paid with [REDACTED] today'],
    ['paid with 4111-1111-1111-1111', 'paid with [REDACTED]'],
    ['order 1234 5678 9012 3456 is not a card (Luhn fails)', 'order 1234 5678 9012 3456 is not a card (Luhn fails)'],
    ['db at postgres://app:s3cr3t@db.internal:5432/app', 'db at postgres://[REDACTED]@db.internal:5432/app'],
    ['retry /cb?code=1&access_token=at-9&state=x', 'retry /cb?code=1&access_token=[REDACTED]&state=x'],
    ['login failed password=hunter2 for ana', 'login failed password=[REDACTED] for ana'],
    ['config {"client_secret":"cs-1","region":"eu"}', 'config {"client_secret":"[REDACTED]","region":"eu"}'],
    ['X-Api-Key: k-123, retry 2', 'X-Api-Key: [REDACTED], retry 2'],
    ['next=https://u:pw@host/x', 'next=https://[REDACTED]@host/x'],
    ['token_count: 5, tokenizer=bpe, Basic plan', 'token_count: 5, tokenizer=bpe, Basic plan'],
    ['at handler (/srv/app/routes/users.js:10:40)', 'at handler (/srv/app/routes/users.js:10:40)']
  ]
  for (const [input] of cases) log.info({ note: input }, input)
  await app.apiLogging.flush()
  const records = readJsonLines(logDir)
  cases.forEach(([input, expected], i) => {
    t.equal(records[i].message, expected, `message: ${input}`)
    t.equal(records[i].note, expected, `field: ${input}`)
  })
})

t.test('LOG_REDACT_KEYS adds names; redactKeysReplaceDefaults replaces them; LOG_REDACT_VALUES=false keeps only keys', async (t) => {
  const body = { tenantId: 't-1', password: 'pw', note: 'Bearer b-1' }
  const added = await buildApp(t, { redactKeys: ['tenant_id'] })
  added.app.post('/x', async () => 'ok')
  let res = await added.app.inject({ method: 'POST', url: '/x', payload: body })
  let [, end] = await linesOf(added.app, added.logDir, res.headers['x-request-id'] as string)
  t.same(end.request_body, { tenantId: '[REDACTED]', password: '[REDACTED]', note: 'Bearer [REDACTED]' })

  const replaced = await buildApp(t, { redactKeys: ['tenantId'], redactKeysReplaceDefaults: true })
  replaced.app.post('/x', async () => 'ok')
  res = await replaced.app.inject({ method: 'POST', url: '/x', payload: body })
  ;[, end] = await linesOf(replaced.app, replaced.logDir, res.headers['x-request-id'] as string)
  t.same(end.request_body, { tenantId: '[REDACTED]', password: 'pw', note: 'Bearer [REDACTED]' }, 'the defaults no longer apply; shapes still do')

  const keysOnly = await buildApp(t, { redactValues: false })
  keysOnly.app.post('/x', async () => 'ok')
  res = await keysOnly.app.inject({ method: 'POST', url: '/x', payload: body })
  ;[, end] = await linesOf(keysOnly.app, keysOnly.logDir, res.headers['x-request-id'] as string)
  t.same(end.request_body, { tenantId: 't-1', password: '[REDACTED]', note: 'Bearer b-1' }, 'keys only')
})

t.test('errors: messages, stacks and cause chains are searched too', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/fail', async () => {
    throw new Error('upstream refused token=tk-1', { cause: new Error('Bearer cause-secret') })
  })
  getLogger('errors').error({ err: new Error('boom', { cause: Object.assign(new Error('inner'), { apiKey: 'ak-1', url: 'https://u:pw-1@h/' }) }) }, 'wrapped')
  const res = await app.inject('/fail')
  await app.close()
  const all = readJsonLines(logDir).map((r) => JSON.stringify(r)).join('\n') + readTextLines(logDir).join('\n')
  t.notMatch(all, /tk-1|cause-secret|ak-1|pw-1/, 'no secret from an error reaches a file')
  const end = readJsonLines(logDir).find((r) => r.request_id === res.headers['x-request-id'] && r.status_code === 500)
  t.equal(end?.exception_message, 'upstream refused token=[REDACTED]')
  const wrapped = readJsonLines(logDir).find((r) => r.message === 'wrapped')
  t.match(wrapped?.exception_cause, { type: 'Error', message: 'inner', apiKey: '[REDACTED]', url: 'https://[REDACTED]@h/' })
})

t.test('headers when LOG_HEADERS is on: sensitive ones redacted, long values cut', async (t) => {
  const { app, logDir } = await buildApp(t, { logHeaders: true })
  app.get('/h', async (_request, reply) => reply.header('set-cookie', 'sid=s-1; HttpOnly').header('x-trace', 'ok').send('ok'))
  const res = await app.inject({ url: '/h', headers: { authorization: 'Bearer hb-1', cookie: 'sid=c-1', 'x-api-key': 'xk-1', 'x-csrf-token': 'cs-1', 'x-long': 'y'.repeat(5000), 'x-note': 'Basic bm90ZTpzZWNyZXQ=' } })
  const [, end] = await linesOf(app, logDir, res.headers['x-request-id'] as string)
  t.match(end.request_headers, { authorization: '[REDACTED]', cookie: '[REDACTED]', 'x-api-key': '[REDACTED]', 'x-csrf-token': '[REDACTED]', 'x-note': 'Basic [REDACTED]' })
  t.ok(((end.request_headers as Record<string, string>)['x-long']).length < 400, 'a 5,000-byte header value is cut')
  t.match(end.response_headers, { 'set-cookie': '[REDACTED]', 'x-trace': 'ok' })
})
