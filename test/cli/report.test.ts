import t, { type Test } from 'tap'
import type { ReportModel } from '../../dist/cli/commands/report.js'
import { cli, exactPercentile, generate, logFolder, tableRows, type GeneratedRequest } from '../helpers/cli'

const DAY = 86_400_000
const START = Date.parse('2025-01-12T00:00:00.000Z')

/** Three days of traffic: a .gz day, a rotated day with a same-day sibling, a worker's file, the live file; damage here and there. */
function folder (t: Test): { dir: string, requests: GeneratedRequest[] } {
  const days = [0, 1, 2].map((day) => generate({ seed: 10 + day, start: START + day * DAY, spanMs: DAY - 60_000, requests: 700, slowThresholdMs: 500 }))
  const worker = generate({ seed: 20, start: START + 2 * DAY, spanMs: DAY / 2, requests: 150, slowThresholdMs: 500 })
  const half = Math.floor(days[1].lines.length / 2)
  const dir = logFolder(t, {
    'api_structured.jsonl.2025-01-12.gz': { lines: days[0].lines, gzip: true },
    'api_structured.jsonl.2025-01-13': { lines: [...days[1].lines.slice(0, half), 'garbage', '{"note":"another program"}'] },
    'api_structured.jsonl.2025-01-13.2': { lines: days[1].lines.slice(half) },
    'api_structured.w2.jsonl': { lines: worker.lines },
    'api_structured.jsonl': { lines: days[2].lines, tail: '{"timestamp":"2025-01-14T23:59:59.999Z","level":"IN' },
    'api.log': { lines: ['[2025-01-14 10:00:00] INFO [api:161] not read'] }
  })
  return { dir, requests: [...days.flatMap((d) => d.requests), ...worker.requests] }
}

interface Expected {
  requests: number
  clientErrors: number
  serverErrors: number
  slow: number
  avgMs: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
  maxMs: number
}

function expected (requests: GeneratedRequest[]): Expected {
  const ms = requests.map((r) => r.ms)
  return {
    requests: requests.length,
    clientErrors: requests.filter((r) => r.status >= 400 && r.status < 500).length,
    serverErrors: requests.filter((r) => r.status >= 500).length,
    slow: requests.filter((r) => r.slow).length,
    avgMs: Math.round((ms.reduce((a, b) => a + b, 0) / ms.length) * 100) / 100,
    p50Ms: exactPercentile(ms, 0.5),
    p95Ms: exactPercentile(ms, 0.95),
    p99Ms: exactPercentile(ms, 0.99),
    maxMs: Math.max(...ms)
  }
}

function byEndpoint (requests: GeneratedRequest[]): Map<string, GeneratedRequest[]> {
  const groups = new Map<string, GeneratedRequest[]>()
  for (const r of requests) {
    const key = `${r.method} ${r.endpoint ?? '(no route)'}`
    groups.set(key, [...(groups.get(key) ?? []), r])
  }
  return groups
}

function pick (row: Record<string, unknown>): Expected {
  const { requests, clientErrors, serverErrors, slow, avgMs, p50Ms, p95Ms, p99Ms, maxMs } = row as unknown as Expected
  return { requests, clientErrors, serverErrors, slow, avgMs, p50Ms, p95Ms, p99Ms, maxMs }
}

// One folder for every test of this file: they only read it.
const shared = folder(t)

async function reportJson (args: string[], context = {}): Promise<ReportModel> {
  const result = await cli(['report', '--json', ...args], { now: () => Date.parse('2025-01-15T00:00:00.000Z'), ...context })
  if (result.code !== 0) throw new Error(`report failed: ${result.stderr}`)
  return JSON.parse(result.stdout) as ReportModel
}

