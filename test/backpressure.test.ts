import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { tempDir } from './helpers/app'
import { childEnv, fixture } from './helpers/child'

interface SinkStats { lines: number, dropped: number, pending: number, pendingBytes: number, bytes: number }
interface Stats { console: SinkStats, json: SinkStats }

t.test('a stalled stdout: bounded memory, drops counted, one warning once it drains', async (t) => {
  const logDir = tempDir(t)
  const child = spawn(process.execPath, [fixture('backpressure-app.js'), logDir], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000)
  t.teardown(() => clearTimeout(killer))
  let stderr = ''
  let stdout = ''
  const reports = new Map<string, unknown>()
  const paused = new Promise<void>((resolve) => {
    child.stderr.setEncoding('utf8').on('data', (data: string) => {
      stderr += data
      for (const match of stderr.matchAll(/^(REQUEST|PAUSED|FINAL) (.*)$/gm)) reports.set(match[1], JSON.parse(match[2]))
      if (reports.has('PAUSED')) resolve()
    })
  })
  // Nobody reads the child's stdout until it says it is paused: its writes stall.
  await Promise.race([paused, new Promise((resolve) => child.once('close', resolve))])
  child.stdout.setEncoding('utf8').on('data', (data: string) => { stdout += data })
  const code = await new Promise((resolve) => child.once('close', resolve))
  t.equal(code, 0, `the child finished (stderr: ${stderr.slice(0, 500)})`)

  t.equal(reports.get('REQUEST'), 200, 'requests are answered while stdout is stalled')
  const during = reports.get('PAUSED') as Stats & { maxPending: number }
  t.ok(during.maxPending <= 65536, `the console queue stayed within its limit (${during.maxPending} bytes)`)
  t.ok(during.console.dropped > 0, `lines beyond the limit were dropped (${during.console.dropped})`)

  // 20,000 bulk lines plus the request's two lines went to every sink; each sink accounts for
  // all of them, written or dropped, and says so once in its own output.
  const final = reports.get('FINAL') as Stats
  const logged = 20002
  const consoleLines = stdout.split('\n').filter((line) => line !== '')
  const consoleWarnings = consoleLines.filter((line) => / WARNING \[api\] Log lines dropped: \d+ \(console\)$/.test(line))
  t.equal(consoleWarnings.length, 1, 'one console warning once the sink recovered')
  t.equal(Number(/dropped: (\d+)/.exec(consoleWarnings[0] ?? '')?.[1]), final.console.dropped, 'with the number dropped')
  t.equal(consoleLines.length - 1 + final.console.dropped, logged, `every console line was printed (${consoleLines.length - 1}) or counted as dropped (${final.console.dropped})`)
  t.equal(final.console.lines, consoleLines.length, 'stats count the printed lines')

  const jsonLines = readFileSync(join(logDir, 'api_structured.jsonl'), 'utf8').split('\n').filter((line) => line !== '')
  const jsonWarnings = jsonLines.filter((line) => line.includes('"message":"Log lines dropped: '))
  // The JSON sink may catch up between bursts: one notice per episode, adding up to its drops.
  const noticed = jsonWarnings.reduce((sum, line) => sum + Number(/dropped: (\d+)/.exec(line)?.[1]), 0)
  t.equal(noticed, final.json.dropped, `the JSON file's notices add up to what it dropped (${final.json.dropped})`)
  t.equal(jsonLines.length - jsonWarnings.length + final.json.dropped, logged, 'every JSON line was written or counted as dropped')
})
