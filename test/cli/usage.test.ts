import t from 'tap'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { progress } from '../../dist/cli/progress.js'
import { describeDuration, parseTime, timeWindow } from '../../dist/cli/time.js'
import { run } from '../../dist/cli/main.js'
import { tempDir } from '../helpers/app'
import { cli, cliProcess, generate, logFolder } from '../helpers/cli'

const VERSION = (JSON.parse(readFileSync(resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version

t.test('help: the command list, each command\'s options, and the version', async (t) => {
  const general = await cli(['--help'])
  t.equal(general.code, 0)
  t.match(general.stdout, /^Usage: api-logs <command> \[options\]\n/)
  for (const name of ['trace', 'report', 'slow', 'errors', 'check', 'tail']) t.match(general.stdout, new RegExp(`\\n  ${name} +\\S`), `lists ${name}`)
  t.same((await cli(['help'])).stdout, general.stdout)
  const bare = await cli([])
  t.equal(bare.code, 2, 'no command: the help, and exit 2')
  t.equal(bare.stdout, general.stdout)

  for (const name of ['trace', 'report', 'slow', 'errors', 'check', 'tail']) {
    const help = await cli([name, '--help'])
    t.equal(help.code, 0)
    t.match(help.stdout, new RegExp(`^Usage: api-logs ${name} `), `${name} --help`)
    t.match(help.stdout, /\n {2}-h, --help +show this help\n$/)
    t.match(help.stdout, /\n {6}--dir DIR +log folder \(default: LOG_DIR from the environment or \.env, else logs\)\n/)
    t.equal((await cli(['help', name])).stdout, help.stdout, `help ${name}`)
    t.equal((await cli([name, '-h'])).stdout, help.stdout)
  }
  t.match((await cli(['tail', '--help'])).stdout, /\n {2}-f, --follow +keep printing/)
  t.equal((await cli(['trace', '--help'])).code, 0, '--help needs no request id')

  t.equal((await cli(['--version'])).stdout, VERSION + '\n')
  t.equal((await cli(['-v'])).stdout, VERSION + '\n')
})

t.test('unknown commands and flags: one line, exit 2', async (t) => {
  const unknown = await cli(['reprot'])
  t.equal(unknown.code, 2)
  t.equal(unknown.stderr, 'api-logs: unknown command "reprot"; the commands are trace, report, slow, errors, check, tail (api-logs --help)\n')
  const flag = await cli(['report', '--sinc', '1h'])
  t.equal(flag.stderr, 'api-logs: report: unknown option \'--sinc\' (api-logs report --help lists the options)\n')
  const value = await cli(['report', '--json=yes'])
  t.equal(value.stderr, 'api-logs: report: option \'--json\' does not take an argument (api-logs report --help lists the options)\n')
  const dir = await cli(['report', '--dir', ' '])
  t.equal(dir.stderr, 'api-logs: --dir needs a folder\n')
  const empty = await cli(['report', '--dir', logFolder(t, {}), '--endpoint', ''])
  t.equal(empty.stderr, 'api-logs: --endpoint needs a value\n')
  const window = await cli(['report', '--dir', logFolder(t, {}), '--since', '1h', '--until', '2h'])
  t.match(window.stderr, /^api-logs: --since \(\S+\) must be before --until \(\S+\)\n$/)
})

t.test('--since and --until: durations and dates, UTC without a zone', async (t) => {
  const now = Date.parse('2025-01-14T12:00:00.000Z')
  t.equal(parseTime('15m', 'since', now), now - 900_000)
  t.equal(parseTime('1.5h', 'since', now), now - 5_400_000)
  t.equal(parseTime('30s', 'since', now), now - 30_000)
  t.equal(parseTime('7d', 'since', now), now - 7 * 86_400_000)
  t.equal(parseTime('2w', 'since', now), now - 14 * 86_400_000)
  t.equal(parseTime('2025-01-14', 'since', now), Date.parse('2025-01-14T00:00:00Z'))
  t.equal(parseTime('2025-01-14T10:00', 'since', now), Date.parse('2025-01-14T10:00:00Z'))
  t.equal(parseTime('2025-01-14 10:00:30', 'since', now), Date.parse('2025-01-14T10:00:30Z'))
  t.equal(parseTime('2025-01-14T10:00:30.5Z', 'since', now), Date.parse('2025-01-14T10:00:30.500Z'))
  t.equal(parseTime('2025-01-14T12:00+02:00', 'since', now), Date.parse('2025-01-14T10:00:00Z'))
  t.equal(parseTime('2025-01-14T12:00-0130', 'since', now), Date.parse('2025-01-14T13:30:00Z'))
  for (const bad of ['yesterday', '2025-02-30', '2025-01-14T25:00', '2025-01-14T10:61', '15 minutes', '-1h', '']) {
    t.throws(() => parseTime(bad, 'since', now), { message: /^--since: ".*" is not a duration before now/ }, JSON.stringify(bad))
  }
  t.throws(() => parseTime('60000w', 'since', now), { message: '--since: "60000w" reaches back before 1970' })
  t.same(timeWindow(undefined, undefined, now), { since: null, until: null, sinceIso: null, untilIso: null })
  t.same([30_000, 900_000, 3_600_000, 5_400_000, 86_400_000 * 3, 86_400_000 * 3 + 3_600_000].map(describeDuration), ['30s', '15m', '1h', '1h 30m', '3d', '3d 1h'])
})

t.test('--dir defaults to LOG_DIR from the environment, then .env, then logs', async (t) => {
  const project = tempDir(t)
  const { lines } = generate({ start: Date.parse('2025-01-14T10:00:00.000Z'), spanMs: 1000, requests: 1 })
  const id = (JSON.parse(lines[0]) as { request_id: string }).request_id
  for (const dir of ['logs', 'from-env', 'from-dotenv']) {
    mkdirSync(join(project, dir))
    writeFileSync(join(project, dir, 'api_structured.jsonl'), lines[0].replace(id, dir) + '\n')
  }
  const plain = await cliProcess(['trace', 'logs'], { cwd: project })
  t.equal(plain.code, 0, 'logs in the working directory')
  writeFileSync(join(project, '.env'), 'LOG_DIR=from-dotenv\nLOG_LEVEL=debug\n')
  t.equal((await cliProcess(['trace', 'from-dotenv'], { cwd: project })).code, 0, '.env')
  t.equal((await cliProcess(['trace', 'from-env'], { cwd: project, env: { LOG_DIR: 'from-env' } })).code, 0, 'the environment over .env')
  t.equal((await cliProcess(['trace', 'logs', '--dir', 'logs'], { cwd: project, env: { LOG_DIR: 'from-env' } })).code, 0, '--dir over both')
  writeFileSync(join(project, '.env'), 'LOG_DIR=from-dotenv\nLOG_LEVEL=chatty\n')
  const broken = await cliProcess(['trace', 'x'], { cwd: project })
  t.equal(broken.code, 2)
  t.match(broken.stderr, /^api-logs: cannot read LOG_DIR from the environment or \.env \(.*LOG_LEVEL.*\); give the folder with --dir\n$/)
  t.equal((await cliProcess(['trace', 'logs', '--dir', 'logs'], { cwd: project })).code, 0, 'a broken .env does not matter with --dir')
})

t.test('progress on a terminal\'s stderr, erased at the end; never on a pipe', async (t) => {
  const written: string[] = []
  const shown = progress({ write: (text: string) => written.push(text), isTTY: true }, 0, 5)
  shown.files([{ name: 'a', size: 2000 } as never, { name: 'b', size: 2000 } as never])
  shown.file({ name: 'b' } as never, 1)
  shown.add(1500)
  await new Promise((resolve) => setTimeout(resolve, 30))
  shown.stop()
  t.match(written[0], /^\r37% 1.5 kB of 4.0 kB, file 2 of 2: b\u001b\[K$/)
  t.ok(written.length >= 2, 'redrawn')
  t.equal(written[written.length - 1], '\r\u001b[K', 'erased')
  const silent: string[] = []
  const none = progress({ write: (text: string) => silent.push(text) }, 0, 5)
  none.files([])
  none.file({ name: 'x' } as never, 0)
  none.add(1)
  await new Promise((resolve) => setTimeout(resolve, 20))
  none.stop()
  t.same(silent, [])
  const empty: string[] = []
  const quick = progress({ write: (text: string) => empty.push(text), isTTY: true }, 0, 5)
  await new Promise((resolve) => setTimeout(resolve, 20))
  quick.stop()
  t.match(empty[0], /^\r100% 0 B of 0 B/)

  // Long enough (9 MB) for the event loop to turn during the run.
  const { lines } = generate({ start: 0, spanMs: 1000, requests: 20_000 })
  const dir = logFolder(t, { 'api_structured.jsonl': { lines } })
  for (const command of [['report'], ['slow']]) {
    const result = await cli([...command, '--dir', dir], { stderrTty: true, progressDelayMs: 0 })
    t.match(result.stderr, /^(\r\d+% [^\r]+\u001b\[K)*\r\u001b\[K$/, `${command[0]}: progress, then erased`)
  }
})

t.test('an unexpected failure is reported with its stack, exit 1', async (t) => {
  const dir = logFolder(t, { 'api_structured.jsonl': { lines: generate({ start: 0, spanMs: 1000, requests: 2 }).lines } })
  let stderr = ''
  const code = await run(['report', '--dir', dir], {
    stdout: { write: () => { throw new Error('disk on fire') } },
    stderr: { write: (text: string) => { stderr += text } },
    now: Date.now
  })
  t.equal(code, 1)
  t.match(stderr, /^api-logs: Error: disk on fire\n {4}at /)
})
