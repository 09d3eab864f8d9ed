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
