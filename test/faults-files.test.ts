import { copyFileSync, existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { WARN_FILE_REOPENED, type ApiLoggingStats } from '../dist/index.js'
import { buildApp, tempDir, type JsonRecord } from './helpers/app'
import { Load, TEXT_FILES, can, captureWarnings, filesIn, jsonLines, sh, startServer, textLines, timeUntil, type Answer } from './helpers/faults'

// Someone else's hands on the files of a running server: rm, rm -rf, mv, copytruncate, logrotate,
// a crash. Real files, a real socket, load all along.

const DETECT_BOUND_MS = 1000
const CLOSE_BOUND_MS = 5000
const JSON_FILE = 'api_structured.jsonl'
const TEXT_FILE = 'api.log'

async function serve (app: FastifyInstance): Promise<number> {
  app.get('/r/:n', async () => ({ ok: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as AddressInfo).port
}

const isRequestLine = (message: string): boolean => /^API (Request|Response): GET \/r\/\d+/.test(message)
const textMessage = (line: string): string => line.replace(/^\[[^\]]+\] \S+ \[[^\]]+\] /, '')
const textResponseId = (line: string): string | undefined => / API Response: GET \/r\/\d+ - 200 request_id=(\S+)/.exec(line)?.[1]

function tally (values: Array<string | null | undefined>): Map<string | null | undefined, number> {
  const counts = new Map<string | null | undefined, number>()
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1)
  return counts
}

/** Each answer's API Response line, once, in both the JSON and the text lines. */
function assertOnce (t: Test, answers: Answer[], json: JsonRecord[], text: string[], what: string): void {
  const jsonCounts = tally(json.filter((record) => record.message.startsWith('API Response')).map((record) => record.request_id))
  const textCounts = tally(text.map(textResponseId).filter((id) => id !== undefined))
  t.same(answers.filter((answer) => jsonCounts.get(answer.id) !== 1).slice(0, 3), [], `${what}: each has its API Response line exactly once in the JSON files`)
  t.same(answers.filter((answer) => textCounts.get(answer.id) !== 1).slice(0, 3), [], `${what}: and in api.log`)
}

function assertAccounting (t: Test, stats: ApiLoggingStats, produced: number, json: JsonRecord[], text: string[]): void {
  t.equal(stats.json.lines, json.length, `json: lines written (${stats.json.lines}) = lines on disk`)
  t.equal(stats.json.lines + stats.json.dropped, produced + json.filter((record) => !isRequestLine(record.message)).length, 'json: written + dropped = produced')
  t.equal(stats.file.lines, text.length, `file: lines written (${stats.file.lines}) = lines on disk`)
  t.equal(stats.file.lines + stats.file.dropped, produced + text.filter((line) => !isRequestLine(textMessage(line))).length, 'file: written + dropped = produced')
}

async function closeTimed (t: Test, app: FastifyInstance): Promise<void> {
  const start = performance.now()
  await app.close()
  const ms = performance.now() - start
  t.ok(ms < CLOSE_BOUND_MS, `close() took ${ms.toFixed(0)} ms`)
}

