import t from 'tap'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { getLogger } from '../dist/index.js'
import { buildApp, readJsonLines, readTextLines, tempDir, type JsonRecord } from './helpers/app'
import { fixture, runFixture, start } from './helpers/child'

const TEXT_FILES = /^api\.log(\.\d+)?$/
const JSON_FILES = /^api_structured\.jsonl(\.\d{4}-\d{2}-\d{2}(\.\d+)?)?$/

function filesOf (logDir: string, pattern: RegExp): string[] {
  return readdirSync(logDir).filter((name) => pattern.test(name))
}

function bytesOf (logDir: string, pattern: RegExp): number {
  return filesOf(logDir, pattern).reduce((sum, name) => sum + statSync(join(logDir, name)).size, 0)
}

function textLinesOf (logDir: string): string[] {
  return filesOf(logDir, TEXT_FILES).flatMap((name) => readTextLines(logDir, name))
}

function jsonLinesOf (logDir: string): JsonRecord[] {
  return filesOf(logDir, JSON_FILES).flatMap((name) => readJsonLines(logDir, name))
}

/** How many times each value occurs. */
function tally (values: Array<string | null>): Map<string | null, number> {
  const counts = new Map<string | null, number>()
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1)
  return counts
}

t.test('close() writes every pending line, across many rotations', async (t) => {
  const requests = 3000
  const bulkLines = 5000
  // About 330 files of 4 KiB: many rotations, and fewer than the backups kept. 3,000 requests at
  // once can take more than a second on a busy machine: no slow-request lines to count.
  const { app, logDir } = await buildApp(t, { logFileMaxBytes: 4096, logFileBackupCount: 999, slowRequestThresholdMs: 0 })
  app.get('/r/:n', async () => ({ ok: true }))

  const responses = await Promise.all(Array.from({ length: requests }, (_, n) => app.inject(`/r/${n}`)))
  const ids = responses.map((res) => res.headers['x-request-id'] as string)
  t.equal(new Set(ids).size, requests, 'every request got its own id')
  const bulk = getLogger('bulk')
  for (let i = 0; i < bulkLines; i++) bulk.info('bulk line %d', i)
  const before = app.apiLogging.stats()
  t.ok(before.file.pending >= bulkLines && before.json.pending >= bulkLines, 'the bulk lines are still queued when close() is called')
  await app.close()

  const total = requests * 2 + bulkLines
  const textFiles = filesOf(logDir, TEXT_FILES)
  t.ok(textFiles.length > 1 && textFiles.length <= 1000, `api.log rotated (${textFiles.length} files) without dropping a backup`)
  const text = textLinesOf(logDir)
  t.equal(text.length, total, 'every text line is on disk')
  const textIds = tally(text.map((line) => /request_id=(\S+)/.exec(line)?.[1] ?? null))
  t.ok(ids.every((id) => textIds.get(id) === 2), 'each request has its two text lines')
  const textBulk = tally(text.map((line) => /^\[[^\]]+\] INFO \[bulk:\d+\] bulk line (\d+)$/.exec(line)?.[1] ?? null))
  t.ok(Array.from({ length: bulkLines }, (_, i) => String(i)).every((i) => textBulk.get(i) === 1), 'each bulk line once in the text files')

  const json = jsonLinesOf(logDir)
  t.equal(json.length, total, 'every JSON line is on disk')
  const jsonIds = tally(json.map((record) => record.request_id))
  t.ok(ids.every((id) => jsonIds.get(id) === 2), 'each request has its two JSON lines')
  const jsonBulk = tally(json.filter((record) => record.logger === 'bulk').map((record) => record.message))
  t.ok(Array.from({ length: bulkLines }, (_, i) => `bulk line ${i}`).every((message) => jsonBulk.get(message) === 1), 'each bulk line once in the JSON file')

  const stats = app.apiLogging.stats()
  t.same(stats.file, { enabled: true, lines: text.length, bytes: bytesOf(logDir, TEXT_FILES), dropped: 0, pending: 0, pendingBytes: 0, errors: 0, failing: false, reopens: 0 }, 'file stats match the files')
  t.same(stats.json, { enabled: true, lines: json.length, bytes: bytesOf(logDir, JSON_FILES), dropped: 0, pending: 0, pendingBytes: 0, errors: 0, failing: false, reopens: 0 }, 'json stats match the file')
  t.same(stats.console, { enabled: false, lines: 0, bytes: 0, dropped: 0, pending: 0, pendingBytes: 0, errors: 0, failing: false, reopens: 0 }, 'console is off')
})

