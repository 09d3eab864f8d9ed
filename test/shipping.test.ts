import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp, tempDir, type JsonRecord } from './helpers/app'
import { JSON_FILES, Load, filesIn, jsonLines } from './helpers/faults'
import { Daemon, Postgres, SHIPPING_DOCS, freePort, missingPrograms, renderDoc, startRsyslogd, waitForPort } from './helpers/shipping'

// The shipping pipeline that docs/integrations.md documents, end to end with the real programs:
// the plugin writes api_structured.jsonl under HTTP load; an edge rsyslogd tails the live path
// (imfile, inotify) and forwards over TCP through a disk-assisted queue; a central rsyslogd parses
// each line (mmjsonparse) and stores it in PostgreSQL as jsonb (ompgsql). On the way: two daily
// rotations (the plugin's clock moved a day at a time), one of them while the edge is frozen so
// it must read the renamed file's last lines late, and an outage of the central daemon. Then every
// line on disk must be in the table exactly once and unchanged.

const DAY = 86_400_000
const LIVE = 'api_structured.jsonl'
const BIG_CHUNK = 'it\'s a "quoted" \\path\\ with\ttabs, é and 😀 / '
// About 20 kB of text with what SQL and JSON escaping must survive: quotes, backslashes, tabs, UTF-8.
// Four parts: the redactor cuts any one string at 16384 characters.
const BIG = Array.from({ length: 4 }, () => BIG_CHUNK.repeat(Math.ceil(5000 / BIG_CHUNK.length)))
// One trace that reaches the service three times (three calls of an upstream service, each its own span).
const TRACE_ID = '5b8efff798038103d269b633813fc60c'
const UPSTREAM_SPANS = ['eee19b7ec3c1b174', 'eee19b7ec3c1b175', 'eee19b7ec3c1b176']
const ENABLE = 'API_LOGGING_SHIPPING_TEST'
const HOW_TO_RUN = `${ENABLE}=1 npm test (needs Debian's rsyslog, rsyslog-relp, rsyslog-pgsql and postgresql 15: apt-get install rsyslog rsyslog-relp rsyslog-pgsql postgresql)`

function skipReason (): string | false {
  if (process.env[ENABLE] !== '1') return `the rsyslog → PostgreSQL shipping test runs only when asked: ${HOW_TO_RUN}`
  return false
}

/** Every few requests an error, a 404 or a 20 kB record, so the store has something to query. */
function pathOf (n: number): string {
  if (n % 97 === 5) return `/big/${n}`
  if (n % 13 === 3) return `/fail/${n}`
  if (n % 7 === 2) return `/nowhere/${n}`
  return `/r/${n}`
}

function routes (app: FastifyInstance): void {
  app.get('/r/:n', async () => ({ ok: true }))
  app.get('/fail/:n', async () => { throw new Error('report store unavailable') })
  app.get('/big/:n', async (request) => {
    request.log.info({ big: BIG }, 'a 20 kB field')
    return { ok: true }
  })
}

/** JSON with the keys of every object sorted: equal records, whatever their key order, are equal strings. */
function canonical (value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
  })
}

function tally<T> (values: T[]): Map<T, number> {
  const counts = new Map<T, number>()
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1)
  return counts
}

/** The named queries of docs/shipping/queries.sql (`-- name: …` then the statement). */
function queries (): Map<string, string> {
  const text = readFileSync(join(SHIPPING_DOCS, 'queries.sql'), 'utf8')
  const found = new Map<string, string>()
  for (const section of text.split(/^-- name: /m).slice(1)) {
    const newline = section.indexOf('\n')
    found.set(section.slice(0, newline).trim(), section.slice(newline + 1).trim() + '\n')
  }
  return found
}

t.test('the configurations and queries in docs/integrations.md are the files the shipping test runs', async (t) => {
  const page = readFileSync(resolve(__dirname, '..', 'docs', 'integrations.md'), 'utf8')
  for (const name of ['rsyslog-edge.conf', 'rsyslog-central.conf', 'postgresql.sql']) {
    t.ok(page.includes(readFileSync(join(SHIPPING_DOCS, name), 'utf8').trim()), `docs/integrations.md shows docs/shipping/${name} as it is`)
  }
  const named = queries()
  t.same([...named.keys()], ['lines of one request', 'errors of the last hour', 'slowest requests', 'requests by status', 'lines of one trace, across services'])
  for (const [name, sql] of named) t.ok(page.includes(sql.trim()), `docs/integrations.md shows the query "${name}" as it is`)
})