for (const what of ['files', 'folder'] as const) {
  t.test(`rm of the active ${what === 'files' ? 'files' : 'files\' folder (rm -rf)'} under load: reopened within 1 s, no line lost into the deleted files`, async (t) => {
    const warnings = captureWarnings(t, WARN_FILE_REOPENED)
    const dir = tempDir(t)
    const { app, logDir } = await buildApp(t, { logDir: join(dir, 'logs') })
    const port = await serve(app)
    const load = new Load(port, { connections: 8, pauseMs: 2 })
    await sleep(300)
    const removedAt = performance.now()
    if (what === 'files') {
      unlinkSync(join(logDir, TEXT_FILE))
      unlinkSync(join(logDir, JSON_FILE))
    } else {
      rmSync(logDir, { recursive: true })
    }
    const detected = await timeUntil(() => app.apiLogging.stats().json.reopens >= 1 && app.apiLogging.stats().file.reopens >= 1, 3000)
    t.ok(detected <= DETECT_BOUND_MS, `both files reopened ${detected.toFixed(0)} ms after the rm`)
    await sleep(300)
    await load.stop()
    if (what === 'folder') t.ok(existsSync(join(logDir, '.api.log.lock')) && existsSync(join(logDir, '.api_structured.jsonl.lock')), `the lock files are back too (${readdirSync(logDir).join(' ')})`)
    await closeTimed(t, app)

    t.equal(load.failures, 0, 'every request got an answer')
    t.ok(load.answers.every((answer) => answer.status === 200), `all ${load.answers.length} answers are 200`)
    const json = jsonLines(t, logDir)
    const text = textLines(t, logDir)
    // Completion lines of requests answered after the rm were logged after it: the files keep
    // them all, those written into the deleted file before the check included (copied over).
    const after = load.answers.filter((answer) => answer.at > removedAt + 20)
    t.ok(after.length > 100, `${after.length} requests answered after the rm`)
    assertOnce(t, after, json, text, 'requests answered after the rm')
    const counts = tally(json.map((record) => `${record.request_id ?? ''} ${record.message}`))
    t.ok([...counts.values()].every((n) => n === 1), 'no line twice in the new files')
    const causes = json.filter((record) => record.reopen_cause !== undefined).map((record) => String(record.reopen_cause)).sort()
    if (what === 'files') t.same(causes, ['deleted', 'deleted'], 'one WARNING per file')
    // A file reopened while rm -rf is still emptying the folder finds the folder there: 'deleted'.
    else t.ok(causes.length === 2 && causes.includes('folder') && causes.every((cause) => cause === 'folder' || cause === 'deleted'), `one WARNING per file, the folder named (${causes.join(', ')})`)
    t.equal(warnings.length, 2, 'and one process warning per file')
    const stats = app.apiLogging.stats()
    t.ok(stats.json.lines >= json.length && stats.file.lines >= text.length, 'the files hold what was written after the rm (the rest went with the deleted files)')
    t.equal(stats.json.lines + stats.json.dropped + stats.json.pending, 2 * load.answers.length + 2, 'json: written + dropped = produced (with the two notices)')
  })
}

t.test('mv of the active files under load: new live files within 1 s, every line once across the old and the new', async (t) => {
  const { app, logDir } = await buildApp(t)
  const port = await serve(app)
  const load = new Load(port, { connections: 8, pauseMs: 2 })
  await sleep(300)
  renameSync(join(logDir, TEXT_FILE), join(logDir, 'moved.log'))
  renameSync(join(logDir, JSON_FILE), join(logDir, 'moved.jsonl'))
  const detected = await timeUntil(() => existsSync(join(logDir, TEXT_FILE)) && existsSync(join(logDir, JSON_FILE)), 3000)
  t.ok(detected <= DETECT_BOUND_MS, `new live files ${detected.toFixed(0)} ms after the mv`)
  await sleep(300)
  await load.stop()
  await closeTimed(t, app)

  t.equal(load.failures, 0, 'every request got an answer')
  const json = jsonLines(t, logDir, /^(api_structured\.jsonl|moved\.jsonl)$/)
  const text = textLines(t, logDir, /^(api\.log|moved\.log)$/)
  assertOnce(t, load.answers, json, text, `all ${load.answers.length} requests`)
  assertAccounting(t, app.apiLogging.stats(), 2 * load.answers.length, json, text)
  t.ok(readFileSync(join(logDir, JSON_FILE), 'utf8').length > 0, 'the new live JSON file has lines')
  t.ok(json.some((record) => record.reopen_cause === 'renamed' && record.level === 'INFO'), 'one INFO line says the file was moved away')
})

t.test('reopen() after a rename: the new files exist once it resolves, with no notice line', async (t) => {
  const { app, logDir } = await buildApp(t)
  await serve(app)
  await app.inject('/r/1')
  await app.apiLogging.flush()
  renameSync(join(logDir, TEXT_FILE), join(logDir, `${TEXT_FILE}.1`))
  renameSync(join(logDir, JSON_FILE), join(logDir, `${JSON_FILE}.1`))
  await app.apiLogging.reopen()
  t.ok(existsSync(join(logDir, TEXT_FILE)) && existsSync(join(logDir, JSON_FILE)), 'both live files are back')
  await app.inject('/r/2')
  await app.close()
  t.same(jsonLines(t, logDir, /^api_structured\.jsonl$/).map((record) => record.path), ['/r/2', '/r/2'], 'the new file holds the lines after reopen()')
  t.same(jsonLines(t, logDir, /^api_structured\.jsonl\.1$/).map((record) => record.path), ['/r/1', '/r/1'], 'the renamed one those before')
  const stats = app.apiLogging.stats()
  t.same([stats.json.reopens, stats.file.reopens], [1, 1], 'counted as reopens')
  t.equal(jsonLines(t, logDir).filter((record) => record.reopen_cause !== undefined).length, 0, 'an asked-for reopen writes no notice')
})