t.test('report: exact counts and percentiles per endpoint across rotated, same-day, .gz and worker files', async (t) => {
  const { dir, requests } = shared
  const result = await cli(['report', '--json', '--dir', dir], { now: () => Date.parse('2025-01-15T00:00:00.000Z') })
  t.equal(result.code, 0)
  const garbageLine = Math.floor(generate({ seed: 11, start: START + DAY, spanMs: DAY - 60_000, requests: 700, slowThresholdMs: 500 }).lines.length / 2) + 1
  t.same(result.stderr.trimEnd().split('\n'), [
    `api-logs: api_structured.jsonl.2025-01-13: 1 line is not JSON (torn or damaged), the first at line ${garbageLine}: skipped`,
    'api-logs: api_structured.jsonl.2025-01-13: 1 JSON line without timestamp, level and message (from another program): skipped',
    'api-logs: api_structured.jsonl: the last line has no newline (torn, or still being written): skipped'
  ])
  const model = JSON.parse(result.stdout) as ReportModel
  t.same(model.files.map((f) => f.name), ['api_structured.jsonl.2025-01-12.gz', 'api_structured.jsonl.2025-01-13', 'api_structured.jsonl.2025-01-13.2', 'api_structured.jsonl', 'api_structured.w2.jsonl'])
  t.same(pick(model.totals as unknown as Record<string, unknown>), expected(requests), 'totals')
  const groups = byEndpoint(requests)
  t.equal(model.endpoints.length, groups.size, 'one row per method and route pattern')
  for (const row of model.endpoints) {
    const name = `${row.method} ${row.endpoint ?? '(no route)'}`
    t.same(pick(row as unknown as Record<string, unknown>), expected(groups.get(name) ?? []), name)
    t.equal(row.approximate, false, `${name}: exact`)
  }
  const counts = model.endpoints.map((row) => row.requests)
  t.same(counts, [...counts].sort((a, b) => b - a), 'busiest first')
  const slowest = [...requests].sort((a, b) => b.ms - a.ms).slice(0, 10)
  t.same(model.slowest.map((r) => [r.requestId, r.ms]), slowest.map((r) => [r.id, r.ms]), 'the ten slowest requests with their ids')
  t.equal(model.first, new Date(Math.min(...requests.map((r) => r.time))).toISOString())
  t.equal(model.last, new Date(Math.max(...requests.map((r) => r.time))).toISOString())
  t.equal(model.lines.malformed, 1)
  t.equal(model.lines.foreign, 1)
  t.equal(model.lines.torn, 1)
  t.equal(model.timeline, null, 'no timeline unless --html')
})

t.test('report: past the exact limit the percentiles come from the sketch, within its error', async (t) => {
  const { dir, requests } = shared
  const model = await reportJson(['--dir', dir], { exactLimit: 50 })
  const groups = byEndpoint(requests)
  for (const row of [...model.endpoints, model.totals]) {
    const group = row.endpoint === null && row.method === '' ? requests : groups.get(`${row.method} ${row.endpoint ?? '(no route)'}`) ?? []
    const exact = expected(group)
    t.equal(row.approximate, group.length > 50, `${row.method} ${row.endpoint}: ${group.length} requests`)
    for (const key of ['p50Ms', 'p95Ms', 'p99Ms'] as const) {
      t.ok(Math.abs(row[key] - exact[key]) <= exact[key] * model.percentiles.relativeAccuracy + 0.005, `${key} ${row[key]} vs exact ${exact[key]}`)
    }
    t.equal(row.requests, exact.requests, 'counts stay exact')
    t.equal(row.maxMs, exact.maxMs, 'the maximum stays exact')
  }
  t.same(model.percentiles, { rank: 'nearest', exactUpTo: 10000, sketch: 'DDSketch', relativeAccuracy: 0.01 })
  const text = await cli(['report', '--dir', dir], { exactLimit: 50 })
  t.match(text.stdout, /\n~ from a DDSketch, within 1% of the exact value \(more than 10,000 requests\)\n/, 'the table says which percentiles are sketched')
  t.match(text.stdout, /\nTOTAL +\d+ .* ~\d+\.\d\d +~\d+\.\d\d +~\d+\.\d\d +\d+\.\d\d\n/)
})

t.test('report: --since, --until and --endpoint', async (t) => {
  const { dir, requests } = shared
  const since = Date.parse('2025-01-13T06:00:00.000Z')
  const until = Date.parse('2025-01-14T03:00:00.000Z')
  const inWindow = requests.filter((r) => r.time >= since && r.time < until)
  const windowed = await reportJson(['--dir', dir, '--since', '2025-01-13T06:00', '--until', '2025-01-14T03:00Z'])
  t.same(pick(windowed.totals as unknown as Record<string, unknown>), expected(inWindow), 'the window, since included, until excluded')
  t.same(windowed.window, { since: '2025-01-13T06:00:00.000Z', until: '2025-01-14T03:00:00.000Z' })

  const relative = await reportJson(['--dir', dir, '--since', '18h'])
  t.same(pick(relative.totals as unknown as Record<string, unknown>), expected(requests.filter((r) => r.time >= Date.parse('2025-01-14T06:00:00.000Z'))), '--since 18h before now')

  const videos = await reportJson(['--dir', dir, '--endpoint', '/api/videos/:id'])
  t.same(videos.endpoints.map((row) => `${row.method} ${row.endpoint}`).sort(), ['DELETE /api/videos/:id', 'GET /api/videos/:id'])
  t.equal(videos.totals.requests, requests.filter((r) => r.endpoint === '/api/videos/:id').length)
  const star = await reportJson(['--dir', dir, '--endpoint', '/api/v*'])
  t.equal(star.totals.requests, requests.filter((r) => (r.endpoint ?? r.path).startsWith('/api/v')).length, '* matches anything (and a 404\'s path)')
  const noRoute = await reportJson(['--dir', dir, '--endpoint', '/wp-login.php'])
  t.equal(noRoute.totals.requests, requests.filter((r) => r.endpoint === null && r.path === '/wp-login.php').length, 'a request with no route is matched by its path')
})

