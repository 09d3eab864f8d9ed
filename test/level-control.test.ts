import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyInstance } from 'fastify'
import t from 'tap'
import apiLogging, { ApiLoggingError, ERR_INVALID_CONFIG, getLogger, loadConfig } from '../dist/index.js'
import { buildApp, linesOf, readJsonLines, tempDir } from './helpers/app'
import { jsonLines, startServer } from './helpers/faults'

function workRoute (app: FastifyInstance): void {
  const service = getLogger('inventory')
  app.get('/work', async (request) => {
    request.log.debug('request debug')
    service.debug('service debug')
    app.apiLogging.getLogger('bound').debug('bound debug')
    request.log.info('request info')
    return 'done'
  })
}

async function messagesOf (app: FastifyInstance, logDir: string, url = '/work'): Promise<string[]> {
  const reply = await app.inject(url)
  return (await linesOf(app, logDir, reply.headers['x-request-id'] as string)).map((line) => line.message)
}

t.test('setLevel changes what every logger of the registration writes, now, and says so', async (t) => {
  const { app, logDir } = await buildApp(t, { level: 'INFO' })
  workRoute(app)
  app.get('/pinned', { config: { apiLogging: { level: 'ERROR' } } }, async (request) => { request.log.info('pinned info'); return 'p' })
  t.equal(app.apiLogging.getLevel(), 'INFO')
  t.same(await messagesOf(app, logDir), ['API Request: GET /work', 'request info', 'API Response: GET /work - 200'])

  app.apiLogging.setLevel('debug')
  t.equal(app.apiLogging.getLevel(), 'DEBUG', 'any spelling LOG_LEVEL takes')
  t.same(await messagesOf(app, logDir), ['API Request: GET /work', 'request debug', 'service debug', 'bound debug', 'request info', 'API Response: GET /work - 200'],
    'request.log, getLogger and fastify.apiLogging.getLogger inside the request')
  getLogger('inventory').debug('outside a request')
  app.apiLogging.getLogger('bound').debug('bound outside')
  t.same(await messagesOf(app, logDir, '/pinned'), [], 'a route with its own level keeps it')

  app.apiLogging.setLevel('WARNING')
  t.same(await messagesOf(app, logDir), [], 'nothing below WARNING')
  app.apiLogging.setLevel('WARNING')
  app.apiLogging.setLevel('INFO')

  await app.apiLogging.flush()
  const all = readJsonLines(logDir)
  t.ok(all.some((line) => line.message === 'outside a request'), 'getLogger outside requests follows too')
  t.ok(all.some((line) => line.message === 'bound outside'))
  const changes = all.filter((line) => line.message.startsWith('Log level changed'))
  t.same(changes.map((line) => [line.level, line.old_level, line.new_level, line.changed_by]), [
    ['WARNING', 'INFO', 'DEBUG', 'setLevel()'],
    ['WARNING', 'DEBUG', 'WARNING', 'setLevel()'],
    ['WARNING', 'WARNING', 'INFO', 'setLevel()']
  ], 'each change once at WARNING, with the old and new level (setting the same level again writes nothing)')
  t.equal(changes[0].message, 'Log level changed from INFO to DEBUG by setLevel()')
  t.equal(changes[0].logger, 'api')
})

t.test('setLevel refuses a level it does not know, naming the allowed ones', async (t) => {
  const { app } = await buildApp(t)
  let error: unknown
  try {
    app.apiLogging.setLevel('loud' as never)
  } catch (err) {
    error = err
  }
  t.ok(error instanceof ApiLoggingError)
  t.equal((error as ApiLoggingError).code, ERR_INVALID_CONFIG)
  t.match((error as Error).message, 'setLevel("loud"): the level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL')
  t.equal(app.apiLogging.getLevel(), 'INFO', 'unchanged')
})

t.test('several registrations in one process: setLevel changes only its own', async (t) => {
  const first = await buildApp(t, { level: 'INFO' })
  const second = await buildApp(t, { level: 'INFO' })
  workRoute(first.app)
  workRoute(second.app)
  first.app.apiLogging.setLevel('DEBUG')
  t.same([first.app.apiLogging.getLevel(), second.app.apiLogging.getLevel()], ['DEBUG', 'INFO'])
  t.ok((await messagesOf(first.app, first.logDir)).includes('service debug'), 'the changed one writes DEBUG')
  t.notOk((await messagesOf(second.app, second.logDir)).includes('service debug'), 'the other does not, even for the same shared logger')
  await first.app.close()
  t.notOk((await messagesOf(second.app, second.logDir)).includes('service debug'), 'nor once the first is closed')
})

