import t from 'tap'
import { appendFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { run } from '../../dist/cli/main.js'
import { textLine } from '../../dist/cli/records.js'
import { waitFor } from '../helpers/app'
import { start } from '../helpers/child'
import { BIN, cli, generate, logFolder } from '../helpers/cli'

const START = Date.parse('2025-01-14T10:00:00.000Z')

function text (line: string): string {
  return textLine(JSON.parse(line) as Record<string, unknown>, false)
}

t.test('tail: the last records of the live files, filtered, in the text layout', async (t) => {
  const { lines } = generate({ seed: 3, start: START, spanMs: 600_000, requests: 2000 })
  const worker = generate({ seed: 4, start: START + 300_000, spanMs: 600_000, requests: 20 }).lines
  const dir = logFolder(t, {
    'api_structured.jsonl.2025-01-13': { lines: generate({ start: START + 3_600_000, spanMs: 1000, requests: 5 }).lines },
    'api_structured.jsonl': { lines, tail: '{"timestamp":"2025-01-14T10:10:00.000Z","level":"INFO"' },
    'api_structured.w1.jsonl': { lines: worker }
  })
  const all = [...lines, ...worker].sort((a, b) => (JSON.parse(a) as { timestamp: string }).timestamp < (JSON.parse(b) as { timestamp: string }).timestamp ? -1 : 1)
  const last = await cli(['tail', '--dir', dir])
  t.equal(last.code, 0)
  t.equal(last.stdout, all.slice(-10).map(text).join(''), 'the ten newest records of every live file, oldest first; rotated files and the unfinished line left out')

  const warnings = await cli(['tail', '--dir', dir, '-n', '500', '--level', 'warn', '--json'])
  const warned = lines.filter((line) => /"level":"(WARNING|ERROR|CRITICAL)"/.test(line))
  t.same(warnings.stdout.trimEnd().split('\n'), [...warned, ...worker.filter((line) => /"level":"(WARNING|ERROR|CRITICAL)"/.test(line))]
    .sort((a, b) => (JSON.parse(a) as { timestamp: string }).timestamp < (JSON.parse(b) as { timestamp: string }).timestamp ? -1 : 1).slice(-500), '--level WARNING and above, --json')

  const id = (JSON.parse(lines[100]) as { request_id: string }).request_id
  const one = await cli(['tail', '--dir', dir, '--request-id', id])
  t.equal(one.stdout, lines.filter((line) => line.includes(id)).map(text).join(''), '--request-id: that request\'s records')

  const videos = await cli(['tail', '--dir', dir, '--endpoint', '/api/videos/:id', '-n', '4', '--json'])
  const mine = all.filter((line) => /"path":"\/api\/videos\/\d+"/.test(line))
  t.same(videos.stdout.trimEnd().split('\n'), mine.slice(-4), '--endpoint: start and completion lines of matching requests (by path when there is no endpoint)')

  const none = await cli(['tail', '--dir', dir, '--request-id', 'nobody'])
  t.equal(none.stdout, '')
  const bad = await cli(['tail', '--dir', dir, '--level', 'loud'])
  t.equal(bad.code, 2)
  t.equal(bad.stderr, 'api-logs: --level: "loud" is not a level (DEBUG, INFO, WARNING, ERROR, CRITICAL)\n')
})

t.test('tail: levels colored on a terminal, unless NO_COLOR is set', async (t) => {
  const { lines } = generate({ start: START, spanMs: 1000, requests: 3 })
  const dir = logFolder(t, { 'api_structured.jsonl': { lines } })
  const saved = process.env.NO_COLOR
  t.teardown(() => { if (saved === undefined) delete process.env.NO_COLOR; else process.env.NO_COLOR = saved })
  delete process.env.NO_COLOR
  const colored = await cli(['tail', '--dir', dir, '-n', '1'], { tty: true })
  t.equal(colored.stdout, textLine(JSON.parse(lines[lines.length - 1]) as Record<string, unknown>, true))
  t.match(colored.stdout, /^\[[^\]]+\] \u001b\[32mINFO\u001b\[0m \[api:268\]/)
  process.env.NO_COLOR = '1'
  const plain = await cli(['tail', '--dir', dir, '-n', '1'], { tty: true })
  t.equal(plain.stdout, text(lines[lines.length - 1]))
  const piped = await cli(['tail', '--dir', dir, '-n', '1'])
  t.equal(piped.stdout, plain.stdout, 'never on a pipe')
})

t.test('tail -f: new records, a line written in two parts, a rotation with a late write, a truncation', async (t) => {
  const { lines } = generate({ start: START, spanMs: 60_000, requests: 40 })
  const dir = logFolder(t, { 'api_structured.jsonl.2025-01-13': { lines: lines.slice(0, 2) } })
  const live = join(dir, 'api_structured.jsonl')
  let stdout = ''
  const controller = new AbortController()
  const running = run(['tail', '-f', '--dir', dir, '--json'], {
    stdout: { write: (text: string) => { stdout += text } },
    stderr: { write: () => {} },
    now: Date.now,
    signal: controller.signal
  })
  const printed = (n: number): Promise<boolean> => waitFor(t, `${n} lines`, () => stdout.split('\n').length - 1 >= n)
  writeFileSync(live, lines[2] + '\n')
  await printed(1)
  appendFileSync(live, lines[3].slice(0, 50))
  await new Promise((resolve) => setTimeout(resolve, 400))
  t.equal(stdout, lines[2] + '\n', 'half a line waits for its newline')
  appendFileSync(live, lines[3].slice(50) + '\n' + lines[4] + '\n')
  await printed(3)
  // Rotation: rename, a write that lands in the renamed file, then the new live file.
  appendFileSync(live, lines[5] + '\n')
  renameSync(live, join(dir, 'api_structured.jsonl.2025-01-14'))
  appendFileSync(join(dir, 'api_structured.jsonl.2025-01-14'), lines[6] + '\n')
  writeFileSync(live, lines[7] + '\n')
  await printed(6)
  writeFileSync(join(dir, 'api_structured.w1.jsonl'), lines[8] + '\n')
  await printed(7)
  truncateSync(live, 0)
  appendFileSync(live, lines[9] + '\n')
  await printed(8)
  controller.abort()
  t.equal(await running, 0, 'stops cleanly')
  t.same(stdout.trimEnd().split('\n'), lines.slice(2, 10), 'every line once, in order, across the rotation')
})

t.test('tail -f in a child process stops on SIGINT with exit 0', async (t) => {
  const { lines } = generate({ start: START, spanMs: 60_000, requests: 5 })
  const dir = logFolder(t, { 'api_structured.jsonl': { lines: lines.slice(0, 3) } })
  const child = start(process.execPath, [BIN, 'tail', '-f', '-n', '1', '--dir', dir], { timeoutMs: 30_000 })
  await child.waitForLine(/API Response|API Request|query done|API call/)
  appendFileSync(join(dir, 'api_structured.jsonl'), lines[4] + '\n')
  const message = (JSON.parse(lines[4]) as { message: string }).message
  await child.waitForLine(new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
  child.child.kill('SIGINT')
  const result = await child.result
  t.equal(result.code, 0)
  t.equal(result.signal, null)
  t.equal(result.stderr, '')
})

t.test('tail: an unfinished last line longer than a read block is left for later', async (t) => {
  const { lines } = generate({ start: START, spanMs: 60_000, requests: 3 })
  const dir = logFolder(t, { 'api_structured.jsonl': { lines, tail: '{"timestamp":"2025-01-14T10:01:00.000Z","level":"INFO","logger":"x","message":"' + 'z'.repeat(200_000) } })
  const result = await cli(['tail', '--dir', dir, '-n', '2', '--json'])
  t.same(result.stdout.trimEnd().split('\n'), lines.slice(-2))
  const one = logFolder(t, { 'api_structured.jsonl': { lines: [], tail: 'x'.repeat(100_000) } })
  t.equal((await cli(['tail', '--dir', one])).stdout, '', 'a file that is one unfinished line shows nothing')
})

t.test('tail in a folder with no live file yet', async (t) => {
  const dir = logFolder(t, {})
  const result = await cli(['tail', '--dir', dir])
  t.equal(result.code, 0)
  t.equal(result.stderr, `api-logs: no live api_structured.jsonl in ${dir} yet\n`)
})
