import t, { type Test } from 'tap'
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { getLogger } from '../dist/index.js'
import { buildApp, listFiles, readJsonLines, readTextLines, tempDir, type JsonRecord, waitFor } from './helpers/app'

const DATED = 'api_structured.jsonl.2025-01-14'
const TEXT_LINE = /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\] INFO \[api:\d+\] API (Request|Response): GET \/r\/(\d+)(?: - 200)? request_id=(\S+)(?: |$)/

type Entry = [kind: string, n: number, requestId: string]

/**
 * Sends `count` requests one after another; returns their ids, in order. With `flushEach`, each
 * request's lines are written before the next request, so they reach the file as their own chunk
 * (without it, hundreds of inject() calls coalesce into one 64 KB write).
 */
async function sendRequests (app: FastifyInstance, first: number, count: number, flushEach = false): Promise<string[]> {
  const ids: string[] = []
  for (let n = first; n < first + count; n++) {
    const res = await app.inject(`/r/${n}`)
    if (res.statusCode !== 200) throw new Error(`GET /r/${n} answered ${res.statusCode}`)
    ids.push(res.headers['x-request-id'] as string)
    if (flushEach) await app.apiLogging.flush()
  }
  return ids
}

/** The two lines each request writes, in order. */
function expectedEntries (ids: string[], first = 0): Entry[] {
  return ids.flatMap((id, i): Entry[] => [['Request', first + i, id], ['Response', first + i, id]])
}

/** Parses a text line of a /r/:n request; a line in another layout is returned as is, so `same` shows it. */
function parseTextLine (line: string): Entry | string {
  const match = TEXT_LINE.exec(line)
  return match === null ? line : [match[1], Number(match[2]), match[3]]
}

/** `api.log` and its backups: asserts the backups are numbered 1..K with no gap; returns K. */
function textBackups (t: Test, logDir: string): number {
  const names = listFiles(logDir).filter((name) => name.startsWith('api.log'))
  const backups = names.length - 1
  const expected = ['api.log', ...Array.from({ length: backups }, (_, i) => `api.log.${i + 1}`)]
  t.same(names.sort(), expected.sort(), 'api.log and api.log.1 … api.log.K, no gap, nothing else')
  return backups
}

/** The text lines of every file, oldest file first: api.log.K … api.log.1, api.log. */
function allTextLines (logDir: string, backups: number): string[] {
  const files = [...Array.from({ length: backups }, (_, i) => `api.log.${backups - i}`), 'api.log']
  return files.flatMap((file) => readTextLines(logDir, file))
}

function routes (app: FastifyInstance): void {
  app.get('/r/:n', async () => ({ ok: true }))
}

t.test('size rotation: api.log.1 … api.log.K, every line once, in order', async (t) => {
  const backupCount = 200
  const { app, logDir } = await buildApp(t, { logFileMaxBytes: 1024, logFileBackupCount: backupCount, enableJsonLogging: false })
  routes(app)
  const ids = await sendRequests(app, 0, 300, true)
  await app.close()

  const backups = textBackups(t, logDir)
  t.ok(backups >= 50, `rotated many times (${backups})`)
  t.ok(backups < backupCount, 'fewer rotations than backups kept, so no file was dropped')
  for (let i = 1; i <= backups; i++) {
    const text = readFileSync(join(logDir, `api.log.${i}`), 'utf8')
    const size = Buffer.byteLength(text)
    // Checked before each line, as Python's RotatingFileHandler does: rotated when the next line would not fit.
    const next = readFileSync(join(logDir, i === 1 ? 'api.log' : `api.log.${i - 1}`), 'utf8')
    const nextLine = Buffer.byteLength(next.slice(0, next.indexOf('\n') + 1))
    t.ok(size <= 1024 && size + nextLine > 1024, `api.log.${i} is within logFileMaxBytes and rotated when the next line did not fit (${size} + ${nextLine} bytes)`)
    t.ok(text.endsWith('\n'), `api.log.${i} ends with a whole line`)
  }
  const live = readFileSync(join(logDir, 'api.log'), 'utf8')
  t.ok(Buffer.byteLength(live) < 1024, 'the live file is below logFileMaxBytes')
  t.ok(live === '' || live.endsWith('\n'), 'the live file ends with a whole line')

  const lines = allTextLines(logDir, backups)
  t.same(lines.map(parseTextLine), expectedEntries(ids), 'every line exactly once, in the order logged')
  const stats = app.apiLogging.stats().file
  t.equal(stats.lines, lines.length, 'stats counts the lines on disk')
  t.equal(stats.dropped, 0)
})

t.test('size rotation: the oldest backup is dropped past logFileBackupCount', async (t) => {
  const { app, logDir } = await buildApp(t, { logFileMaxBytes: 1024, logFileBackupCount: 3, enableJsonLogging: false })
  routes(app)
  const ids = await sendRequests(app, 0, 100, true)
  await app.close()

  t.same(listFiles(logDir), ['api.log', 'api.log.1', 'api.log.2', 'api.log.3'], 'only api.log and three backups')
  const entries = allTextLines(logDir, 3).map(parseTextLine)
  const expected = expectedEntries(ids)
  t.ok(entries.length > 0 && entries.length < expected.length / 4, 'older lines were dropped with their files')
  t.same(entries, expected.slice(expected.length - entries.length), 'what is kept is the newest lines, contiguous, in order')
})

/** [message kind, request id] of the /r/:n lines of a JSON file. */
function jsonEntries (records: JsonRecord[]): Array<[string, string | null]> {
  return records.map((record) => [record.message.replace(/:.*$/, ''), record.request_id])
}

function expectedJson (ids: string[]): Array<[string, string]> {
  return ids.flatMap((id): Array<[string, string]> => [['API Request', id], ['API Response', id]])
}

