import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import apiLogging, { ERR_LOG_FILE_LOCKED, type ApiLoggingStats } from '../dist/index.js'
import { buildApp, tempDir } from './helpers/app'
import { Load, filesIn, jsonLines, startServer, textLines } from './helpers/faults'

// Several processes on one folder: a Node cluster with per-worker files, a cluster whose primary
// alone writes, and unrelated processes kept apart by the lock files.

const MAX_BYTES = 16384
const CLOSE_BOUND_MS = 5000

interface ClusterReport {
  workers: Array<{ id: number, stats: ApiLoggingStats }>
  primary: ApiLoggingStats | null
}

function tally (values: Array<string | null | undefined>): Map<string | null | undefined, number> {
  const counts = new Map<string | null | undefined, number>()
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1)
  return counts
}

const isRequestLine = (message: string): boolean => /^API (Request|Response): GET \/r\/\d+/.test(message)
const textResponseId = (line: string): string | undefined => / API Response: GET \/r\/\d+ - 200 request_id=(\S+)/.exec(line)?.[1]

/** api.log-style backups of one base name: numbered 1…K with no gap, each within the size and full. */
function checkBackups (t: Test, logDir: string, base: string, longest: number): number {
  const escaped = base.replace(/\./g, '\\.')
  const numbers = filesIn(logDir, new RegExp(`^${escaped}\\.\\d+$`)).map((name) => Number(name.slice(base.length + 1))).sort((a, b) => a - b)
  t.same(numbers, Array.from({ length: numbers.length }, (_, i) => i + 1), `${base}.1 … ${base}.${numbers.length}, no gap`)
  const sizes = numbers.map((n) => statSync(join(logDir, `${base}.${n}`)).size)
  t.ok(sizes.every((size) => size <= MAX_BYTES && size > MAX_BYTES - longest), `each ${base} backup is full and within LOG_FILE_MAX_BYTES (no double rotation): ${Math.min(...sizes)}…${Math.max(...sizes)} bytes`)
  t.ok(statSync(join(logDir, base)).size <= MAX_BYTES, `${base} is within LOG_FILE_MAX_BYTES`)
  return numbers.length
}

async function runCluster (t: Test, env: Record<string, string>): Promise<{ logDir: string, load: Load, report: ClusterReport }> {
  const logDir = join(tempDir(t), 'logs')
  const server = await startServer(t, {
    LOG_DIR: logDir, ENABLE_CONSOLE_LOGGING: 'false', LOG_FILE_MAX_BYTES: String(MAX_BYTES), LOG_FILE_BACKUP_COUNT: '999', FIXTURE_WORKERS: '4', ...env
  }, { script: 'cluster-server.js' })
  const load = new Load(server.port, { connections: 16 })
  await load.runUntil(() => load.answers.length > 1200)
  await load.stop()
  const closeStart = performance.now()
  const report = await server.ask<ClusterReport>('close')
  const closeMs = performance.now() - closeStart
  t.ok(closeMs < CLOSE_BOUND_MS, `the cluster closed in ${closeMs.toFixed(0)} ms`)
  const exit = await server.exited
  t.equal(exit.code, 0, `the primary exited 0 ${exit.stderr.slice(0, 300)}`)
  t.equal(load.failures, 0, 'every request got an answer')
  t.ok(load.answers.length > 1000 && load.answers.every((answer) => answer.status === 200), `all ${load.answers.length} answers are 200`)
  return { logDir, load, report }
}

t.test('a cluster of 4 workers with a small rotation size: each worker its own files, no line lost, twice or torn', async (t) => {
  const { logDir, load, report } = await runCluster(t, {})
  t.same(filesIn(logDir, /^api_structured.*\.jsonl$/), [1, 2, 3, 4].map((id) => `api_structured.w${id}.jsonl`), 'one JSON file per worker, named with its id')
  const json = jsonLines(t, logDir)
  const text = textLines(t, logDir)
  const responses = tally(json.filter((record) => record.message.startsWith('API Response')).map((record) => record.request_id))
  const textResponses = tally(text.map(textResponseId))
  t.same(load.answers.filter((answer) => responses.get(answer.id) !== 1).slice(0, 3), [], 'every answered request has its API Response line exactly once in the JSON files')
  t.same(load.answers.filter((answer) => textResponses.get(answer.id) !== 1).slice(0, 3), [], 'and in the text files')
  const longest = Math.max(...text.map((line) => Buffer.byteLength(line) + 1))
  let produced = 0
  for (const { id, stats } of report.workers) {
    const workerJson = jsonLines(t, logDir, new RegExp(`^api_structured\\.w${id}\\.jsonl`))
    const workerText = textLines(t, logDir, new RegExp(`^api\\.w${id}\\.log(\\.\\d+)?$`))
    t.equal(stats.json.lines, workerJson.length, `worker ${id}: JSON lines written = on disk (${workerJson.length})`)
    t.equal(stats.file.lines, workerText.length, `worker ${id}: text lines written = on disk`)
    t.equal(stats.json.dropped + stats.file.dropped, 0, `worker ${id}: nothing dropped`)
    t.ok(checkBackups(t, logDir, `api.w${id}.log`, longest) >= 2, `worker ${id} rotated api.w${id}.log`)
    produced += workerJson.filter((record) => isRequestLine(record.message)).length
  }
  t.equal(produced, 2 * load.answers.length, 'written + dropped = produced, over the workers')
  t.same(filesIn(logDir, /\.lock$/), [], 'no lock left')
})

