import t from 'tap'
import { readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { tempDir } from '../helpers/app'
import { start } from '../helpers/child'
import { cli } from '../helpers/cli'

const SCRIPT = resolve(__dirname, '..', '..', 'scripts', 'generate-logs.js')

t.test('scripts/generate-logs.js writes a folder of daily files that api-logs reads whole', async (t) => {
  const dir = join(tempDir(t), 'logs')
  const result = await start(process.execPath, [SCRIPT, dir, '--bytes', '300k', '--days', '3', '--gzip-days', '1', '--seed', '9'], { timeoutMs: 60_000 }).result
  t.equal(result.code, 0, result.stderr)
  const names = readdirSync(dir).sort()
  t.equal(names.length, 3)
  t.same(names.map((name) => name.replace(/\d{4}-\d{2}-\d{2}/, 'DAY')).sort(), ['api_structured.jsonl', 'api_structured.jsonl.DAY', 'api_structured.jsonl.DAY.gz'])
  const printed = result.stdout.trimEnd().split('\n')
  t.equal(printed.length, 3)
  const requests = printed.reduce((sum, line) => sum + Number(/, (\d+) requests,/.exec(line)?.[1]), 0)
  const report = await cli(['report', '--json', '--dir', dir])
  t.equal(report.stderr, '', 'no line the reader skips')
  t.equal((JSON.parse(report.stdout) as { totals: { requests: number } }).totals.requests, requests, 'every request it wrote')
  const usage = await start(process.execPath, [SCRIPT], { timeoutMs: 60_000 }).result
  t.equal(usage.code, 1)
  t.match(usage.stderr, /^usage: node scripts\/generate-logs\.js DIR/)
  const size = await start(process.execPath, [SCRIPT, dir, '--bytes', 'lots'], { timeoutMs: 60_000 }).result
  t.match(size.stderr, /^not a size: lots/)
})
