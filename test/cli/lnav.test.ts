import t from 'tap'
import { spawnSync } from 'node:child_process'
import { appendFileSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { getLogger, logApiCall } from '../../dist/index.js'
import { buildApp, readJsonLines, tempDir } from '../helpers/app'
import { hasCommand } from '../helpers/child'

const FORMAT = resolve(__dirname, '..', '..', 'lnav', 'fastify_api_logging.json')
const LNAV = hasCommand('lnav')

/** lnav with its configuration in `home` (so `-i` installs there, not in the user's), headless. */
function lnav (home: string, args: string[]): string {
  const result = spawnSync('lnav', args, { encoding: 'utf8', env: { ...process.env, HOME: home, TZ: 'UTC' }, timeout: 60_000 })
  if (result.status !== 0) throw new Error(`lnav ${args.join(' ')} exited with ${result.status}: ${result.stderr}`)
  return result.stdout
}

function query (home: string, file: string, sql: string): Array<Record<string, unknown>> {
  return JSON.parse(lnav(home, ['-n', '-c', `;${sql}`, '-c', ':write-json-to -', file])) as Array<Record<string, unknown>>
}

t.test('the format file is lnav format-v1 JSON for the plugin\'s record', async (t) => {
  const format = JSON.parse(readFileSync(FORMAT, 'utf8')) as Record<string, Record<string, unknown>>
  t.equal(format.$schema as unknown, 'https://lnav.org/schemas/format-v1.schema.json')
  const spec = format.fastify_api_logging
  t.same([spec.json, spec['timestamp-field'], spec['level-field'], spec['body-field'], spec['opid-field']], [true, 'timestamp', 'level', 'message', 'request_id'])
  const pattern = new RegExp(spec['file-pattern'] as string)
  for (const name of ['api_structured.jsonl', 'api_structured.jsonl.2025-01-14', 'api_structured.jsonl.2025-01-14.2.gz', 'api_structured.w3.jsonl']) t.match(name, pattern, name)
  t.notMatch('api.log', pattern)
})

t.test('lnav parses a file the plugin wrote with no unrecognised line', { skip: LNAV ? false : 'lnav is not installed (Debian: apt-get install lnav)' }, async (t) => {
  const { app, logDir } = await buildApp(t, { slowRequestThresholdMs: 1, logHeaders: true })
  app.get('/tracks/:id', async (request) => {
    request.log.info({ track: { id: (request.params as { id: string }).id, tags: ['a', 'b'] } }, 'loading "track"\nwith a newline')
    await new Promise((resolve) => setTimeout(resolve, 3))
    return { ok: true }
  })
  app.post('/videos', { schema: { body: { type: 'object', required: ['engine'] } } }, async () => ({ ok: true }))
  app.get('/fail', async () => { throw new Error('render failed') })
  app.get('/call', async () => logApiCall('sync', async () => { throw new TypeError('upstream timeout') }).catch(() => ({ ok: false })))
  for (let i = 0; i < 20; i++) await app.inject(`/tracks/${i}?q=a%20b`)
  await app.inject({ method: 'POST', url: '/videos', payload: { duration: 3 } })
  await app.inject('/fail')
  await app.inject('/call')
  await app.inject('/nowhere')
  getLogger('jobs').warn({ request_id: 'job-7', attempt: 2 }, 'nightly job retried')
  getLogger('jobs').debug('not written at INFO')
  await app.close()

  const file = join(logDir, 'api_structured.jsonl')
  const records = readJsonLines(logDir)
  const home = tempDir(t, 'api-logs-lnav-')
  lnav(home, ['-i', FORMAT])
  t.same(query(home, file, 'SELECT format FROM lnav_file'), [{ format: 'fastify_api_logging' }], 'the file is recognised as this format')
  const [counts] = query(home, file, "SELECT count(*) AS records, sum(log_level = 'invalid') AS invalid, count(DISTINCT log_opid) AS requests FROM fastify_api_logging")
  t.equal(counts.records, records.length, `one row per line (${records.length})`)
  t.equal(counts.invalid, 0, 'no unrecognised line')
  t.equal(counts.requests, new Set(records.map((r) => r.request_id).filter((id) => id !== null)).size, 'request_id is the operation id')
  const levels = query(home, file, 'SELECT log_level, count(*) AS n FROM fastify_api_logging GROUP BY log_level ORDER BY log_level')
  const expected = new Map<string, number>()
  for (const record of records) expected.set(record.level.toLowerCase(), (expected.get(record.level.toLowerCase()) ?? 0) + 1)
  t.same(Object.fromEntries(levels.map((row) => [row.log_level, row.n])), Object.fromEntries(expected), 'levels mapped one to one')
  const [first] = query(home, file, 'SELECT log_time, log_body, log_opid FROM fastify_api_logging LIMIT 1')
  t.same(first, { log_time: records[0].timestamp.replace('T', ' ').replace('Z', ''), log_body: records[0].message, log_opid: records[0].request_id }, 'timestamp, body and opid of the first record')
  const [slow] = query(home, file, 'SELECT count(*) AS n, max(response_time_ms) > 0 AS timed FROM fastify_api_logging WHERE status_code = 200 AND endpoint = \'/tracks/:id\'')
  t.same(slow, { n: 20, timed: 1 }, 'fields are columns with their types')

  // The check can fail: a damaged line is counted.
  appendFileSync(file, 'torn {"timestamp":\n')
  const [damaged] = query(home, file, "SELECT sum(log_level = 'invalid') AS invalid FROM fastify_api_logging")
  t.equal(damaged.invalid, 1, 'a damaged line shows as invalid')
})