t.test('LOG_CLUSTER_WRITER=primary: the workers send their lines, the primary alone writes api.log and api_structured.jsonl', async (t) => {
  const { logDir, load, report } = await runCluster(t, { LOG_CLUSTER_WRITER: 'primary' })
  t.same(filesIn(logDir, /^api.*\.(log|jsonl)$/), ['api.log', 'api_structured.jsonl'], 'one set of files, no worker files')
  const json = jsonLines(t, logDir)
  const text = textLines(t, logDir)
  const responses = tally(json.filter((record) => record.message.startsWith('API Response')).map((record) => record.request_id))
  t.same(load.answers.filter((answer) => responses.get(answer.id) !== 1).slice(0, 3), [], 'every answered request has its API Response line exactly once')
  const primary = report.primary as ApiLoggingStats
  t.equal(primary.json.lines, json.length, 'the primary\'s JSON lines written = on disk')
  t.equal(primary.file.lines, text.length, 'the primary\'s text lines written = on disk')
  const sent = report.workers.reduce((sum, { stats }) => sum + stats.json.lines, 0)
  t.equal(sent, 2 * load.answers.length, 'the workers sent every line they produced')
  t.equal(primary.json.lines + primary.json.dropped, sent, 'the primary wrote or dropped every line it got')
  checkBackups(t, logDir, 'api.log', Math.max(...text.map((line) => Buffer.byteLength(line) + 1)))
})

t.test('LOG_CLUSTER_WRITER=primary: what a worker holds when it exits abruptly goes to its own files', async (t) => {
  const logDir = join(tempDir(t), 'logs')
  const server = await startServer(t, { LOG_DIR: logDir, ENABLE_CONSOLE_LOGGING: 'false', LOG_CLUSTER_WRITER: 'primary', FIXTURE_WORKERS: '2' }, { script: 'cluster-server.js' })
  const crash = await server.ask<{ crashed: number }>('crash')
  t.equal(crash.crashed, 3, 'the worker exited with its own code')
  const report = await server.ask<ClusterReport>('close')
  await server.exited
  t.equal(report.workers.length, 1, 'the other worker closed normally')
  const seen = tally(jsonLines(t, logDir).filter((record) => record.message === 'before the crash').map((record) => String(record.i)))
  t.equal(seen.size, 5000, 'every line of the crashed worker is on disk (the primary\'s file or the worker\'s own)')
  t.ok([...seen.values()].every((n) => n <= 2), 'at most the chunk in flight twice')
  t.ok(filesIn(logDir, /^api_structured\.w1\.jsonl$/).length === 1, 'the worker\'s own file holds what could not reach the primary')
  textLines(t, logDir)
})

t.test('LOG_CLUSTER_WRITER=primary without startPrimaryWriter() in the primary: the workers write their own files and say so', async (t) => {
  const logDir = join(tempDir(t), 'logs')
  const server = await startServer(t, { LOG_DIR: logDir, ENABLE_CONSOLE_LOGGING: 'false', LOG_CLUSTER_WRITER: 'primary', FIXTURE_NO_WRITER: '1', FIXTURE_WORKERS: '2' }, { script: 'cluster-server.js' })
  const load = new Load(server.port, { connections: 4 })
  await sleep(200)
  await load.stop()
  const report = await server.ask<ClusterReport>('close')
  await server.exited
  t.same(filesIn(logDir, /^api.*\.jsonl$/), ['api_structured.w1.jsonl', 'api_structured.w2.jsonl'], 'per-worker files')
  const json = jsonLines(t, logDir)
  t.equal(json.filter((record) => record.cluster_writer === 'worker' && record.level === 'WARNING').length, 2, 'one WARNING per worker')
  const responses = tally(json.filter((record) => record.message.startsWith('API Response')).map((record) => record.request_id))
  t.same(load.answers.filter((answer) => responses.get(answer.id) !== 1), [], `each of the ${load.answers.length} requests once`)
  t.equal(report.primary, null)
})