t.test('copytruncate: the truncation is noticed, size rotation counts from the new start', async (t) => {
  const maxBytes = 65536
  const { app, logDir } = await buildApp(t, { logFileMaxBytes: maxBytes, logFileBackupCount: 100 })
  const port = await serve(app)
  const load = new Load(port, { connections: 8, pauseMs: 2 })
  await sleep(400)
  // Truncate a file with lines in it and far from its next rotation: right after a rotation the
  // new file can still be empty, and emptying an empty file is nothing to notice.
  await timeUntil(() => {
    const size = statSync(join(logDir, TEXT_FILE), { throwIfNoEntry: false })?.size ?? 0
    return size >= 4096 && size <= maxBytes / 2
  }, 3000)
  copyFileSync(join(logDir, TEXT_FILE), join(logDir, 'copy.log'))
  truncateSync(join(logDir, TEXT_FILE), 0)
  const detected = await timeUntil(() => app.apiLogging.stats().file.reopens >= 1, 3000)
  t.ok(detected <= DETECT_BOUND_MS, `the truncation is noticed after ${detected.toFixed(0)} ms`)
  await sleep(800)
  await load.stop()
  await closeTimed(t, app)
  const backups = filesIn(logDir, TEXT_FILES).filter((name) => name !== TEXT_FILE)
  t.ok(backups.length >= 2, `rotated ${backups.length} times`)
  const longest = Math.max(...textLines(t, logDir).map((line) => Buffer.byteLength(line) + 1))
  for (const name of backups) {
    const size = statSync(join(logDir, name)).size
    t.ok(size <= maxBytes && size > maxBytes - longest, `${name}: ${size} bytes, rotated when full (no early rotation after the truncation)`)
  }
  const json = jsonLines(t, logDir)
  t.ok(json.some((record) => record.reopen_cause === 'truncated' && record.level === 'WARNING'), 'a WARNING says copytruncate loses lines')
})

t.test('a torn last line left by a crash: a new line starts on a line of its own', async (t) => {
  const logDir = tempDir(t)
  writeFileSync(join(logDir, JSON_FILE), '{"timestamp":"2099-01-01T00:00:00.000Z","message":"whole"}\n{"timestamp":"2099-01-01T00:00:01.000Z","mess')
  writeFileSync(join(logDir, TEXT_FILE), '[2099-01-01 00:00:00] INFO [api:1] whole\n[2099-01-01 00:00:01] INFO [api:1] tor')
  const { app } = await buildApp(t, { logDir, now: () => Date.parse('2099-01-01T00:00:02.000Z') })
  await serve(app)
  await app.inject('/r/1')
  await app.close()
  const json = readFileSync(join(logDir, JSON_FILE), 'utf8').split('\n')
  t.equal(json[1], '{"timestamp":"2099-01-01T00:00:01.000Z","mess', 'the torn fragment stays, alone on its line')
  t.same(json.slice(2, -1).map((line) => (JSON.parse(line) as JsonRecord).path), ['/r/1', '/r/1'], 'the new lines are whole and parse')
  const text = readFileSync(join(logDir, TEXT_FILE), 'utf8').split('\n')
  t.equal(text[1], '[2099-01-01 00:00:01] INFO [api:1] tor')
  t.match(text[2], / API Request: GET \/r\/1 /, 'the next text line starts on its own line')
})

