import t from 'tap'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { compareLogFiles, discoverLogFiles, parseLogName } from '../../dist/cli/files.js'
import { tempDir } from '../helpers/app'
import { cli, logFolder } from '../helpers/cli'

t.test('the plugin\'s JSON file names, and nothing else', async (t) => {
  const accepted = ['api_structured.jsonl', 'api_structured.jsonl.2025-01-14', 'api_structured.jsonl.2025-01-14.2', 'api_structured.jsonl.2025-01-14.gz',
    'api_structured.jsonl.2025-01-14.12.gz', 'api_structured.jsonl.gz', 'api_structured.w3.jsonl', 'api_structured.w12.jsonl.2025-01-14.2.gz']
  for (const name of accepted) t.not(parseLogName(name), null, name)
  const refused = ['api.log', 'api.log.1', 'api_structured.jsonl.txt', 'api_structured.jsonl.1', 'api_structured.jsonl.2025-1-14', 'api_structured.jsonl.2025-01-14.x',
    'api_structured.jsonl.bak', 'api_structured.jsonl.2025-01-14.gz.1', 'api_structured.wx.jsonl', 'api_structured.w.jsonl', 'other.jsonl', 'api_structured.jsonl~', 'xapi_structured.jsonl']
  for (const name of refused) t.equal(parseLogName(name), null, name)
  t.same(parseLogName('api_structured.w7.jsonl.2025-01-14.3.gz'), { worker: 7, day: '2025-01-14', index: 3, gzip: true })
  t.same(parseLogName('api_structured.jsonl'), { worker: -1, day: null, index: 0, gzip: false })
})

t.test('files are listed oldest first, live files last; a .gz beside its original is left out', async (t) => {
  const dir = tempDir(t)
  const names = ['api_structured.jsonl', 'api_structured.w1.jsonl', 'api_structured.jsonl.2025-01-14.2', 'api_structured.jsonl.2025-01-13.gz',
    'api_structured.jsonl.2025-01-14', 'api_structured.jsonl.2025-01-14.gz', 'api_structured.w1.jsonl.2025-01-14', 'api.log', 'notes.txt']
  for (const name of names) writeFileSync(join(dir, name), '')
  mkdirSync(join(dir, 'api_structured.jsonl.2025-01-10'))
  symlinkSync(join(dir, 'missing'), join(dir, 'api_structured.jsonl.2025-01-11'))
  const { files, duplicates } = await discoverLogFiles(dir)
  t.same(files.map((file) => file.name), ['api_structured.jsonl.2025-01-13.gz', 'api_structured.jsonl.2025-01-14', 'api_structured.w1.jsonl.2025-01-14',
    'api_structured.jsonl.2025-01-14.2', 'api_structured.jsonl', 'api_structured.w1.jsonl'], 'by day, then same-day index, then worker; directories and dangling links skipped')
  t.same(duplicates, ['api_structured.jsonl.2025-01-14.gz'])
  const [a, b] = files
  t.equal(compareLogFiles(a, a), 0, 'a file sorts equal to itself')
  t.ok(compareLogFiles(a, b) < 0 && compareLogFiles(b, a) > 0, 'the order is antisymmetric')
  const gz = { ...files[1], gzip: true }
  t.ok(compareLogFiles(files[1], gz) < 0, 'the uncompressed file first when both were listed')
})

t.test('a missing folder, a file given as folder, an unreadable folder: one line, exit 2', async (t) => {
  const dir = tempDir(t)
  const missing = await cli(['report', '--dir', join(dir, 'nope')])
  t.equal(missing.code, 2)
  t.equal(missing.stderr, `api-logs: no log folder at ${join(dir, 'nope')} (give --dir, or set LOG_DIR)\n`)
  writeFileSync(join(dir, 'file'), '')
  const notDir = await cli(['trace', 'abc', '--dir', join(dir, 'file')])
  t.equal(notDir.code, 2)
  t.equal(notDir.stderr, `api-logs: ${join(dir, 'file')} is not a folder (give the LOG_DIR folder with --dir)\n`)
  const loop = join(dir, 'loop')
  symlinkSync(loop, loop)
  const looping = await cli(['check', '--dir', loop])
  t.equal(looping.code, 2)
  t.match(looping.stderr, /^api-logs: cannot read the log folder .*loop: ELOOP/)
  t.equal(looping.stderr.split('\n').length, 2, 'one line')
})

t.test('a .gz copy beside its original is named as left out', async (t) => {
  const lines = ['{"timestamp":"2025-01-14T10:00:00.000Z","level":"INFO","logger":"api","message":"x","module":"m","function":"f","line":1,"request_id":null}']
  const dir = logFolder(t, { 'api_structured.jsonl.2025-01-14': { lines }, 'api_structured.jsonl.2025-01-14.gz': { lines, gzip: true } })
  const result = await cli(['report', '--dir', dir])
  t.equal(result.stderr, 'api-logs: api_structured.jsonl.2025-01-14.gz: not read, the uncompressed api_structured.jsonl.2025-01-14 beside it holds the same lines\n')
})

t.test('an empty folder is reported, not an error', async (t) => {
  const dir = logFolder(t, {})
  const result = await cli(['report', '--dir', dir])
  t.equal(result.code, 0)
  t.equal(result.stderr, `api-logs: ${dir}: no api_structured.jsonl file here\n`)
  t.match(result.stdout, /^0 requests in 0 files of /)
  t.match(result.stdout, /No request found\.\n$/)
})
