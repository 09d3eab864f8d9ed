import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { apiCall, getRequestId, wrapApiCall } from '../dist/index.js'
import { buildApp, linesOf, type JsonRecord } from './helpers/app'

// wrapApiCall and @apiCall: the logApiCall lines for a function or a method defined once.

const priceOf = wrapApiCall('price_video', (seconds: number, rate: number) => seconds * rate)
const renderVideo = wrapApiCall('render_video', async (engine: string) => {
  await sleep(5)
  if (engine === 'unknown') throw new TypeError('Invalid engine specified')
  return { engine, requestId: getRequestId() }
})

class VideoService {
  readonly engines = new Set(['runway', 'pika'])

  @apiCall('create_video')
  async create (engine: string, seconds: number): Promise<{ engine: string, seconds: number }> {
    await sleep(5)
    if (!this.engines.has(engine)) throw new Error(`no engine ${engine}`)
    return { engine, seconds }
  }

  @apiCall('validate_video')
  validate (seconds: number): boolean {
    if (seconds > 60) throw new RangeError('too long')
    return this.engines.size > 0
  }
}

function calls (lines: JsonRecord[]): string[] {
  return lines.filter((line) => line.logger === 'api_call').map((line) => `${line.level} ${line.message.replace(/\([\d.]+ms\)/, '(Nms)')}`)
}

t.test('wrapApiCall logs every call of the function, sync and async, under the request id', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.post('/videos', async (request) => {
    const { engine, seconds } = request.body as { engine: string, seconds: number }
    const price = priceOf(seconds, 2)
    return { price, ...(await renderVideo(engine)) }
  })
  const ok = await app.inject({ method: 'POST', url: '/videos', payload: { engine: 'runway', seconds: 10 } })
  const id = ok.headers['x-request-id'] as string
  t.same(ok.json(), { price: 20, engine: 'runway', requestId: id }, 'the return values, and the request\'s context inside fn')
  const lines = await linesOf(app, logDir, id)
  t.same(calls(lines), [
    'INFO API call started: price_video',
    'INFO API call completed: price_video (Nms)',
    'INFO API call started: render_video',
    'INFO API call completed: render_video (Nms)'
  ])
  const rendered = lines.find((line) => line.message.startsWith('API call completed: render_video'))
  t.ok((rendered?.duration_ms as number) >= 4, 'duration_ms covers the awaited work')
  t.equal(rendered?.module, 'api-call-forms.test', 'the origin is the code that called the wrapped function')

  const failed = await app.inject({ method: 'POST', url: '/videos', payload: { engine: 'unknown', seconds: 1 } })
  t.equal(failed.statusCode, 500)
  const failure = (await linesOf(app, logDir, failed.headers['x-request-id'] as string)).find((line) => line.logger === 'api_call' && line.level === 'ERROR')
  t.match(failure, { message: 'API call failed: render_video - Invalid engine specified', operation: 'render_video', exception_type: 'TypeError' })
  t.type(failure?.duration_ms, 'number')
})

t.test('wrapApiCall keeps this, and rethrows the same error', async (t) => {
  const { app, logDir } = await buildApp(t)
  const boom = new Error('boom')
  const account = {
    balance: 5,
    withdraw: wrapApiCall('withdraw', function (this: { balance: number }, amount: number) {
      if (amount > this.balance) throw boom
      this.balance -= amount
      return this.balance
    })
  }
  app.post('/withdraw', async (request) => account.withdraw((request.body as { amount: number }).amount))
  t.equal((await app.inject({ method: 'POST', url: '/withdraw', payload: { amount: 2 } })).body, '3')
  const res = await app.inject({ method: 'POST', url: '/withdraw', payload: { amount: 9 } })
  t.equal(res.statusCode, 500)
  t.equal(account.balance, 3)
  t.throws(() => account.withdraw(99), boom, 'outside a request too, the same error')
  const lines = await linesOf(app, logDir, res.headers['x-request-id'] as string)
  t.same(calls(lines), ['INFO API call started: withdraw', 'ERROR API call failed: withdraw - boom'])
})

t.test('@apiCall logs every call of a class method, sync and async, with this kept', async (t) => {
  const { app, logDir } = await buildApp(t)
  const service = new VideoService()
  app.post('/videos', async (request) => {
    const { engine, seconds } = request.body as { engine: string, seconds: number }
    service.validate(seconds)
    return service.create(engine, seconds)
  })
  const ok = await app.inject({ method: 'POST', url: '/videos', payload: { engine: 'pika', seconds: 8 } })
  t.same(ok.json(), { engine: 'pika', seconds: 8 })
  const lines = await linesOf(app, logDir, ok.headers['x-request-id'] as string)
  t.same(calls(lines), [
    'INFO API call started: validate_video',
    'INFO API call completed: validate_video (Nms)',
    'INFO API call started: create_video',
    'INFO API call completed: create_video (Nms)'
  ])
  const created = lines.find((line) => line.message.startsWith('API call completed: create_video'))
  t.ok((created?.duration_ms as number) >= 4)
  t.equal(created?.operation, 'create_video')

  for (const [payload, message] of [
    [{ engine: 'pika', seconds: 90 }, 'API call failed: validate_video - too long'],
    [{ engine: 'veo', seconds: 5 }, 'API call failed: create_video - no engine veo']
  ] as const) {
    const res = await app.inject({ method: 'POST', url: '/videos', payload })
    t.equal(res.statusCode, 500)
    const failure = (await linesOf(app, logDir, res.headers['x-request-id'] as string)).find((line) => line.logger === 'api_call' && line.level === 'ERROR')
    t.match(failure, { message, exception_message: /./ })
  }
})

t.test('wrong use fails when the call is defined, not when it runs', async (t) => {
  t.throws(() => wrapApiCall('', () => 1), /wrapApiCall\(\): the operation name must be a non-empty string/)
  t.throws(() => wrapApiCall(undefined as unknown as string, () => 1), /got undefined/)
  t.throws(() => wrapApiCall('x', 'nope' as unknown as () => void), /expected a function to wrap, got string/)
  t.throws(() => apiCall(''), /@apiCall\(\): the operation name must be a non-empty string/)
  const decorate = apiCall('field') as unknown as (value: unknown, context: unknown) => unknown
  t.throws(() => decorate(undefined, { kind: 'field', name: 'x' }), /decorates class methods only, not a field/)
  t.throws(() => decorate({}, 'method'), /not a legacy \(experimentalDecorators\) member/)
})
