import t, { type Test } from 'tap'
import { formatJsonLine } from '../../dist/format/json.js'
import { cli, cliProcess, logFolder } from '../helpers/cli'

const NOW = Date.parse('2025-01-14T12:00:00.000Z')

function completion (time: number, status: number, slow: boolean, n: number): string {
  return formatJsonLine({
    time,
    level: status >= 500 ? 50 : status >= 400 ? 40 : 30,
    logger: 'api',
    message: `API Response: GET /r/${n} - ${status}`,
    origin: { module: 'plugin', function: 'onResponseClosed', line: 268 },
    requestId: `req-${n}`,
    trace: null,
    fields: { method: 'GET', path: `/r/${n}`, endpoint: '/r/:n', status_code: status, response_time_ms: slow ? 1500 : 12.5, content_length: 10, slow_request: slow, client_ip: '::1', user_agent: null }
  }).slice(0, -1)
}

// 1000 requests in the last 10 minutes: 30 answered 4xx and 20 5xx (error rate 5%, 5xx 2%), 100
// slow (10%); and, 20 minutes ago, 500 failing requests that a 15-minute window leaves out.
function folder (t: Test): string {
  const lines: string[] = []
  for (let n = 0; n < 500; n++) lines.push(completion(NOW - 20 * 60_000 + n, 500, true, n))
  for (let n = 0; n < 1000; n++) {
    const status = n < 30 ? 404 : n < 50 ? 503 : 200
    lines.push(completion(NOW - 10 * 60_000 + n * 500, status, n >= 900, 1000 + n))
  }
  return logFolder(t, { 'api_structured.jsonl': { lines } })
}

const at = { now: () => NOW }

t.test('check: each threshold on both sides of the value, exit 0 or 1', async (t) => {
  const dir = folder(t)
  const base = ['check', '--dir', dir, '--server-error-rate', '2', '--min-free-disk', '0']
  const pass = await cli(base, at)
  t.equal(pass.code, 0, 'every check passes at its value')
  const lines = pass.stdout.trimEnd().split('\n')
  t.equal(lines[0], `${dir}, the last 15m (since 2025-01-14T11:45:00.000Z): 1000 requests`, 'the default window is 15 minutes; older lines are left out')
  t.match(lines[2], /^OK +error rate +5\.00% +at most 5% +50 of 1000 requests answered 4xx or 5xx$/)
  t.match(lines[3], /^OK +slow requests +10\.00% +at most 10% +100 of 1000 requests slow$/)
  t.match(lines[4], /^OK +5xx rate +2\.00% +at most 2% +20 of 1000 requests answered 5xx$/)
  t.match(lines[5], /^OK +free disk +\d+\.\d\d% +at least 0% +\S+ \S+ free of \S+ \S+$/)
  t.equal(lines[6], 'all 4 checks pass')

  for (const [flag, value, name] of [['--error-rate', '4.99', 'error rate'], ['--slow-rate', '9.9', 'slow requests'], ['--server-error-rate', '1.99', '5xx rate'], ['--min-free-disk', '100', 'free disk']]) {
    const breached = await cli([...base, flag, value], at)
    t.equal(breached.code, 1, `${flag} ${value}: breached, exit 1`)
    const row = breached.stdout.split('\n').find((line) => line.includes(name)) as string
    t.match(row, /^BREACHED /, `${name} is the breached one`)
    t.equal(breached.stdout.split('\n').filter((line) => line.startsWith('BREACHED')).length, 1, 'only that one')
    t.match(breached.stdout, /\n1 of 4 checks breached\n$/)
  }
})

t.test('check: the guide\'s defaults, --since, JSON', async (t) => {
  const dir = folder(t)
  const defaults = await cli(['check', '--dir', dir, '--json'], at)
  t.equal(defaults.code, 1, 'a 2% 5xx rate breaches the default 0.1%')
  const report = JSON.parse(defaults.stdout) as { ok: boolean, requests: number, since: string, checks: Array<{ name: string, value: number, threshold: number, kind: string, ok: boolean }> }
  t.equal(report.ok, false)
  t.equal(report.since, '2025-01-14T11:45:00.000Z')
  t.same(report.checks.map((c) => [c.name, c.threshold, c.kind]), [['error rate', 5, 'max'], ['slow requests', 10, 'max'], ['5xx rate', 0.1, 'max'], ['free disk', 10, 'min']], 'the guide\'s thresholds')
  t.same(report.checks.slice(0, 3).map((c) => [c.value, c.ok]), [[5, true], [10, true], [2, false]])

  const wider = await cli(['check', '--dir', dir, '--since', '30m', '--json', '--min-free-disk', '0'], at)
  const all = JSON.parse(wider.stdout) as typeof report
  t.equal(all.requests, 1500, '--since 30m takes the older requests in')
  t.equal(all.checks[0].value, (550 / 1500) * 100)

  const quiet = await cli(['check', '--dir', dir, '--min-free-disk', '0'], { now: () => NOW + 3_600_000 })
  t.equal(quiet.code, 0, 'no request in the window: nothing breached')
  t.match(quiet.stdout, /: 0 requests\n/)
  t.match(quiet.stdout, /0 of 0 requests answered 4xx or 5xx/)
})

t.test('check: bad usage exits 2 with one line', async (t) => {
  const dir = folder(t)
  const cases: Array<[string[], string]> = [
    [['--error-rate', 'high'], '--error-rate must be a number from 0 to 100 (a percentage), not "high"'],
    [['--slow-rate', '150'], '--slow-rate must be a number from 0 to 100 (a percentage), not "150"'],
    [['--since', 'yesterday'], '--since: "yesterday" is not a duration before now (30s, 15m, 1h, 7d, 2w) or a date (2025-01-14, 2025-01-14T10:00, 2025-01-14T10:00:00Z, 2025-01-14T12:00+02:00; without a zone it is UTC)'],
    [['--frobnicate'], 'check: unknown option \'--frobnicate\' (api-logs check --help lists the options)'],
    [['--since'], 'check: option \'--since <value>\' argument missing (api-logs check --help lists the options)'],
    [['extra'], 'check takes no argument, not "extra"']
  ]
  for (const [args, message] of cases) {
    const result = await cli(['check', '--dir', dir, ...args], at)
    t.equal(result.code, 2, args.join(' '))
    t.equal(result.stderr, `api-logs: ${message}\n`)
    t.equal(result.stdout, '')
  }
  t.equal((await cli(['check', '--dir', dir, '--error-rate', '5%', '--min-free-disk', '0', '--server-error-rate', '2'], at)).code, 0, 'a percent sign is allowed')
})

t.test('check from a child process: the exit status cron and a probe see', async (t) => {
  const dir = folder(t)
  const since = ['--since', '2025-01-14T11:45Z']
  const pass = await cliProcess(['check', '--dir', dir, ...since, '--server-error-rate', '2', '--min-free-disk', '0'])
  t.equal(pass.code, 0)
  const breach = await cliProcess(['check', '--dir', dir, ...since])
  t.equal(breach.code, 1)
  const usage = await cliProcess(['check', '--dir', dir, '--nope'])
  t.equal(usage.code, 2)
  t.equal(usage.stderr, 'api-logs: check: unknown option \'--nope\' (api-logs check --help lists the options)\n')
  const missing = await cliProcess(['check', '--dir', dir + '-missing'])
  t.equal(missing.code, 2)
})
