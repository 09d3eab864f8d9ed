'use strict'

// One benchmark server, forked by run.js: `node server.js <mode> <logDir> [grace]`.
// It reports its port over IPC and answers the parent's 'start', 'stop' and 'close' messages.
const path = require('node:path')
const Fastify = require('fastify')
const apiLogging = require('fastify-api-logging')

const [mode, logDir, grace] = process.argv.slice(2)
const RSS_SAMPLE_MS = 100
const TICK_US = 10_000 // USER_HZ is 100 on Linux: /proc's CPU times are in 10 ms ticks

/**
 * CPU time (µs) of this process's threads by kind, from /proc: the main thread, V8's helpers (GC
 * and compilers) and libuv's pool (file writes), so a cost moved off the main thread still shows,
 * and where. Empty where /proc is missing.
 */
function threadCpu () {
  const byKind = {}
  let tasks = []
  try { tasks = require('node:fs').readdirSync('/proc/self/task') } catch { return byKind }
  for (const tid of tasks) {
    let stat
    try { stat = require('node:fs').readFileSync(`/proc/self/task/${tid}/stat`, 'utf8') } catch { continue }
    const close = stat.lastIndexOf(')')
    const name = stat.slice(stat.indexOf('(') + 1, close)
    const fields = stat.slice(close + 2).split(' ')
    const kind = Number(tid) === process.pid ? 'main' : /^(V8|DelayedTaskSche)/.test(name) ? 'v8 helpers' : /^libuv/.test(name) ? 'libuv pool' : 'other'
    byKind[kind] = (byKind[kind] ?? 0) + (Number(fields[11]) + Number(fields[12])) * TICK_US
  }
  return byKind
}

// The production profile: both files, console and bodies off, other settings at their defaults.
function prodOptions (logDir) {
  return {
    logDir,
    enableConsoleLogging: false,
    enableFileLogging: true,
    enableJsonLogging: true,
    logRequestBody: false,
    logResponseBody: false,
    envFile: false
  }
}

async function build () {
  let app
  // prod@<name>: another build of this package (BENCH_BUILDS), in the production configuration.
  switch (mode.startsWith('prod@') ? 'other-build-prod' : mode) {
    case 'none':
      app = Fastify({ logger: false })
      break
    case 'builtin':
      app = Fastify({ logger: { level: 'info', file: path.join(logDir, 'fastify.log') } })
      break
    case 'plugin-prod':
    case 'other-build-prod':
      app = Fastify()
      await app.register(mode === 'plugin-prod' ? apiLogging : require(process.env.BENCH_BUILD_DIR), prodOptions(logDir))
      break
    case 'plugin-lean':
    case 'plugin-json-only':
      // What the production profile would cost with fewer lines, to price that choice (not a
      // default): no "API Request" start line; plugin-json-only also without the text file.
      app = Fastify()
      await app.register(apiLogging, {
        ...prodOptions(logDir),
        enableFileLogging: mode === 'plugin-lean',
        logRequestStart: false
      })
      break
    case 'plugin-floor':
      // Every sink off: request ids, the response header, the async context and the hooks only,
      // the cost no configuration can remove.
      app = Fastify()
      await app.register(apiLogging, {
        logDir,
        enableConsoleLogging: false,
        enableFileLogging: false,
        enableJsonLogging: false,
        envFile: false
      })
      break
    case 'plugin-dev':
    case 'plugin-dev-keys':
      app = Fastify()
      await app.register(apiLogging, {
        logDir,
        enableConsoleLogging: true,
        enableFileLogging: true,
        enableJsonLogging: true,
        logRequestBody: true,
        logResponseBody: true,
        // plugin-dev-keys: the same with value patterns off, to show what they cost.
        redactValues: mode === 'plugin-dev',
        envFile: false
      })
      break
    case 'step-hook':
    case 'step-id':
    case 'step-close':
    case 'step-als':
    case 'step-prevalidation':
      app = Fastify()
      addSteps(app, ['step-hook', 'step-id', 'step-close', 'step-als', 'step-prevalidation'].indexOf(mode) + 1)
      break
    default:
      throw new Error(`unknown mode ${mode}`)
  }

  // Every mode pays for this counter, so it cancels out of the "added CPU" figures. It listens on
  // the HTTP server itself: a Fastify onResponse hook would make Fastify set up per-request
  // response listeners in every mode, about 3 µs a request, and hide that cost where a logger has it.
  // Once app.close() has resolved, every request received has been answered.
  let responses = 0
  app.server.on('request', function countRequest () {
    responses++
  })
  app.get('/hello', async () => ({ hello: 'world' }))
  app.post('/echo-1k', async (request) => request.body)
  return { app, responses: () => responses }
}

