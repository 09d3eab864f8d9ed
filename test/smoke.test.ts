import t from 'tap'
import { buildApp, linesOf } from './helpers/app'

t.test('a request is logged', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/x', async () => ({ ok: true }))
  const res = await app.inject('/x')
  const lines = await linesOf(app, logDir, res.headers['x-request-id'] as string)
  t.equal(lines.length, 2)
})