t.test('LOG_LEVEL_SIGNAL: SIGUSR2 toggles between LOG_LEVEL and DEBUG; the listener goes at close', async (t) => {
  const before = process.listenerCount('SIGUSR2')
  const logDir = tempDir(t)
  const app = Fastify()
  await app.register(apiLogging, { envFile: false, enableConsoleLogging: false, logDir, level: 'WARNING', levelSignal: true })
  await app.ready()
  t.equal(process.listenerCount('SIGUSR2'), before + 1, 'one listener')
  process.emit('SIGUSR2', 'SIGUSR2')
  t.equal(app.apiLogging.getLevel(), 'DEBUG')
  process.emit('SIGUSR2', 'SIGUSR2')
  t.equal(app.apiLogging.getLevel(), 'WARNING', 'and back to the configured level')
  app.apiLogging.setLevel('ERROR')
  process.emit('SIGUSR2', 'SIGUSR2')
  t.equal(app.apiLogging.getLevel(), 'DEBUG', 'from any other level, to DEBUG')
  await app.apiLogging.flush()
  const changes = readJsonLines(logDir).filter((line) => line.message.startsWith('Log level changed'))
  t.same(changes.map((line) => [line.old_level, line.new_level, line.changed_by]),
    [['WARNING', 'DEBUG', 'SIGUSR2'], ['DEBUG', 'WARNING', 'SIGUSR2'], ['WARNING', 'ERROR', 'setLevel()'], ['ERROR', 'DEBUG', 'SIGUSR2']])
  t.ok(changes.every((line) => line.level === 'WARNING'))
  await app.close()
  t.equal(process.listenerCount('SIGUSR2'), before, 'removed at close')
})

t.test('without LOG_LEVEL_SIGNAL, SIGUSR2 is left alone', async (t) => {
  const before = process.listenerCount('SIGUSR2')
  await buildApp(t)
  t.equal(process.listenerCount('SIGUSR2'), before)
})

t.test('LOG_LEVEL_SIGNAL=true with LOG_REOPEN_SIGNAL=SIGUSR2 fails at startup, naming both', async (t) => {
  let error: unknown
  try {
    loadConfig({ envFile: false, levelSignal: true, reopenSignal: 'SIGUSR2' })
  } catch (err) {
    error = err
  }
  t.equal((error as ApiLoggingError).code, ERR_INVALID_CONFIG)
  t.match((error as Error).message, 'LOG_LEVEL_SIGNAL=true uses SIGUSR2, and LOG_REOPEN_SIGNAL=SIGUSR2 asks for the same signal: set LOG_REOPEN_SIGNAL to SIGHUP or SIGUSR1, or LOG_LEVEL_SIGNAL=false')
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => { await app.register(apiLogging, { envFile: false, enableConsoleLogging: false, logDir: tempDir(t), levelSignal: true, reopenSignal: 'SIGUSR2' }) }, { code: ERR_INVALID_CONFIG })
  t.same(loadConfig({ envFile: false, levelSignal: true, reopenSignal: 'SIGUSR1' }).reopenSignal, 'SIGUSR1', 'another reopen signal is fine')
})

t.test('a real SIGUSR2 in a server process: the level toggles, the process lives, SIGTERM still ends it', async (t) => {
  const logDir = join(tempDir(t), 'logs')
  const server = await startServer(t, { LOG_DIR: logDir, ENABLE_CONSOLE_LOGGING: 'false', LOG_LEVEL_SIGNAL: 'true' })
  t.equal((await server.ask<{ level: string }>('level')).level, 'INFO')
  server.child.kill('SIGUSR2')
  await sleep(200)
  t.equal((await server.ask<{ level: string }>('level')).level, 'DEBUG', 'DEBUG, and still running')
  server.child.kill('SIGUSR2')
  await sleep(200)
  t.equal((await server.ask<{ level: string }>('level')).level, 'INFO')
  server.child.kill('SIGTERM')
  const exit = await server.exited
  t.same([exit.code, exit.signal], [null, 'SIGTERM'], `a bare SIGTERM ends it as before (stderr: ${exit.stderr.slice(0, 200)})`)
  const changes = jsonLines(t, logDir).filter((line) => line.message.startsWith('Log level changed'))
  t.same(changes.map((line) => `${line.old_level} -> ${line.new_level}`), ['INFO -> DEBUG', 'DEBUG -> INFO'], 'both changes on disk')
})
