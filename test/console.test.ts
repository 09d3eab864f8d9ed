import t, { type Test } from 'tap'
import { fixture, hasCommand, runFixture, shellQuote, start, type ChildResult } from './helpers/child'

// test/fixtures/console-app.js makes three requests: 200, 404 (no route) and 500 (thrown error).
const EXPECTED = [
  ['INFO', 'API Request: GET /ok'],
  ['INFO', 'API Response: GET /ok - 200'],
  ['INFO', 'API Request: GET /missing'],
  ['WARNING', 'API Error: GET /missing - 404'],
  ['INFO', 'API Request: GET /boom'],
  ['ERROR', 'API Error: GET /boom - 500 (Error: boom)']
]
const COLORS: Record<string, string> = { INFO: '\u001b[32m', WARNING: '\u001b[33m', ERROR: '\u001b[31m' }
const RESET = '\u001b[0m'
const PLAIN_LINE = /^\[(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\] (INFO|WARNING|ERROR) \[api\] (API (?:Request|Response|Error): .*)$/
// 2025-01-14T10:30:15.123Z
const FIXED_NOW = Date.UTC(2025, 0, 14, 10, 30, 15, 123)

function escapeRegExp (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function lines (stdout: string): string[] {
  // A pty (under `script`) turns each \n into \r\n.
  return stdout.replace(/\r\n/g, '\n').split('\n').filter((line) => line !== '')
}

function assertClean (t: Test, result: ChildResult): void {
  t.equal(result.code, 0, 'the fixture exits 0')
  t.equal(result.stderr, '', 'nothing on stderr')
}

t.test('on a pipe: one plain line per record, no ANSI escapes', async (t) => {
  const result = await runFixture('console-app.js', [], { env: { FIXTURE_NOW: undefined } })
  assertClean(t, result)
  t.notMatch(result.stdout, /\u001b/, 'no escape character anywhere')
  const printed = lines(result.stdout)
  t.equal(printed.length, EXPECTED.length, 'one line per record and nothing else')
  for (const line of printed) t.match(line, PLAIN_LINE, 'console layout')
  t.same(printed.map((line) => { const m = PLAIN_LINE.exec(line); return m === null ? null : [m[2], m[3]] }), EXPECTED)
})

t.test('the time is the local wall-clock time of the injected clock', async (t) => {
  const zones: Array<[string, string]> = [
    ['Asia/Tokyo', '2025-01-14 19:30:15'],
    ['America/New_York', '2025-01-14 05:30:15'],
    ['UTC', '2025-01-14 10:30:15']
  ]
  for (const [zone, wallClock] of zones) {
    const result = await runFixture('console-app.js', [], { env: { TZ: zone, FIXTURE_NOW: String(FIXED_NOW) } })
    assertClean(t, result)
    const printed = lines(result.stdout)
    t.equal(printed.length, EXPECTED.length, `${zone}: every line printed`)
    for (const line of printed) t.equal(PLAIN_LINE.exec(line)?.[1], wallClock, `${zone}: ${line}`)
  }
})

t.test('on a terminal', { skip: hasCommand('script') ? false : 'the `script` command (util-linux) is not installed: no pty to test color with' }, async (t) => {
  // `script -qec CMD /dev/null` runs CMD with a pty as its stdin/stdout/stderr and copies the output.
  const command = `${shellQuote(process.execPath)} ${shellQuote(fixture('console-app.js'))}`
  const underPty = (env: Record<string, string | undefined>): Promise<ChildResult> =>
    start('script', ['-qec', command, '/dev/null'], { env: { FIXTURE_NOW: undefined, ...env }, timeoutMs: 60_000 }).result

  t.test('the level is colored', async (t) => {
    const result = await underPty({ NO_COLOR: undefined })
    t.equal(result.code, 0, 'the fixture exits 0')
    const printed = lines(result.stdout)
    t.equal(printed.length, EXPECTED.length, 'one line per record and nothing else')
    printed.forEach((line, i) => {
      const [level, message] = EXPECTED[i]
      const colored = `${COLORS[level]}${level}${RESET}`
      t.match(line, new RegExp(`^\\[\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\] ${escapeRegExp(`${colored} [api] ${message}`)}$`),
        `the level is wrapped as ${JSON.stringify(colored)}`)
      t.equal(line.replace(/\u001b\[[0-9;]*m/g, '').replace(/^\[[^\]]*\] /, ''), `${level} [api] ${message}`, 'only the level carries escapes')
    })
  })

  t.test('NO_COLOR=1 turns color off', async (t) => {
    const result = await underPty({ NO_COLOR: '1' })
    t.equal(result.code, 0, 'the fixture exits 0')
    t.notMatch(result.stdout, /\u001b/, 'no escape character anywhere')
    const printed = lines(result.stdout)
    t.same(printed.map((line) => { const m = PLAIN_LINE.exec(line); return m === null ? line : [m[2], m[3]] }), EXPECTED)
  })

  t.test('an empty NO_COLOR does not turn color off', async (t) => {
    const result = await underPty({ NO_COLOR: '' })
    t.equal(result.code, 0, 'the fixture exits 0')
    const printed = lines(result.stdout)
    t.equal(printed.length, EXPECTED.length, 'one line per record')
    t.ok(printed.every((line, i) => line.includes(`${COLORS[EXPECTED[i][0]]}${EXPECTED[i][0]}${RESET}`)), 'every level is colored')
  })
})