t.test('daily rotation at UTC midnight of the injected clock', async (t) => {
  let clock = Date.parse('2025-01-14T23:59:59.700Z')
  const { app, logDir } = await buildApp(t, { now: () => clock })
  routes(app)

  const before = await sendRequests(app, 0, 20)
  await app.apiLogging.flush()
  t.notOk(existsSync(join(logDir, DATED)), 'no rotation while the clock is before midnight')

  clock = Date.parse('2025-01-15T00:00:00.100Z')
  await waitFor(t, `${DATED} to appear`, () => existsSync(join(logDir, DATED)))
  const after = await sendRequests(app, 20, 20)
  await app.close()

  const old = readJsonLines(logDir, DATED) // every line must parse
  const live = readJsonLines(logDir)
  t.same(jsonEntries(old), expectedJson(before), `${DATED} holds exactly the lines logged before midnight`)
  t.same(jsonEntries(live), expectedJson(after), 'the live file holds exactly the lines logged after midnight')
  t.same([...new Set(old.map((record) => record.timestamp))], ['2025-01-14T23:59:59.700Z'], 'timestamps before midnight come from the clock')
  t.same([...new Set(live.map((record) => record.timestamp))], ['2025-01-15T00:00:00.100Z'], 'timestamps after midnight come from the clock')
  const rotatedWithLines = listFiles(logDir).filter((name) => name.startsWith('api_structured.jsonl.') && statSync(join(logDir, name)).size > 0)
  t.same(rotatedWithLines, [DATED], 'no other rotated JSON file got lines (empty strays are checked in their own test)')

  t.same(listFiles(logDir).filter((name) => name.startsWith('api.log')), ['api.log'], 'the text file is not rotated daily')
  t.same(readTextLines(logDir).map(parseTextLine), expectedEntries([...before, ...after]), 'the text file has every line')
  const stats = app.apiLogging.stats().json
  t.equal(stats.lines, old.length + live.length, 'stats counts the JSON lines of both files')
  t.equal(stats.bytes, statSync(join(logDir, DATED)).size + statSync(join(logDir, 'api_structured.jsonl')).size, 'stats counts their bytes')
})

t.test('records logged by application code carry the injected clock too', async (t) => {
  const clock = Date.parse('2025-01-14T12:00:00.000Z')
  const { app, logDir } = await buildApp(t, { now: () => clock })
  app.get('/work', async (request) => {
    request.log.info('handler line')
    getLogger('job').info('job line inside a request')
    return { ok: true }
  })
  await app.inject('/work')
  getLogger('job').info('job line outside a request')
  await app.apiLogging.flush()

  const records = readJsonLines(logDir)
  t.same(records.map((record) => record.message).sort(),
    ['API Request: GET /work', 'API Response: GET /work - 200', 'handler line', 'job line inside a request', 'job line outside a request'].sort())
  for (const record of records) t.equal(record.timestamp, '2025-01-14T12:00:00.000Z', `timestamp of "${record.message}"`)
})

t.test('startup in an empty logDir with an injected clock creates no rotated file', async (t) => {
  const clock = Date.parse('2025-01-14T12:00:00.000Z')
  const { app, logDir } = await buildApp(t, { now: () => clock })
  routes(app)
  await sendRequests(app, 0, 1)
  await app.close()
  t.same(listFiles(logDir), ['api.log', 'api_structured.jsonl'], 'only the two live files')
})

t.test('startup rotates a live JSON file last written on an earlier UTC day', async (t) => {
  const logDir = tempDir(t)
  const stale = '{"timestamp":"2025-01-10T23:30:00.000Z","message":"old 1"}\n{"timestamp":"2025-01-10T23:30:00.500Z","message":"old 2"}\n'
  const livePath = join(logDir, 'api_structured.jsonl')
  writeFileSync(livePath, stale)
  // Late in the UTC day, so a rotation named by local time would differ in zones east of UTC.
  utimesSync(livePath, new Date('2025-01-10T23:30:01Z'), new Date('2025-01-10T23:30:01Z'))

  const clock = Date.parse('2025-01-15T12:00:00.000Z')
  const { app } = await buildApp(t, { logDir, now: () => clock })
  routes(app)
  const ids = await sendRequests(app, 0, 3)
  await app.close()

  t.same(listFiles(logDir), ['api.log', 'api_structured.jsonl', 'api_structured.jsonl.2025-01-10'], 'renamed after its mtime\'s UTC day')
  t.equal(readFileSync(join(logDir, 'api_structured.jsonl.2025-01-10'), 'utf8'), stale, 'the old content, untouched')
  t.same(jsonEntries(readJsonLines(logDir)), expectedJson(ids), 'the live file holds only the new lines')
})

t.test('startup appends to a live JSON file last written earlier the same UTC day', async (t) => {
  const logDir = tempDir(t)
  const earlier = '{"timestamp":"2025-01-15T00:30:00.000Z","message":"earlier today"}\n'
  const livePath = join(logDir, 'api_structured.jsonl')
  writeFileSync(livePath, earlier)
  utimesSync(livePath, new Date('2025-01-15T00:30:01Z'), new Date('2025-01-15T00:30:01Z'))

  const clock = Date.parse('2025-01-15T12:00:00.000Z')
  const { app } = await buildApp(t, { logDir, now: () => clock })
  routes(app)
  const ids = await sendRequests(app, 0, 3)
  await app.close()

  t.same(listFiles(logDir), ['api.log', 'api_structured.jsonl'], 'nothing rotated')
  const records = readJsonLines(logDir)
  t.equal(records[0]?.message, 'earlier today', 'the earlier line is kept first')
  t.same(jsonEntries(records.slice(1)), expectedJson(ids), 'the new lines follow')
})
