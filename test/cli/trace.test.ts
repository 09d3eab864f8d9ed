import t from 'tap'
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { getLogger } from '../../dist/index.js'
import { buildApp, readTextLines, waitFor } from '../helpers/app'
import { BIN, cli, cliProcess, generate, logFolder } from '../helpers/cli'
import { start } from '../helpers/child'

t.test('trace: a request logged across a UTC-midnight rotation, in time order, as api.log has it', async (t) => {
  let clock = Date.parse('2025-01-14T23:59:59.500Z')
  // The request waits for the rotation, which can take more than a second on a busy machine: no
  // slow-request warning, so the request has exactly its four lines.
  const { app, logDir } = await buildApp(t, { now: () => clock, slowRequestThresholdMs: 0 })
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  app.get('/slow/:n', async (request) => {
    request.log.info({ step: 'before midnight' }, 'waiting for the upstream')
    await held
    getLogger('db').warn({ step: 'after midnight', quote: 'say "hi"\nthen go' }, 'upstream answered late')
    return { ok: true }
  })
  app.get('/other', async () => ({ ok: true }))
  const pending = app.inject('/slow/1')
  await app.inject('/other')
  await app.apiLogging.flush()
  clock = Date.parse('2025-01-15T00:00:00.250Z')
  await waitFor(t, 'the daily rotation', () => existsSync(join(logDir, 'api_structured.jsonl.2025-01-14')))
  release()
  const res = await pending
  await app.inject('/other')
  await app.close()
  const id = res.headers['x-request-id'] as string

  const before = readFileSync(join(logDir, 'api_structured.jsonl.2025-01-14'), 'utf8')
  const after = readFileSync(join(logDir, 'api_structured.jsonl'), 'utf8')
  t.ok(before.includes(id) && after.includes(id), 'the request has lines in both files')

  const text = await cli(['trace', id, '--dir', logDir])
  t.equal(text.code, 0)
  t.equal(text.stderr, '')
  const expected = readTextLines(logDir).filter((line) => line.includes(`request_id=${id}`))
  t.equal(expected.length, 4, 'start, two application lines, completion')
  t.same(text.stdout.trimEnd().split('\n'), expected, 'the lines api.log has for it, in order')

  const json = await cli(['trace', id, '--json', '--dir', logDir])
  const lines = json.stdout.trimEnd().split('\n')
  t.same(lines, [...before.split('\n'), ...after.split('\n')].filter((line) => line.includes(`"request_id":"${id}"`)), 'the JSON lines as written')
  t.same(lines.map((line) => (JSON.parse(line) as { timestamp: string }).timestamp), ['2025-01-14T23:59:59.500Z', '2025-01-14T23:59:59.500Z', '2025-01-15T00:00:00.250Z', '2025-01-15T00:00:00.250Z'])

  // Rotated files compressed later are read the same way.
  const rotated = join(logDir, 'api_structured.jsonl.2025-01-14')
  writeFileSync(rotated + '.gz', gzipSync(readFileSync(rotated)))
  unlinkSync(rotated)
  const fromGzip = await cli(['trace', id, '--dir', logDir])
  t.same(fromGzip.stdout, text.stdout, 'the same from a .gz backup')
})

