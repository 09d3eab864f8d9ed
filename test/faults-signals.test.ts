import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { ApiLoggingStats } from '../dist/index.js'
import { tempDir } from './helpers/app'
import { Load, filesIn, jsonLines, startServer, textLines } from './helpers/faults'

// A server with no signal handler of its own (Kubernetes' SIGTERM, a terminal's SIGINT, a closed
// session's SIGHUP), under load: the process must end as the signal ends it, with every answered
// request's lines on disk.

const STEPS = 5

function tally (values: Array<string | null | undefined>): Map<string | null | undefined, number> {
  const counts = new Map<string | null | undefined, number>()
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1)
  return counts
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  t.test(`a bare ${signal} under load: the process ends by the signal, and every answered request is on disk`, async (t) => {
    const logDir = join(tempDir(t), 'logs')
    const server = await startServer(t, {
      LOG_DIR: logDir, ENABLE_CONSOLE_LOGGING: 'false', LOG_FILE_MAX_BYTES: '262144', LOG_FILE_BACKUP_COUNT: '999', FIXTURE_STEPS: String(STEPS)
    })
    const load = new Load(server.port, { connections: 50 })
    while (load.answers.length < 2000) await sleep(5)
    const signalledAt = performance.now()
    server.child.kill(signal)
    const exit = await server.exited
    const exitMs = performance.now() - signalledAt
    await load.stop()
    t.same([exit.code, exit.signal], [null, signal], `it died of ${signal}, as it would without the plugin (stderr: ${exit.stderr.slice(0, 200)})`)
    t.ok(exitMs < 5000, `${exitMs.toFixed(0)} ms from the signal to the exit`)

    const answered = load.answers.filter((answer) => answer.status === 200)
    t.ok(answered.length >= 2000, `${answered.length} requests answered`)
    const json = jsonLines(t, logDir)
    const text = textLines(t, logDir)
    const lines = tally(json.map((record) => record.request_id))
    const responses = tally(json.filter((record) => record.message.startsWith('API Response')).map((record) => record.request_id))
    t.same(answered.filter((answer) => responses.get(answer.id) !== 1).slice(0, 3), [], 'each answered request has its API Response line once in the JSON files')
    t.same(answered.filter((answer) => lines.get(answer.id) !== STEPS + 2).slice(0, 3), [], `and all ${STEPS + 2} of its lines`)
    const textIds = tally(text.map((line) => / API Response: GET \/r\/\d+ - 200 request_id=(\S+)/.exec(line)?.[1]))
    t.same(answered.filter((answer) => textIds.get(answer.id) !== 1).slice(0, 3), [], 'and its API Response line once in api.log')
    t.ok(filesIn(logDir, /^api\.log\.\d+$/).length > 1, 'api.log rotated meanwhile')
    t.same(filesIn(logDir, /\.pending\.\d+$/), [], 'no rotation left half done')
    t.same(filesIn(logDir, /\.lock$/), [], 'the locks are released')
  })
}

t.test('LOG_REOPEN_SIGNAL=SIGUSR1: the signal reopens the files and no longer ends the process', async (t) => {
  const logDir = join(tempDir(t), 'logs')
  const server = await startServer(t, { LOG_DIR: logDir, ENABLE_CONSOLE_LOGGING: 'false', LOG_REOPEN_SIGNAL: 'SIGUSR1' })
  const load = new Load(server.port, { connections: 4, pauseMs: 2 })
  await sleep(200)
  server.child.kill('SIGUSR1')
  await sleep(200)
  const { stats } = await server.ask<{ stats: ApiLoggingStats }>('stats')
  t.same([stats.json.reopens, stats.file.reopens], [1, 1], 'both files reopened')
  await load.stop()
  const closed = await server.ask<{ stats: ApiLoggingStats }>('close')
  const exit = await server.exited
  t.same([exit.code, exit.signal], [0, null], 'the server lived on until asked to close')
  t.equal(load.failures, 0, 'every request got an answer')
  t.equal(jsonLines(t, logDir).length, closed.stats.json.lines, 'every line counted is in the file')
})

t.test('with close-with-grace the application decides: app.close() runs, the exit is its own', async (t) => {
  const logDir = join(tempDir(t), 'logs')
  const server = await startServer(t, { LOG_DIR: logDir, ENABLE_CONSOLE_LOGGING: 'false', FIXTURE_SIGNALS: 'grace', FIXTURE_STEPS: String(STEPS) })
  const load = new Load(server.port, { connections: 20 })
  while (load.answers.length < 1000) await sleep(5)
  server.child.kill('SIGTERM')
  const exit = await server.exited
  await load.stop()
  t.equal(exit.signal, null, `close-with-grace ended the process itself (code ${String(exit.code)})`)
  const responses = tally(jsonLines(t, logDir).filter((record) => record.message.startsWith('API Response')).map((record) => record.request_id))
  const answered = load.answers.filter((answer) => answer.status === 200)
  t.same(answered.filter((answer) => responses.get(answer.id) !== 1).slice(0, 3), [], `each of the ${answered.length} answered requests is in the file once`)
})
