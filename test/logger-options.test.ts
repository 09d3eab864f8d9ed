import t from 'tap'
import { getLogger, ERR_LOGGER_OPTION, ApiLoggingError } from '../dist/index.js'
import { buildApp, linesOf, readJsonLines } from './helpers/app'

// pino options on getLogger() and child(): applied when they make sense, refused with an error
// naming the option when they do not; never ignored.

t.test('serializers apply to the call\'s fields and to bindings, as in pino', async (t) => {
  const { app, logDir } = await buildApp(t)
  const log = getLogger('orders', { serializers: { user: (user: { id: number, name: string }) => ({ id: user.id }) } })
  log.info({ user: { id: 7, name: 'Ana' }, amount: 3 }, 'placed')
  log.child({ user: { id: 8, name: 'Bo' } }).info('bound')
  log.child({}, { serializers: { amount: (n: number) => n * 100 } }).info({ amount: 2, user: { id: 9, name: 'Cy' } }, 'child serializers merge with the parent\'s')
  await app.apiLogging.flush()
  const lines = readJsonLines(logDir)
  t.match(lines[0], { message: 'placed', user: { id: 7 }, amount: 3 })
  t.notOk('name' in (lines[0].user as object), 'the serializer\'s output, not the object')
  t.same(lines[1].user, { id: 8 }, 'bindings go through the serializers once, at child()')
  t.match(lines[2], { amount: 200, user: { id: 9 } })
})

t.test('pino\'s wildcard serializer runs on every field', async (t) => {
  const { app, logDir } = await buildApp(t)
  const log = getLogger('wild', { serializers: { [Symbol.for('pino.*') as unknown as string]: (value: unknown) => typeof value === 'string' ? value.toUpperCase() : value } })
  log.info({ a: 'x', b: 1 }, 'm')
  await app.apiLogging.flush()
  t.match(readJsonLines(logDir)[0], { a: 'X', b: 1 })
})

t.test('mixin adds fields to every line, under the call\'s own', async (t) => {
  const { app, logDir } = await buildApp(t)
  let calls = 0
  const log = getLogger('mixed', {
    mixin: (merge, level) => {
      calls++
      return { region: 'eu', level_number: level, from: 'mixin', merged_keys: Object.keys(merge).join(',') }
    }
  })
  log.info({ from: 'call' }, 'one')
  log.warn('two')
  await app.apiLogging.flush()
  const [one, two] = readJsonLines(logDir)
  t.match(one, { region: 'eu', level_number: 30, from: 'call', merged_keys: 'from' }, 'the call\'s field wins')
  t.match(two, { region: 'eu', level_number: 40, from: 'mixin' })
  t.equal(calls, 2)
  const strategy = getLogger('mixed-strategy', { mixin: () => ({ from: 'mixin' }), mixinMergeStrategy: (merge, mixin) => ({ ...merge, ...mixin }) })
  strategy.info({ from: 'call' }, 'three')
  await app.apiLogging.flush()
  t.match(readJsonLines(logDir)[2], { message: 'three', from: 'mixin' }, 'mixinMergeStrategy decides')
})

t.test('msgPrefix is put in front of every message, and children add theirs', async (t) => {
  const { app, logDir } = await buildApp(t)
  const log = getLogger('prefixed', { msgPrefix: '[db] ' })
  log.info('connected')
  log.child({}, { msgPrefix: '[pool] ' }).warn({ size: 3 }, 'grown to %d', 3)
  await app.apiLogging.flush()
  t.same(readJsonLines(logDir).map((r) => r.message), ['[db] connected', '[db] [pool] grown to 3'])
})