t.test('an unrelated second process on the same files fails register, naming the other pid and the way out', async (t) => {
  const logDir = join(tempDir(t), 'logs')
  const server = await startServer(t, { LOG_DIR: logDir, ENABLE_CONSOLE_LOGGING: 'false' })
  const app = Fastify()
  t.teardown(() => app.close())
  const err = await app.register(apiLogging, { envFile: false, enableConsoleLogging: false, logDir }).ready().then(() => null, (e: Error & { code?: string }) => e)
  t.equal(err?.code, ERR_LOG_FILE_LOCKED, 'FST_API_LOGGING_LOG_FILE_LOCKED')
  t.match(err?.message, `is already written by process ${server.child.pid ?? 0}`, 'names the other process')
  t.match(err?.message, /own LOG_DIR.*cluster or PM2 workers.*LOG_WORKER_ID.*delete the lock file/, 'and the ways out')
  const closed = await server.ask<{ stats: ApiLoggingStats }>('close')
  t.equal(closed.stats.json.errors, 0, 'the first process was not disturbed')
})

t.test('a second registration in the same process on the same files is refused too', async (t) => {
  const { logDir } = await buildApp(t)
  const app = Fastify()
  t.teardown(() => app.close())
  const err = await app.register(apiLogging, { envFile: false, enableConsoleLogging: false, logDir }).ready().then(() => null, (e: Error & { code?: string }) => e)
  t.equal(err?.code, ERR_LOG_FILE_LOCKED)
  t.match(err?.message, 'another registration of fastify-api-logging in this process')
})

t.test('an unreadable lock file: taken over when older than 2 s, respected while fresh (its owner may be writing it)', async (t) => {
  const logDir = tempDir(t)
  writeFileSync(join(logDir, '.api.log.lock'), '')
  const err = await Fastify().register(apiLogging, { envFile: false, enableConsoleLogging: false, enableJsonLogging: false, logDir }).ready().then(() => null, (e: Error & { code?: string }) => e)
  t.equal(err?.code, ERR_LOG_FILE_LOCKED, 'a lock being written is respected')
  t.match(err?.message, 'already written by another process')
  const old = new Date(Date.now() - 10_000)
  utimesSync(join(logDir, '.api.log.lock'), old, old)
  const { app } = await buildApp(t, { logDir, enableJsonLogging: false })
  t.same(JSON.parse(readFileSync(join(logDir, '.api.log.lock'), 'utf8')), { pid: process.pid, host: hostname() }, 'an old unreadable lock is taken over')
  await app.close()
})

t.test('a directory in place of api.log fails register with FST_API_LOGGING_LOG_DIR and the reason, and leaves no lock', async (t) => {
  const logDir = tempDir(t)
  mkdirSync(join(logDir, 'api.log'))
  const err = await Fastify().register(apiLogging, { envFile: false, enableConsoleLogging: false, logDir }).ready().then(() => null, (e: Error & { code?: string }) => e)
  t.equal(err?.code, 'FST_API_LOGGING_LOG_DIR')
  t.match(err?.message, /EISDIR/)
  t.same(filesIn(logDir, /\.lock$/), [], 'the locks taken before the failure are released')
})

t.test('stale locks are taken over: a dead pid on this host, or any lock not refreshed for 30 s', async (t) => {
  const logDir = tempDir(t)
  const dead = await startServer(t, { LOG_DIR: tempDir(t), ENABLE_CONSOLE_LOGGING: 'false' })
  const deadPid = dead.child.pid ?? 0
  dead.child.kill('SIGKILL')
  await dead.exited
  writeFileSync(join(logDir, '.api.log.lock'), JSON.stringify({ pid: deadPid, host: hostname() }) + '\n')
  const old = new Date(Date.now() - 60_000)
  writeFileSync(join(logDir, '.api_structured.jsonl.lock'), JSON.stringify({ pid: 1, host: 'another-container' }) + '\n')
  utimesSync(join(logDir, '.api_structured.jsonl.lock'), old, old)
  const { app } = await buildApp(t, { logDir })
  for (const name of ['.api.log.lock', '.api_structured.jsonl.lock']) {
    t.same(JSON.parse(readFileSync(join(logDir, name), 'utf8')), { pid: process.pid, host: hostname() }, `${name} is now ours`)
  }
  await app.close()
  t.same(filesIn(logDir, /\.lock$/), [], 'and released at close')

  // A fresh lock of another host (another container on the same volume) is not taken over.
  writeFileSync(join(logDir, '.api.log.lock'), JSON.stringify({ pid: 1, host: 'another-container' }) + '\n')
  const second = Fastify()
  t.teardown(() => second.close())
  const err = await second.register(apiLogging, { envFile: false, enableConsoleLogging: false, logDir }).ready().then(() => null, (e: Error & { code?: string }) => e)
  t.equal(err?.code, ERR_LOG_FILE_LOCKED)
  t.match(err?.message, 'process 1 on host another-container')
})