t.test('trace: records from several files sorted by time, the id matched exactly', async (t) => {
  const { lines } = generate({ start: Date.parse('2025-01-14T10:00:00.000Z'), spanMs: 60_000, requests: 30 })
  const records = lines.map((line) => JSON.parse(line) as { request_id: string })
  const id = records[10].request_id
  const mine = lines.filter((line) => line.includes(id))
  const dir = logFolder(t, {
    // Out of order across files: a worker's file and the main file, and one line repeated in an older backup.
    'api_structured.w1.jsonl': { lines: [mine[mine.length - 1]] },
    'api_structured.jsonl': { lines: lines.filter((line) => line !== mine[mine.length - 1]) },
    'api_structured.jsonl.2025-01-13': { lines: [lines[0].replace(records[0].request_id, id + 'x'), mine[0].slice(0, -20)] }
  })
  const result = await cli(['trace', id, '--json', '--dir', dir])
  t.equal(result.code, 0)
  t.same(result.stdout.trimEnd().split('\n'), mine, 'every line of the request, once, in time order; a longer id is another request')
  t.equal(result.stderr, 'api-logs: api_structured.jsonl.2025-01-13: 1 line is not JSON (torn or damaged): skipped\n', 'damage in a line holding the id is reported')

  const shippedLines = [
    '{"timestamp":"2025-01-14T10:00:00.000Z","level":"WARNING","message":"from a shipper","request_id":"shipped-1","host":"web-1"}',
    '{"timestamp":"2025-01-14T10:00:01.000Z","level":"INFO","logger":"app","message":"another request","module":"m","function":"f","line":2,"request_id":"other","field_request_id":"shipped-1"}'
  ]
  const bare = logFolder(t, { 'api_structured.jsonl': { lines: shippedLines } })
  const shipped = await cli(['trace', 'shipped-1', '--dir', bare])
  t.match(shipped.stdout, /^\[[^\]]+\] WARNING \[:0\] from a shipper request_id=shipped-1 host=web-1\n$/, 'a record without the plugin\'s origin keys; a field_request_id is another request')

  const odd = 'job "nightly"\\42'
  const jobs = logFolder(t, { 'api_structured.jsonl': { lines: [`{"timestamp":"2025-01-14T10:00:00.000Z","level":"INFO","logger":"jobs","message":"started","module":"jobs","function":"run","line":3,"request_id":${JSON.stringify(odd)}}`] } })
  const found = await cli(['trace', odd, '--dir', jobs])
  t.equal(found.code, 0, 'an id with quotes and backslashes (a background job\'s) is found')
  t.match(found.stdout, /\] INFO \[jobs:3\] started request_id=/)
})

t.test('trace: exit 1 when the id is nowhere, 2 on bad usage', async (t) => {
  const dir = logFolder(t, { 'api_structured.jsonl': { lines: generate({ start: 0, spanMs: 1000, requests: 2 }).lines } })
  const missing = await cli(['trace', 'no-such-id', '--dir', dir])
  t.equal(missing.code, 1)
  t.equal(missing.stdout, '')
  t.equal(missing.stderr, `api-logs: no record of request "no-such-id" in 1 file of ${dir}\n`)
  const none = await cli(['trace', '--dir', dir])
  t.equal(none.code, 2)
  t.equal(none.stderr, 'api-logs: trace takes one argument: <request-id | trace-id>\n')
  const two = await cli(['trace', 'a', 'b', '--dir', dir])
  t.equal(two.stderr, 'api-logs: trace takes one argument: <request-id | trace-id>, not "b"\n')
  const empty = await cli(['trace', ' ', '--dir', dir])
  t.equal(empty.code, 2)
  t.equal(empty.stderr, 'api-logs: trace: the request id is empty\n')

  // The executable's own exit status, and a reader that stops early (no EPIPE error).
  const child = await cliProcess(['trace', 'no-such-id', '--dir', dir])
  t.equal(child.code, 1)
  const { lines } = generate({ start: 0, spanMs: 60_000, requests: 1 })
  const id = (JSON.parse(lines[0]) as { request_id: string }).request_id
  writeFileSync(join(dir, 'api_structured.jsonl'), Array.from({ length: 3000 }, () => lines[0] + '\n').join(''))
  const head = await start('bash', ['-c', 'set -o pipefail; "$0" "$1" trace "$2" --json --dir "$3" | head -1', process.execPath, BIN, id, dir], { timeoutMs: 30_000 }).result
  t.equal(head.code, 0, 'exit 0 when the reader goes away')
  t.equal(head.stderr, '')
  t.equal(head.stdout, lines[0] + '\n')
})