t.test('kill -9 mid-write, then a restart on the same files: no torn line, the stale locks taken over', async (t) => {
  const logDir = join(tempDir(t), 'logs')
  const env = { LOG_DIR: logDir, LOG_FILE_MAX_BYTES: '16384', LOG_FILE_BACKUP_COUNT: '999', ENABLE_CONSOLE_LOGGING: 'false', FIXTURE_STEPS: '5' }
  const first = await startServer(t, env)
  const load = new Load(first.port, { connections: 8 })
  // Enough requests for a few rotations, however busy the machine is.
  await load.runUntil(() => load.answers.length >= 600, 600)
  first.child.kill('SIGKILL')
  const exit = await first.exited
  await load.stop()
  t.equal(exit.signal, 'SIGKILL', 'the server was killed')
  const beforeJson = jsonLines(t, logDir)
  textLines(t, logDir)
  t.ok(beforeJson.length > 1000, `${beforeJson.length} JSON lines written before the kill, every one whole`)
  t.ok(existsSync(join(logDir, '.api_structured.jsonl.lock')), 'the killed server left its locks')

  const second = await startServer(t, env)
  const again = new Load(second.port, { connections: 4 })
  await sleep(300)
  await again.stop()
  const closed = await second.ask<{ stats: ApiLoggingStats, closeMs: number }>('close')
  await second.exited
  t.ok(closed.closeMs < CLOSE_BOUND_MS, `close() took ${closed.closeMs.toFixed(0)} ms`)
  const json = jsonLines(t, logDir)
  const text = textLines(t, logDir)
  const responses = tally(json.filter((record) => record.message.startsWith('API Response')).map((record) => record.request_id))
  t.same(again.answers.filter((answer) => responses.get(answer.id) !== 1), [], `the restarted server wrote each of its ${again.answers.length} requests once`)
  t.equal(json.length - beforeJson.length, closed.stats.json.lines, 'its JSON lines are exactly what it counted')
  t.equal(filesIn(logDir, /\.pending\.\d+$/).length, 0, 'no rotation left half done')
  const backups = filesIn(logDir, TEXT_FILES).filter((name) => name !== TEXT_FILE).map((name) => Number(name.slice(TEXT_FILE.length + 1))).sort((a, b) => a - b)
  t.same(backups, Array.from({ length: backups.length }, (_, i) => i + 1), `api.log.1 … api.log.${backups.length}, no gap`)
  t.ok(text.length > 0)
  t.notOk(existsSync(join(logDir, '.api_structured.jsonl.lock')), 'the locks are gone after close')
})

t.test('logrotate with create and a postrotate SIGHUP (LOG_REOPEN_SIGNAL=SIGHUP) under load', async (t) => {
  if (!can('logrotate', ['--version'])) {
    t.plan(0, 'logrotate is not installed (apt-get install logrotate)')
    return
  }
  const dir = tempDir(t)
  const logDir = join(dir, 'logs')
  const server = await startServer(t, { LOG_DIR: logDir, LOG_REOPEN_SIGNAL: 'SIGHUP', ENABLE_CONSOLE_LOGGING: 'false' })
  const config = join(dir, 'logrotate.conf')
  writeFileSync(config, `${join(logDir, TEXT_FILE)} ${join(logDir, JSON_FILE)} {
  rotate 3
  create
  missingok
  nocompress
  sharedscripts
  postrotate
    kill -HUP ${server.child.pid ?? 0}
  endscript
}
`)
  const load = new Load(server.port, { connections: 8, pauseMs: 2 })
  await sleep(300)
  sh('logrotate', ['-f', '-s', join(dir, 'logrotate.state'), config])
  await sleep(400)
  await load.stop()
  t.equal(server.child.signalCode, null, 'SIGHUP did not end the server')
  const closed = await server.ask<{ stats: ApiLoggingStats, closeMs: number }>('close')
  const exit = await server.exited
  t.equal(exit.code, 0, 'it ran until asked to close')
  t.ok(closed.closeMs < CLOSE_BOUND_MS, `close() took ${closed.closeMs.toFixed(0)} ms`)
  t.same(filesIn(logDir, /^api/), [TEXT_FILE, `${TEXT_FILE}.1`, JSON_FILE, `${JSON_FILE}.1`], 'logrotate\'s .1 files and new live files')
  const json = jsonLines(t, logDir, /^api_structured\.jsonl(\.1)?$/)
  const text = textLines(t, logDir, /^api\.log(\.1)?$/)
  t.equal(load.failures, 0, 'every request got an answer')
  assertOnce(t, load.answers, json, text, `all ${load.answers.length} requests`)
  assertAccounting(t, closed.stats, 2 * load.answers.length, json, text)
  t.ok(readFileSync(join(logDir, JSON_FILE), 'utf8').length > 0, 'the server writes the new files')
  t.ok(closed.stats.json.reopens >= 1 && closed.stats.file.reopens >= 1, 'reopened')
})