t.test('report: the table, CSV and --top', async (t) => {
  const { dir, requests } = shared
  const text = await cli(['report', '--dir', dir, '--top', '3'])
  t.equal(text.code, 0)
  const [summary] = text.stdout.split('\n')
  t.equal(summary, `${requests.length} requests in 5 files of ${dir} (${summary.match(/\((\S+ \S+), /)?.[1]}, ${summary.match(/, (\d+) lines\)/)?.[1]} lines)`)
  const lines = text.stdout.split('\n')
  const header = lines.findIndex((line) => line.startsWith('ENDPOINT'))
  t.same(tableRows(lines[header])[0], ['ENDPOINT', 'REQUESTS', '4XX', '4XX%', '5XX', '5XX%', 'SLOW', 'SLOW%', 'AVG MS', 'P50', 'P95', 'P99', 'MAX'])
  const total = lines.find((line) => line.startsWith('TOTAL')) as string
  const e = expected(requests)
  t.same(tableRows(total)[0], ['TOTAL', String(e.requests), String(e.clientErrors), `${(e.clientErrors / e.requests * 100).toFixed(2)}%`, String(e.serverErrors),
    `${(e.serverErrors / e.requests * 100).toFixed(2)}%`, String(e.slow), `${(e.slow / e.requests * 100).toFixed(2)}%`, e.avgMs.toFixed(2), e.p50Ms.toFixed(2), e.p95Ms.toFixed(2), e.p99Ms.toFixed(2), e.maxMs.toFixed(2)])
  const columns = lines[header].indexOf('REQUESTS') + 'REQUESTS'.length
  for (const line of lines.slice(header + 1, lines.indexOf(total) + 1)) t.equal(line.slice(0, columns).trimEnd().length, columns, `aligned: ${line.slice(0, 40)}`)
  const slowest = lines.slice(lines.indexOf('Slowest requests') + 2).filter((line) => line !== '')
  t.equal(slowest.length, 3, '--top 3')
  t.match(slowest[0], new RegExp(`${[...requests].sort((a, b) => b.ms - a.ms)[0].id}$`))

  const csv = await cli(['report', '--csv', '--dir', dir])
  const rows = csv.stdout.trimEnd().split('\r\n').map((line) => line.split(','))
  t.same(rows[0], ['method', 'endpoint', 'requests', 'client_errors', 'client_error_rate', 'server_errors', 'server_error_rate', 'slow', 'slow_rate', 'avg_ms', 'p50_ms', 'p95_ms', 'p99_ms', 'max_ms', 'approximate'])
  t.same(rows[rows.length - 1].slice(0, 3), ['TOTAL', '', String(requests.length)])
  t.equal(rows.length, byEndpoint(requests).size + 2, 'a header, one row per endpoint, the total')
  t.ok(rows.some((row) => row[1] === '(no route)'))

  const both = await cli(['report', '--csv', '--json', '--dir', dir])
  t.equal(both.code, 2)
  t.equal(both.stderr, 'api-logs: report: choose one of --json, --csv and --html, not --json and --csv\n')
})

t.test('report on several threads gives the same report as on one', async (t) => {
  const { dir } = shared
  const one = await reportJson(['--dir', dir, '--jobs', '1'])
  const threaded = await reportJson(['--dir', dir, '--jobs', '3'], { parallelMinBytes: 0, rangeBytes: 150_000 })
  t.same(threaded, one, 'identical, line counts and problems included')
  const sketched = await reportJson(['--dir', dir, '--jobs', '2'], { parallelMinBytes: 0, rangeBytes: 150_000, exactLimit: 50 })
  const sketchedOne = await reportJson(['--dir', dir, '--jobs', '1'], { exactLimit: 50 })
  t.same(sketched, sketchedOne, 'sketches merge to the same buckets')
})

t.test('report with no request in the window', async (t) => {
  const { dir } = shared
  const result = await cli(['report', '--dir', dir, '--since', '2030-01-01'])
  t.equal(result.code, 0)
  t.match(result.stdout, /^0 requests in 0 files of .*\nOnly since 2030-01-01T00:00:00.000Z\nNo request found\.\n$/)
})
