import t, { type Test } from 'tap'
import Fastify from 'fastify'
import apiLogging, { getLogger } from '../dist/index.js'
import { readJsonLines, tempDir } from './helpers/app'

// Two Fastify apps in one process, each with its own registration (tests, multi-tenant servers):
// which instance receives which line.

async function twoApps (t: Test, levels: [string, string] = ['INFO', 'INFO']) {
  const dirA = tempDir(t)
  const dirB = tempDir(t)
  const a = Fastify()
  const b = Fastify()
  t.teardown(() => Promise.all([a.close(), b.close()]))
  await a.register(apiLogging, { envFile: false, enableConsoleLogging: false, logDir: dirA, level: levels[0] as 'INFO' })
  await b.register(apiLogging, { envFile: false, enableConsoleLogging: false, logDir: dirB, level: levels[1] as 'INFO' })
  for (const [app, name] of [[a, 'a'], [b, 'b']] as const) {
    app.get('/work', async (request) => {
      request.log.info(`request.log of ${name}`)
      await new Promise((resolve) => setTimeout(resolve, 5))
      getLogger('shared').info(`getLogger inside ${name}`)
      getLogger('shared').debug(`debug inside ${name}`)
      return name
    })
  }
  return { a, b, dirA, dirB }
}

const messages = (dir: string): string[] => readJsonLines(dir).map((record) => record.message)

t.test('inside a request, every line goes to that request\'s instance, with its id', async (t) => {
  const { a, b, dirA, dirB } = await twoApps(t)
  const [resA, resB] = await Promise.all([a.inject('/work'), b.inject('/work')])
  await Promise.all([a.apiLogging.flush(), b.apiLogging.flush()])
  const linesA = readJsonLines(dirA)
  const linesB = readJsonLines(dirB)
  t.match(linesA.find((r) => r.message === 'getLogger inside a'), { request_id: resA.headers['x-request-id'], logger: 'shared' })
  t.match(linesB.find((r) => r.message === 'getLogger inside b'), { request_id: resB.headers['x-request-id'], logger: 'shared' })
  t.notOk(messages(dirA).some((m) => m.includes(' b')), 'nothing of b in a\'s files')
  t.notOk(messages(dirB).some((m) => m.includes(' a')), 'nothing of a in b\'s files')
  t.ok(messages(dirA).includes('request.log of a'))
  t.ok(messages(dirB).includes('request.log of b'))
})

t.test('outside any request: the newest open instance, then the previous one, then stderr', async (t) => {
  const { a, b, dirA, dirB } = await twoApps(t)
  getLogger('job').info('while both are open')
  await b.close()
  getLogger('job').info('after b closed')
  await a.close()
  t.ok(messages(dirB).includes('while both are open'), 'the newest registration (b) receives it')
  t.notOk(messages(dirA).includes('while both are open'))
  t.ok(messages(dirA).includes('after b closed'), 'once b is closed, the previous one (a)')
  t.notOk(messages(dirB).includes('after b closed'))
})

t.test('each instance keeps its own level; getLogger lets through what the most verbose one writes', async (t) => {
  const { a, b, dirA, dirB } = await twoApps(t, ['DEBUG', 'WARNING'])
  t.equal(getLogger('shared').level, 'debug', 'the pino level follows the most verbose open instance')
  await Promise.all([a.inject('/work'), b.inject('/work')])
  await Promise.all([a.apiLogging.flush(), b.apiLogging.flush()])
  t.ok(messages(dirA).includes('debug inside a'), 'a (DEBUG) writes debug lines')
  t.notOk(messages(dirB).some((m) => m.startsWith('debug inside') || m.startsWith('getLogger inside')), 'b (WARNING) writes neither debug nor info lines')
  await a.close()
  t.equal(getLogger('shared').level, 'warn', 'with a closed, b\'s level')
  await b.close()
  t.equal(getLogger('shared').level, 'info', 'none open: pino\'s default')
})

t.test('a level the application set on a logger is kept across registrations', async (t) => {
  const mine = getLogger('chosen-level')
  mine.level = 'error'
  const { a } = await twoApps(t, ['DEBUG', 'DEBUG'])
  t.equal(mine.level, 'error')
  await a.close()
  mine.level = 'info'
})

t.test('fastify.apiLogging.getLogger is bound to its own instance, even inside another\'s request', async (t) => {
  const { a, b, dirA, dirB } = await twoApps(t)
  const audit = a.apiLogging.getLogger('audit')
  t.equal(a.apiLogging.getLogger('audit'), audit, 'one logger per name and instance')
  b.get('/cross', async () => {
    audit.info('audited from b')
    return 'ok'
  })
  audit.info('audited outside')
  await b.inject('/cross')
  await Promise.all([a.apiLogging.flush(), b.apiLogging.flush()])
  const lines = readJsonLines(dirA).filter((r) => r.logger === 'audit')
  t.same(lines.map((r) => r.message), ['audited outside', 'audited from b'], 'both in a\'s files')
  t.same(lines.map((r) => r.request_id), [null, null], 'b\'s request id is not put on a\'s lines')
  t.notOk(readJsonLines(dirB).some((r) => r.logger === 'audit'))
})