t.test('rsyslog → PostgreSQL: every line on disk is stored once and unchanged, across two rotations and an outage of the central rsyslogd', { skip: skipReason() }, async (t) => {
  const missing = missingPrograms()
  // Asked for explicitly: a machine without the programs is a failure, not a skip, or CI would
  // pass without shipping being tested.
  if (missing.length > 0) {
    t.fail(`${ENABLE}=1 but not installed: ${missing.join(', ')}; ${HOW_TO_RUN}`)
    return
  }
  const dir = tempDir(t, 'api-logging-shipping-')
  chmodSync(dir, 0o755) // user postgres must reach its folder inside
  const logDir = join(dir, 'logs')
  for (const sub of ['logs', 'edge', 'central']) mkdirSync(join(dir, sub))
  const [tcpPort, pgPort] = [await freePort(), await freePort()]

  const pg = new Postgres(join(dir, 'pg'), pgPort)
  await pg.start(t)
  pg.query('postgres', 'CREATE DATABASE logs;')
  pg.query('logs', readFileSync(join(SHIPPING_DOCS, 'postgresql.sql'), 'utf8'))
  const count = (): number => Number(pg.query('logs', 'SELECT count(*) FROM api_records;')[0][0])

  const central = (): Daemon => startRsyslogd(t, 'central', renderDoc('rsyslog-central.conf', [
    ['/var/spool/rsyslog-api-central', join(dir, 'central')],
    ['port="10514"', `port="${tcpPort}"`],
    ['db.example.internal:5432', `127.0.0.1:${pgPort}`],
    ['/var/log/rsyslog-api-central/unparsed.log', join(dir, 'central', 'unparsed.log')]
  ]), dir)
  let centralDaemon = central()
  await waitForPort(centralDaemon, tcpPort)

  // The plugin's clock starts two days back, so after two rotations it is today again and
  // "the last hour" means the same in PostgreSQL as in the records.
  let offset = -2 * DAY
  const { app } = await buildApp(t, { logDir, now: () => Date.now() + offset, maxRecordBytes: 32_768 })
  routes(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const day = (shift: number): string => new Date(Date.now() + shift).toISOString().slice(0, 10)
  const firstDay = day(-2 * DAY)
  const secondDay = day(-DAY)

  const edge = startRsyslogd(t, 'edge', renderDoc('rsyslog-edge.conf', [
    ['/var/spool/rsyslog-api-edge', join(dir, 'edge')],
    ['/var/log/orders-api/api_structured.jsonl', join(logDir, LIVE)],
    ['logs.example.internal', '127.0.0.1'],
    ['port="10514"', `port="${tcpPort}"`]
  ]), dir)

  const load = new Load((app.server.address() as AddressInfo).port, { connections: 8, path: pathOf })
  const more = async (answers: number, done: () => boolean = () => true): Promise<void> => {
    const target = load.answers.length + answers
    await load.runUntil(() => load.answers.length >= target && done(), 200, 20_000)
  }
  const linesIn = (name: string): number => jsonLines(t, logDir, new RegExp(`^${name.replace(/\./g, '\\.')}$`)).length

  try {
    await more(300)

    // Rotation 1 with the edge frozen: the last lines of the first day's file are written while it
    // cannot read, and the file is renamed before it has read them.
    edge.signal('SIGSTOP')
    await app.apiLogging.flush()
    const linesBeforeFreeze = linesIn(LIVE)
    await more(150)
    offset += DAY
    await more(150, () => existsSync(join(logDir, `${LIVE}.${firstDay}`)))
    t.ok(existsSync(join(logDir, `${LIVE}.${firstDay}`)), `the live file was renamed to ${LIVE}.${firstDay}`)
    t.ok(linesIn(`${LIVE}.${firstDay}`) > linesBeforeFreeze, 'lines reached the first day\'s file while the edge could not read')
    edge.signal('SIGCONT')
    await more(300)

    // The central rsyslogd goes down under load; the edge's queue holds what the plugin goes on
    // writing, rotation 2 included, until it is back.
    await centralDaemon.stop('SIGTERM')
    const storedAtOutage = count()
    await more(300)
    offset += DAY
    await more(300, () => existsSync(join(logDir, `${LIVE}.${secondDay}`)))
    t.ok(existsSync(join(logDir, `${LIVE}.${secondDay}`)), `the live file was renamed to ${LIVE}.${secondDay} during the outage`)
    t.equal(count(), storedAtOutage, 'nothing was stored while the central rsyslogd was down')
    centralDaemon = central()
    await waitForPort(centralDaemon, tcpPort)
    await more(150)
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    for (const span of UPSTREAM_SPANS) {
      const res = await fetch(`${base}/r/traced`, { headers: { traceparent: `00-${TRACE_ID}-${span}-01` } })
      t.equal(res.status, 200)
    }
    await more(150)
  } finally {
    await load.stop()
  }
  await app.close()

  const onDisk = jsonLines(t, logDir)
  const files = filesIn(logDir, JSON_FILES)
  t.same(files, [LIVE, `${LIVE}.${firstDay}`, `${LIVE}.${secondDay}`], 'the live file and two rotated files')
  // The edge retries the central server every 2 s (action.resumeInterval); a busy machine may take
  // a while more to work off the queue.
  const deadline = Date.now() + 60_000
  while (count() < onDisk.length && Date.now() < deadline && edge.running && centralDaemon.running) await new Promise((resolve) => setTimeout(resolve, 100))
  // Stopping both daemons settles it: whatever was still on its way is stored or stays queued on
  // disk, so the count below is final.
  await edge.stop('SIGTERM')
  await centralDaemon.stop('SIGTERM')

  const rows = pg.query('logs', 'SELECT host, app, record::text FROM api_records ORDER BY id;')
  const stored = rows.map(([, , record]) => JSON.parse(record) as JsonRecord)
  if (!t.equal(stored.length, onDisk.length, `rows in PostgreSQL (${stored.length}) = lines in the ${files.length} JSON files (${onDisk.length})`)) {
    t.comment(edge.describe())
    t.comment(centralDaemon.describe())
    // Where the missing lines sit (file, line number of how many) tells which step lost them.
    const storedKeys = tally(stored.map(canonical))
    for (const name of files) {
      const records = jsonLines(t, logDir, new RegExp(`^${name.replace(/\./g, '\\.')}$`))
      records.forEach((record, i) => {
        if ((storedKeys.get(canonical(record)) ?? 0) === 0) t.comment(`not stored: ${name} line ${i + 1} of ${records.length}: ${record.timestamp} ${String(record.message)}`)
      })
    }
  }
  t.same([...new Set(rows.map(([host, app]) => `${host !== '' ? 'a host' : 'no host'} ${app}`))], ['a host orders-api'], 'every row names the edge\'s host and its input\'s tag')

  const withId = (records: JsonRecord[]): string[] => records.filter((record) => record.request_id !== null).map((record) => `${record.request_id} ${record.message}`)
  const storedPairs = tally(withId(stored))
  const diskPairs = tally(withId(onDisk))
  t.same([...diskPairs].filter(([, n]) => n !== 1).slice(0, 3), [], 'on disk, each (request_id, message) is there once')
  t.same([...diskPairs.keys()].filter((pair) => storedPairs.get(pair) !== 1).slice(0, 3), [], `each of the ${diskPairs.size} (request_id, message) pairs is stored exactly once`)
  t.same([...storedPairs.keys()].filter((pair) => !diskPairs.has(pair)).slice(0, 3), [], 'and nothing else')
  const diskCanonical = tally(onDisk.map(canonical))
  const storedCanonical = tally(stored.map(canonical))
  const differ = [...diskCanonical].filter(([record, n]) => storedCanonical.get(record) !== n)
  t.same(differ.slice(0, 2).map(([record]) => record.slice(0, 400)), [], 'every stored jsonb equals its line on disk, parsed')
  // The same comparison in PostgreSQL, where jsonb equality is exact (numbers as decimals): the
  // lines on disk, loaded as jsonb, against the rows rsyslog stored.
  const expectedCsv = join(dir, 'expected.csv')
  writeFileSync(expectedCsv, files.flatMap((name) => readFileSync(join(logDir, name), 'utf8').split('\n').filter((line) => line !== ''))
    .map((line) => `"${line.replace(/"/g, '""')}"\n`).join(''))
  pg.query('logs', `CREATE TABLE expected (record jsonb NOT NULL);\n\\copy expected (record) FROM '${expectedCsv}' WITH (FORMAT csv)\n`)
  t.same(pg.query('logs', `SELECT (SELECT count(*) FROM (SELECT record FROM expected EXCEPT ALL SELECT record FROM api_records) AS m),
    (SELECT count(*) FROM (SELECT record FROM api_records EXCEPT ALL SELECT record FROM expected) AS e);`), [['0', '0']],
  'in PostgreSQL: the lines on disk as jsonb EXCEPT ALL the stored records is empty, both ways')
  const completed = tally(stored.filter((record) => typeof record.status_code === 'number').map((record) => record.request_id))
  t.same(load.answers.filter((answer) => completed.get(answer.id) !== 1).slice(0, 3), [], `each of the ${load.answers.length} answered requests has its completion line stored once`)

  const bigStored = stored.filter((record) => record.message === 'a 20 kB field')
  t.ok(bigStored.length >= 2 && bigStored.length === onDisk.filter((record) => record.message === 'a 20 kB field').length, `the ${bigStored.length} records of about 20 kB are stored`)
  t.ok(bigStored.every((record) => JSON.stringify(record.big) === JSON.stringify(BIG)), 'with their 20 kB field intact')
  t.ok(Buffer.byteLength(JSON.stringify(bigStored[0])) > 20_000, 'the line is longer than 20 kB')
  t.notOk(existsSync(join(dir, 'central', 'unparsed.log')), 'no line failed to parse')

  checkQueries(t, pg, onDisk)
  t.comment(`shipped ${stored.length} records (${load.answers.length} requests, ${bigStored.length} of 20 kB) through ${files.length} files`)
  await pg.stop()
})

/** The queries of docs/shipping/queries.sql, against the store, answer what the files on disk say. */
function checkQueries (t: Test, pg: Postgres, onDisk: JsonRecord[]): void {
  const sql = queries()
  const run = (name: string, vars: Record<string, string> = {}): string[][] => pg.query('logs', sql.get(name) ?? '', vars)

  const big = onDisk.find((record) => record.message === 'a 20 kB field') as JsonRecord
  const ofRequest = onDisk.filter((record) => record.request_id === big.request_id)
  t.same(run('lines of one request', { request_id: String(big.request_id) }), ofRequest.map((record) => [record.timestamp, record.level, record.logger, record.message]),
    'lines of one request: the 20 kB request\'s lines, in order')

  const queriedAt = Date.now()
  const errors = run('errors of the last hour')
  const expectedErrors = onDisk.filter((record) => ['ERROR', 'CRITICAL'].includes(record.level) && Date.parse(record.timestamp) > queriedAt - 3600_000)
  const olderErrors = onDisk.filter((record) => record.level === 'ERROR').length - expectedErrors.length
  t.ok(expectedErrors.length > 0 && olderErrors > 0, `errors on every day: ${expectedErrors.length} in the last hour, ${olderErrors} on the days before`)
  t.same(errors.map(([, id, message, exception]) => [id, message, exception]).sort(), expectedErrors.map((record) => [record.request_id, record.message, record.exception_message]).sort(),
    'errors of the last hour: exactly the ERROR lines of the last hour, with their exception')

  const completions = onDisk.filter((record) => typeof record.status_code === 'number')
  const byStatus = [...tally(completions.map((record) => record.status_code as number))].sort(([a], [b]) => a - b).map(([status, n]) => [String(status), String(n)])
  t.same(run('requests by status'), byStatus, `requests by status: ${byStatus.map(([status, n]) => `${n}× ${status}`).join(', ')}`)

  const traced = onDisk.filter((record) => record.trace_id === TRACE_ID)
  t.equal(new Set(traced.map((record) => record.request_id)).size, UPSTREAM_SPANS.length, 'the trace has three requests on disk')
  const traceRows = run('lines of one trace, across services', { trace_id: TRACE_ID })
  t.same(traceRows.map(([timestamp, , app, span, id, message]) => [timestamp, app, span, id, message]),
    traced.map((record) => [record.timestamp, 'orders-api', record.span_id, record.request_id, record.message]),
    'lines of one trace: every line of its three requests, in order, with the service and the span of each')
  t.ok(traceRows.every(([, host]) => host !== ''), 'and the host each came from')

  const slowest = completions.map((record) => record.response_time_ms as number).sort((a, b) => b - a).slice(0, 10)
  t.same(run('slowest requests').map(([ms]) => Number(ms)), slowest, 'slowest requests: the ten longest response times')
}