t.test('flush() resolves once every line logged so far is on disk', async (t) => {
  const { app, logDir } = await buildApp(t)
  app.get('/r/:n', async () => ({ ok: true }))
  const responses = await Promise.all(Array.from({ length: 50 }, (_, n) => app.inject(`/r/${n}`)))
  for (let i = 0; i < 100; i++) getLogger('bulk').info('bulk line %d', i)
  t.ok(app.apiLogging.stats().file.pending > 0, 'lines are queued before flush()')
  await app.apiLogging.flush()

  const ids = responses.map((res) => res.headers['x-request-id'] as string)
  const text = readTextLines(logDir)
  const json = readJsonLines(logDir)
  t.equal(text.length, 200, 'every text line is written before close')
  t.equal(json.length, 200, 'every JSON line is written before close')
  const jsonIds = tally(json.map((record) => record.request_id))
  t.ok(ids.every((id) => jsonIds.get(id) === 2), 'each request has its two JSON lines')
  t.same(json.filter((record) => record.logger === 'bulk').map((record) => record.message), Array.from({ length: 100 }, (_, i) => `bulk line ${i}`))
  const stats = app.apiLogging.stats()
  t.same([stats.file.pending, stats.file.lines, stats.file.bytes], [0, 200, statSync(join(logDir, 'api.log')).size], 'file stats')
  t.same([stats.json.pending, stats.json.lines, stats.json.bytes], [0, 200, statSync(join(logDir, 'api_structured.jsonl')).size], 'json stats')
})

interface Answer {
  status: number
  requestId: string
}

/** GET over a new connection; resolves null when the server refused or dropped it. */
function get (port: number, path: string): Promise<Answer | null> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, requestId: String(res.headers['x-request-id']) }))
      res.on('error', () => resolve(null))
    })
    req.on('error', () => resolve(null))
    req.end()
  })
}

t.test('SIGTERM handled with app.close(): every answered request is on disk', async (t) => {
  const logDir = tempDir(t)
  const server = start(process.execPath, [fixture('server.js'), logDir], { timeoutMs: 90_000 })
  t.teardown(() => { if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL') })
  const port = Number((await server.waitForLine(/^LISTENING (\d+)$/))[1])

  // A first wave, all answered before the signal.
  const first = await Promise.all(Array.from({ length: 100 }, (_, n) => get(port, `/tasks/${n}`)))
  t.ok(first.every((answer) => answer?.status === 200), 'the first wave is answered')

  // A second wave in flight when SIGTERM arrives.
  let answeredInWave = 0
  let signalled = false
  const second = Array.from({ length: 300 }, (_, n) => get(port, `/tasks/${100 + n}`).then((answer) => {
    if (answer !== null && ++answeredInWave === 20 && !signalled) {
      signalled = true
      server.child.kill('SIGTERM')
    }
    return answer
  }))
  const wave = await Promise.all(second)
  if (!signalled) server.child.kill('SIGTERM')
  const exit = await server.result
  t.equal(exit.code, 0, `the server exits 0 (stderr: ${exit.stderr})`)

  const answered = [...first, ...wave].filter((answer): answer is Answer => answer !== null && answer.status === 200)
  t.ok(answered.length >= 120, `${answered.length} requests answered`)
  const json = jsonLinesOf(logDir)
  const responses = new Set(json.filter((record) => record.message.startsWith('API Response: GET /tasks/')).map((record) => record.request_id))
  const steps = tally(json.filter((record) => record.message === 'work step').map((record) => record.request_id))
  const missing = answered.filter((answer) => !responses.has(answer.requestId))
  t.same(missing, [], 'every answered request has its API Response line in the JSON file')
  t.ok(answered.every((answer) => steps.get(answer.requestId) === 50), 'and all 50 of its handler lines')
  const textResponses = new Set(textLinesOf(logDir).map((line) => / API Response: GET \/tasks\/\d+ - 200 request_id=(\S+)/.exec(line)?.[1]))
  t.same(answered.filter((answer) => !textResponses.has(answer.requestId)), [], 'and its API Response line in api.log')
})

t.test('getLogger() after app.close() writes to stderr and does not throw', async (t) => {
  const logDir = tempDir(t)
  const result = await runFixture('after-close.js', [logDir])
  t.equal(result.code, 0, `the script exits 0 (stderr: ${result.stderr})`)
  t.equal(result.stdout, 'DONE\n', 'it got past the late log calls')
  t.match(result.stderr, /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\] INFO \[late\] logged after close ok$/m, 'the late info line is on stderr')
  t.match(result.stderr, /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\] WARNING \[late\] late warning$/m, 'the late warning is on stderr')
  const files = readFileSync(join(logDir, 'api.log'), 'utf8') + readFileSync(join(logDir, 'api_structured.jsonl'), 'utf8')
  t.notMatch(files, /late/, 'the late lines are not in the closed files')
  t.equal(readJsonLines(logDir).length, 2, 'the files hold the request\'s two lines')
})
