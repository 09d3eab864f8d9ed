import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../helpers/app'
import { hasCommand } from '../helpers/child'
import { cli, generate, logFolder } from '../helpers/cli'

const CHROMIUM = hasCommand('chromium') ? 'chromium' : null

/** Loads the page in headless Chromium (no network, a fresh profile): its DOM after scripts ran, and a screenshot. */
function render (t: Test, page: string, screenshot: string): string {
  const profile = tempDir(t, 'api-logs-chromium-')
  const result = spawnSync(CHROMIUM as string, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
    `--user-data-dir=${profile}`, '--window-size=1280,2400', `--screenshot=${screenshot}`, '--dump-dom', `file://${page}`
  ], { encoding: 'utf8', timeout: 60_000 })
  if (result.status !== 0) throw new Error(`chromium exited with ${result.status}: ${result.stderr}`)
  return result.stdout
}

t.test('report --html: one self-contained page whose charts have data, rendered by Chromium', { skip: CHROMIUM === null ? 'chromium is not installed (Debian: apt-get install chromium)' : false }, async (t) => {
  const start = Date.parse('2025-01-14T08:00:00.000Z')
  const calm = generate({ seed: 1, start, spanMs: 3 * 3_600_000, requests: 3000, slowThresholdMs: 500 })
  // A burst of failures in the middle of the window.
  const burst = generate({ seed: 2, start: start + 5_400_000, spanMs: 600_000, requests: 400 }).lines
    .map((line) => line.replace(/"status_code":20[01]/, '"status_code":503').replace('"level":"INFO","logger":"api","message":"API Response', '"level":"ERROR","logger":"api","message":"API Error'))
  const dir = logFolder(t, { 'api_structured.jsonl.2025-01-13.gz': { lines: calm.lines, gzip: true }, 'api_structured.jsonl': { lines: burst } })
  const out = tempDir(t, 'api-logs-html-')
  const page = join(out, 'report.html')
  const result = await cli(['report', '--dir', dir, '--html', page])
  t.equal(result.code, 0)
  t.match(result.stdout, new RegExp(`^wrote ${page.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+ kB, 3400 requests\\)\n$`))

  const html = readFileSync(page, 'utf8')
  t.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">/, 'a policy that forbids every request')
  t.notMatch(html, /\b(?:src|href)=/, 'nothing to load: no src or href at all')
  t.notMatch(html, /https?:\/\//, 'no URL')

  const screenshot = join(out, 'report.png')
  const dom = render(t, page, screenshot)
  const png = readFileSync(screenshot)
  t.equal(png.subarray(1, 4).toString(), 'PNG', 'a PNG screenshot is written')
  t.same([png.readUInt32BE(16), png.readUInt32BE(20)], [1280, 2400], 'at the window size')
  t.ok(statSync(screenshot).size > 40_000, `not a blank page (${statSync(screenshot).size} bytes)`)

  t.match(dom, /<table data-sortable="ready">/, 'the page\'s script ran')
  const requests = /<svg class="chart" data-chart="requests" data-bins="(\d+)"/.exec(dom)
  t.ok(requests !== null && Number(requests[1]) >= 36, `requests per minute: ${requests?.[1]} bins`)
  const bins = [...dom.matchAll(/<g class="bin" data-requests="(\d+)" data-errors="(\d+)">/g)].map((m) => [Number(m[1]), Number(m[2])])
  t.equal(bins.reduce((sum, [n]) => sum + n, 0), 3400, 'the bars add up to every request')
  t.ok(Math.max(...bins.map(([, e]) => e)) >= 30, 'the burst of errors shows: 30 or more errors in a minute')
  t.ok(bins.filter(([, e]) => e >= 30).length >= 9, 'for ten minutes')
  t.ok([...dom.matchAll(/<rect class="bar c5"/g)].length > 0, '5xx bars drawn')
  for (const key of ['p50', 'p95', 'p99']) {
    const line = new RegExp(`<path class="line ${key}" data-points="(\\d+)" d="M[\\d.]+ [\\d.]+(L[\\d.]+ [\\d.]+)+"`).exec(dom)
    t.ok(line !== null && Number(line[1]) > 30, `${key} over time: ${line?.[1]} points`)
  }
  const endpoints = [...dom.matchAll(/<g class="endpoint" data-endpoint="([^"]+)" data-p95="([\d.]+)">/g)]
  t.equal(endpoints.length, 10, 'the slowest endpoints, one bar each')
  const p95 = endpoints.map((m) => Number(m[2]))
  t.same(p95, [...p95].sort((a, b) => b - a), 'slowest first')
  t.equal(endpoints[0][1], 'GET /api/metrics/trends')
  t.match(dom, /<td>Total<\/td><td class="num">3400<\/td>/, 'the endpoint table')
})

t.test('report --html with nothing to show, and into a folder that does not exist', async (t) => {
  const dir = logFolder(t, {})
  const out = tempDir(t, 'api-logs-html-')
  const empty = await cli(['report', '--dir', dir, '--html', join(out, 'empty.html')])
  t.equal(empty.code, 0)
  t.match(readFileSync(join(out, 'empty.html'), 'utf8'), /<p class="empty">No request found\.<\/p>/)
  const bad = await cli(['report', '--dir', dir, '--html', join(out, 'missing', 'r.html')])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /^api-logs: --html: cannot write .*r\.html: ENOENT/, 'before the folder is read')
  const folder = await cli(['report', '--dir', dir, '--html', out])
  t.equal(folder.code, 2)
  t.match(folder.stderr, /\napi-logs: --html: cannot write .*: EISDIR/, 'a folder given as the page')
})

t.test('report --html: quiet stretches leave gaps in the latency lines', async (t) => {
  const start = Date.parse('2025-01-14T08:00:00.000Z')
  const morning = generate({ seed: 3, start, spanMs: 1_800_000, requests: 300 }).lines
  const evening = generate({ seed: 4, start: start + 4 * 3_600_000, spanMs: 1_800_000, requests: 300 }).lines
  const dir = logFolder(t, { 'api_structured.jsonl': { lines: [...morning, ...evening] } })
  const page = join(tempDir(t, 'api-logs-html-'), 'gaps.html')
  t.equal((await cli(['report', '--dir', dir, '--html', page])).code, 0)
  const html = readFileSync(page, 'utf8')
  const p50 = /<path class="line p50" data-points="\d+" d="([^"]+)"/.exec(html)?.[1] ?? ''
  t.equal(p50.split('M').length - 1, 2, 'two stretches, two lines')
  t.match(html, /data-chart="requests" data-bins="\d+"/)
})
