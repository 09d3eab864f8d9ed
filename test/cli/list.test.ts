import t, { type Test } from 'tap'
import { cli, generate, logFolder, tableRows } from '../helpers/cli'

const START = Date.parse('2025-01-14T00:00:00.000Z')

function folder (t: Test): { dir: string, data: ReturnType<typeof generate> } {
  const data = generate({ seed: 5, start: START, spanMs: 3_600_000, requests: 1500, slowThresholdMs: 300 })
  const half = Math.floor(data.lines.length / 2)
  const job = '{"timestamp":"2025-01-14T01:30:00.000Z","level":"CRITICAL","logger":"api","message":"Uncaught exception: boom","module":"plugin","function":"uncaughtExceptionMonitor","line":46,"request_id":null,"exception_type":"TypeError","exception_message":"boom","origin":"uncaughtException"}'
  const dir = logFolder(t, {
    'api_structured.jsonl.2025-01-13.gz': { lines: data.lines.slice(0, half), gzip: true },
    'api_structured.jsonl': { lines: [...data.lines.slice(half), job] }
  })
  return { dir, data }
}

t.test('slow: the requests marked slow_request, newest first, --limit', async (t) => {
  const { dir, data } = folder(t)
  const slow = data.requests.filter((r) => r.slow).sort((a, b) => b.time - a.time)
  t.ok(slow.length > 25, `${slow.length} slow requests generated`)
  const result = await cli(['slow', '--dir', dir])
  t.equal(result.code, 0)
  const rows = tableRows(result.stdout)
  t.same(rows[0], ['TIME', 'MS', 'STATUS', 'REQUEST', 'REQUEST ID'])
  t.equal(rows.length, 21, 'twenty by default')
  t.same(rows.slice(1).map((row) => row[4]), slow.slice(0, 20).map((r) => r.id), 'newest first')
  t.same(rows[1].slice(0, 4), [new Date(slow[0].time).toISOString(), slow[0].ms.toFixed(2), String(slow[0].status), `${slow[0].method} ${slow[0].path}`])

  const limited = await cli(['slow', '--dir', dir, '--limit', '3', '--json'])
  const lines = limited.stdout.trimEnd().split('\n')
  t.equal(lines.length, 3)
  t.same(lines.map((line) => (JSON.parse(line) as { request_id: string }).request_id), slow.slice(0, 3).map((r) => r.id), '--json prints the lines as written')

  const threshold = await cli(['slow', '--dir', dir, '--threshold', '100', '--limit', '1000'])
  const over = data.requests.filter((r) => r.ms > 100)
  t.equal(tableRows(threshold.stdout).length - 1, over.length, '--threshold: every request slower than it')

  const search = await cli(['slow', '--dir', dir, '--endpoint', '/api/search', '--limit', '1000', '--since', '2025-01-14T00:30'])
  const expected = slow.filter((r) => r.endpoint === '/api/search' && r.time >= START + 1_800_000)
  t.same(tableRows(search.stdout).slice(1).map((row) => row[4]), expected.map((r) => r.id), '--endpoint and --since')

  const none = await cli(['slow', '--dir', dir, '--threshold', '1000000'])
  t.equal(none.code, 0)
  t.equal(none.stdout, '')
  t.equal(none.stderr, 'api-logs: no request slower than 1000000 ms found\n')
  const marked = await cli(['slow', '--dir', dir, '--until', '2025-01-14T00:00:01'])
  t.equal(marked.stderr, 'api-logs: no request marked slow_request found\n')
  const bad = await cli(['slow', '--dir', dir, '--threshold', 'fast'])
  t.equal(bad.code, 2)
  t.equal(bad.stderr, 'api-logs: --threshold must be a number of 0 or more (milliseconds), not "fast"\n')
  const badLimit = await cli(['slow', '--dir', dir, '--limit', '0'])
  t.equal(badLimit.stderr, 'api-logs: --limit must be a whole number of 1 or more, not "0"\n')
})

t.test('errors: 5xx requests and other ERROR and CRITICAL records; --status', async (t) => {
  const { dir, data } = folder(t)
  const result = await cli(['errors', '--dir', dir, '--limit', '1000'])
  t.equal(result.code, 0)
  const rows = tableRows(result.stdout)
  t.same(rows[0], ['TIME', 'STATUS', 'REQUEST', 'REQUEST ID', 'ERROR'])
  const records = data.lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  const expected = records.filter((r) => (r.status_code as number) >= 500 || (r.status_code === undefined && (r.level === 'ERROR' || r.level === 'CRITICAL')))
  t.equal(rows.length - 1, expected.length + 1, 'every 5xx request and every ERROR record, and the uncaught exception')
  t.same(rows[1], ['2025-01-14T01:30:00.000Z', 'CRITICAL', '[api] Uncaught exception: boom', '-', 'TypeError: boom'].slice(0, rows[1].length), 'newest first: the uncaught exception is after every request')
  const server = rows.find((row) => /^5\d\d$/.test(row[1])) as string[]
  t.match(server[4], /^Error: (Invalid engine specified|render queue full|connect ECONNREFUSED 10.0.0.5:5432)$/, 'a 5xx row shows its exception')

  const client = await cli(['errors', '--dir', dir, '--status', '4xx', '--limit', '1000', '--json'])
  const clientLines = client.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { status_code: number })
  t.equal(clientLines.length, data.requests.filter((r) => r.status >= 400 && r.status < 500).length, '--status 4xx')
  t.ok(clientLines.every((line) => line.status_code >= 400 && line.status_code < 500))

  const codes = await cli(['errors', '--dir', dir, '--status', '503,404', '--status', '499', '--limit', '1000', '--json'])
  t.equal(codes.stdout.trimEnd().split('\n').length, data.requests.filter((r) => [503, 404, 499].includes(r.status)).length, 'codes, comma-separated and repeated')

  const onlyVideos = await cli(['errors', '--dir', dir, '--endpoint', '/api/video/*', '--limit', '1000', '--json'])
  const videoLines = onlyVideos.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { endpoint: string })
  t.ok(videoLines.length > 0 && videoLines.every((line) => line.endpoint === '/api/video/generate'), '--endpoint keeps requests only')

  const bad = await cli(['errors', '--dir', dir, '--status', '6xx'])
  t.equal(bad.code, 2)
  t.equal(bad.stderr, 'api-logs: --status: "6xx" is not a status class (4xx, 5xx) or a code (503)\n')
  const none = await cli(['errors', '--dir', dir, '--status', '418'])
  t.equal(none.stderr, 'api-logs: no request with status 418 found\n')
  const quiet = await cli(['errors', '--dir', dir, '--since', '2030-01-01'])
  t.equal(quiet.stderr, 'api-logs: no error found\n')
})