t.test('level, in pino\'s names or ours', async (t) => {
  const { app, logDir } = await buildApp(t, { level: 'DEBUG' })
  const quiet = getLogger('quiet', { level: 'WARNING' })
  t.equal(quiet.level, 'warn')
  quiet.info('not written')
  quiet.error('written')
  const chatty = getLogger('chatty').child({}, { level: 'debug' })
  chatty.debug('debug from a child')
  await app.apiLogging.flush()
  t.same(readJsonLines(logDir).map((r) => r.message), ['written', 'debug from a child'])
  t.throws(() => getLogger('bad', { level: 'verbose' }), { code: ERR_LOGGER_OPTION, message: /unknown level "verbose"/ })
})

t.test('getLogger(name) is shared; getLogger(name, options) makes a new logger', async (t) => {
  t.equal(getLogger('same'), getLogger('same'))
  t.not(getLogger('same', { msgPrefix: 'x' }), getLogger('same'))
})

t.test('options the plugin cannot honour are refused, saying why', async (t) => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['redact', () => getLogger('x', { redact: ['a'] } as never), /getLogger\(\): pino's redact option is not supported here: redaction is the plugin's own.*LOG_REDACT_KEYS/],
    ['transport', () => getLogger('x', { transport: { target: 'pino-pretty' } } as never), /transport option is not supported here: lines go to the plugin's sinks/],
    ['formatters', () => getLogger('x', { formatters: {} } as never), /formatters option is not supported here: every sink writes one fixed record shape/],
    ['an unknown option', () => getLogger('x', { colorize: true } as never), /getLogger\(\): unknown option colorize; supported: level, serializers, msgPrefix, mixin, mixinMergeStrategy/],
    ['child redact', () => getLogger('x').child({}, { redact: ['a'] }), /child\(\): pino's redact option is not supported here/],
    ['child customLevels', () => getLogger('x').child({}, { customLevels: { audit: 35 } }), /child\(\): pino's customLevels option is not supported here: records carry a closed set of levels/],
    ['child mixin', () => getLogger('x').child({}, { mixin: () => ({}) } as never), /child\(\): unknown option mixin; supported: level, serializers, msgPrefix/],
    ['a mixin that is not a function', () => getLogger('x', { mixin: 'no' } as never), /getLogger\(\): mixin must be a function/]
  ]
  for (const [name, make, message] of cases) {
    let error: unknown
    try {
      make()
    } catch (err) {
      error = err
    }
    t.ok(error instanceof ApiLoggingError, `${name}: an ApiLoggingError`)
    t.match(error, { code: ERR_LOGGER_OPTION, message }, name)
  }
})

t.test('request.log.child() takes the same options, bound to the request', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/x', async (request) => {
    request.log.child({ user: { id: 1, email: 'a@b' } }, { serializers: { user: (u: { id: number }) => u.id }, msgPrefix: '[x] ' }).info('handled')
    t.throws(() => request.log.child({}, { redact: ['a'] }), { code: ERR_LOGGER_OPTION })
    return 'ok'
  })
  const res = await app.inject('/x')
  const lines = await linesOf(app, logDir, res.headers['x-request-id'] as string)
  t.match(lines.find((r) => r.logger === 'app'), { message: '[x] handled', user: 1 })
})

t.test('setBindings() changes the fields of later lines', async (t) => {
  const { app, logDir } = await buildApp(t)
  const log = getLogger('binding').child({ a: 1 })
  log.info('before')
  log.setBindings({ b: 2 })
  log.info('after')
  t.same(log.bindings(), { a: 1, b: 2 }, 'pino\'s own bindings() agrees')
  await app.apiLogging.flush()
  const [before, after] = readJsonLines(logDir)
  t.match(before, { a: 1 })
  t.notOk('b' in before)
  t.match(after, { a: 1, b: 2 })
})

t.test('a binding named like one of pino\'s own keys (hostname, pid) is kept', async (t) => {
  const { app, logDir } = await buildApp(t)
  getLogger('host').child({ hostname: 'web-1', pid: 42 }).info('m')
  await app.apiLogging.flush()
  t.match(readJsonLines(logDir)[0], { hostname: 'web-1', pid: 42 })
})