// The pieces of the plugin's per-request work, cumulative: 1 an onRequest hook, 2 a UUID request
// id and its response header, 3 a listener on the raw response's 'close', 4 AsyncLocalStorage.run
// around the rest of the request, 5 a preValidation hook that checks the async context.
function addSteps (app, count) {
  const { randomUUID } = require('node:crypto')
  const { AsyncLocalStorage } = require('node:async_hooks')
  const storage = new AsyncLocalStorage()
  const onClose = function onClose () {}
  if (count >= 2) app.setGenReqId(() => randomUUID())
  app.addHook('onRequest', function stepOnRequest (request, reply, done) {
    if (count >= 2) reply.header('x-request-id', request.id)
    if (count >= 3) reply.raw.on('close', onClose)
    if (count >= 4) storage.run({ id: request.id }, done)
    else done()
  })
  if (count >= 5) {
    app.addHook('preValidation', function stepPreValidation (request, reply, done) {
      if (storage.getStore() === undefined) storage.run({ id: request.id }, done)
      else done()
    })
  }
}

function statsOf (app) {
  return app.apiLogging === undefined ? null : app.apiLogging.stats()
}

function send (message) {
  return new Promise((resolve) => process.send(message, () => resolve()))
}

async function main () {
  const { app, responses } = await build()

  let cpuStart = null
  let threadsStart = {}
  let peakRss = 0
  let sampler = null
  const sampleRss = () => { peakRss = Math.max(peakRss, process.memoryUsage().rss) }

  if (grace === 'grace') {
    const closeWithGrace = require('close-with-grace')
    closeWithGrace({ delay: 10000 }, async () => {
      await app.close()
      await send({ type: 'closed', responses: responses(), stats: statsOf(app) })
    })
  }

  process.on('message', async (message) => {
    if (message === 'start') {
      peakRss = 0
      sampleRss()
      clearInterval(sampler)
      sampler = setInterval(sampleRss, RSS_SAMPLE_MS)
      sampler.unref()
      cpuStart = process.cpuUsage()
      threadsStart = threadCpu()
      await send({ type: 'started' })
    } else if (message === 'stop') {
      const cpu = process.cpuUsage(cpuStart)
      const threads = threadCpu()
      for (const kind of Object.keys(threads)) threads[kind] -= threadsStart[kind] ?? 0
      clearInterval(sampler)
      sampleRss()
      await send({ type: 'stopped', cpuUs: cpu.user + cpu.system, systemCpuUs: cpu.system, threadCpuUs: threads, peakRss })
    } else if (message === 'close') {
      const before = statsOf(app)
      await app.close()
      await send({ type: 'closed', responses: responses(), statsBeforeClose: before, stats: statsOf(app) })
      process.exit(0)
    }
  })
  // The parent is gone (crashed or killed): do not outlive it.
  process.on('disconnect', () => process.exit(1))

  await app.listen({ host: '127.0.0.1', port: 0 })
  await send({ type: 'ready', port: app.server.address().port })
}

main().catch((err) => {
  process.stderr.write(`benchmark server (${mode}): ${err.stack}\n`)
  process.exit(1)
})
