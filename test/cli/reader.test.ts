import t, { type Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { discoverLogFiles } from '../../dist/cli/files.js'
import { joinScans, MAX_LINE_BYTES, scanFile, scanFolder } from '../../dist/cli/reader.js'
import type { LineView } from '../../dist/cli/line.js'
import { cli, generate, logFolder } from '../helpers/cli'

// Lines compared without printing megabytes of them when they differ.
function sameLines (t: Test, actual: string[], expected: string[], message: string): void {
  const at = actual.findIndex((line, i) => line !== expected[i])
  const where = at === -1 ? (actual.length === expected.length ? -1 : Math.min(actual.length, expected.length)) : at
  t.equal(where, -1, where === -1 ? message : `${message}: line ${where} differs (${(actual[where] ?? '(none)').slice(0, 120)} / ${(expected[where] ?? '(none)').slice(0, 120)})`)
}

const START = Date.parse('2025-01-14T10:00:00.000Z')

async function recordsOf (dir: string, name: string, range?: { start: number, end: number }): Promise<{ lines: string[], scan: Awaited<ReturnType<typeof scanFile>> }> {
  const file = (await discoverLogFiles(dir)).files.find((f) => f.name === name)
  if (file === undefined) throw new Error(`${name} not found`)
  const lines: string[] = []
  const scan = await scanFile(file, { onRecord: (view: LineView) => { lines.push(view.text()) } }, range)
  return { lines, scan }
}

t.test('torn, non-JSON and foreign lines are counted, named and skipped; the rest is read', async (t) => {
  const { lines } = generate({ start: START, spanMs: 60_000, requests: 20 })
  const damaged = [...lines]
  damaged.splice(3, 0, 'not json at all', '')
  damaged.splice(8, 0, '{"message":"from another program"}', '[1,2,3]', '"just a string"')
  damaged.splice(12, 0, '{"timestamp":"2025-01-14T10:00:01.000Z","level":"INFO","logger":"api","mess')
  const dir = logFolder(t, { 'api_structured.jsonl': { lines: damaged, tail: '{"timestamp":"2025-01-14T10:00:59' } })
  const { lines: read, scan } = await recordsOf(dir, 'api_structured.jsonl')
  t.same(read, lines, 'every record, in order')
  t.equal(scan.malformed, 2, 'two lines are not JSON')
  t.equal(scan.firstMalformed, 4, 'the first at line 4')
  t.equal(scan.foreign, 3, 'three JSON lines are not records')
  t.equal(scan.torn, true, 'the unterminated last line is torn')
  t.equal(scan.lines, damaged.length, 'every newline-terminated line counted (the empty one too)')

  const report = await cli(['report', '--dir', dir])
  t.equal(report.code, 0)
  t.same(report.stderr.trimEnd().split('\n'), [
    'api-logs: api_structured.jsonl: 2 lines are not JSON (torn or damaged), the first at line 4: skipped',
    'api-logs: api_structured.jsonl: 3 JSON lines without timestamp, level and message (from another program): skipped',
    'api-logs: api_structured.jsonl: the last line has no newline (torn, or still being written): skipped'
  ], 'one line per kind of problem')
  t.match(report.stdout, /^20 requests in 1 file of /)
})

t.test('a torn line glued to the next record (a partial write): the torn part is counted, the record is read', async (t) => {
  const { lines } = generate({ start: START, spanMs: 60_000, requests: 6 })
  const glued = [...lines]
  glued[4] = lines[4].slice(0, 90) + lines[5]
  glued.splice(5, 1)
  const dir = logFolder(t, { 'api_structured.jsonl': { lines: glued } })
  const { lines: read, scan } = await recordsOf(dir, 'api_structured.jsonl')
  t.same(read, [...lines.slice(0, 4), ...lines.slice(5)], 'the glued record is read on its own')
  t.equal(scan.malformed, 1)
  t.equal(scan.firstMalformed, 5)

  // A body whose first key is "timestamp" is not a glued line.
  const record = JSON.parse(lines[1]) as Record<string, unknown>
  record.request_body = { timestamp: '2025-01-14T10:00:00.000Z', note: 'x' }
  const dir2 = logFolder(t, { 'api_structured.jsonl': { lines: [JSON.stringify(record)] } })
  const second = await recordsOf(dir2, 'api_structured.jsonl')
  t.equal(second.lines.length, 1, 'read as one record')
  t.equal(second.scan.malformed, 0)
})

t.test('gzip: whole files read, a corrupt or truncated one reported in one line, the others still read', async (t) => {
  const { lines } = generate({ start: START, spanMs: 60_000, requests: 400 })
  const gz = gzipSync(lines.map((line) => line + '\n').join(''))
  const dir = logFolder(t, {
    'api_structured.jsonl.2025-01-12.gz': { lines, gzip: true },
    'api_structured.jsonl': { lines }
  })
  writeFileSync(join(dir, 'api_structured.jsonl.2025-01-13.gz'), gz.subarray(0, Math.floor(gz.length / 2)))
  writeFileSync(join(dir, 'api_structured.jsonl.2025-01-11.gz'), Buffer.from('this is not gzip data at all'))
  const whole = await recordsOf(dir, 'api_structured.jsonl.2025-01-12.gz')
  t.same(whole.lines, lines, 'a .gz file is read whole')
  const truncated = await recordsOf(dir, 'api_structured.jsonl.2025-01-13.gz')
  t.ok(truncated.lines.length > 0 && truncated.lines.length < lines.length, `the lines before the cut are read (${truncated.lines.length})`)
  t.same(truncated.lines, lines.slice(0, truncated.lines.length), 'and they are the right ones')
  t.match(truncated.scan.error, /^not a valid gzip file \(unexpected end of file\)/)

  const report = await cli(['report', '--dir', dir])
  t.equal(report.code, 0, 'the run goes on')
  const problems = report.stderr.trimEnd().split('\n')
  t.same(problems, [
    'api-logs: api_structured.jsonl.2025-01-11.gz: not a valid gzip file (incorrect header check); the lines before the damage were read',
    'api-logs: api_structured.jsonl.2025-01-13.gz: not a valid gzip file (unexpected end of file); the lines before the damage were read'
  ], 'one line per damaged file')
})

t.test('a file that cannot be read is reported, the others are read', async (t) => {
  const { lines } = generate({ start: START, spanMs: 60_000, requests: 5 })
  const dir = logFolder(t, { 'api_structured.jsonl': { lines } })
  const [file] = (await discoverLogFiles(dir)).files
  const scan = await scanFile({ ...file, path: join(dir, 'gone') }, { onRecord () {} })
  t.match(scan.error, /^cannot be read \(ENOENT/)
})

t.test('lines cut by the 1 MiB read chunks, a line longer than the limit, and byte ranges', async (t) => {
  const { lines } = generate({ start: START, spanMs: 3_600_000, requests: 6000 })
  const huge = '{"timestamp":"2025-01-14T10:00:00.000Z","level":"INFO","logger":"x","message":"' + 'y'.repeat(MAX_LINE_BYTES + (1 << 20)) + '"}'
  const withHuge = [...lines.slice(0, 3000), huge, ...lines.slice(3000)]
  const dir = logFolder(t, { 'api_structured.jsonl': { lines: withHuge } })
  const whole = await recordsOf(dir, 'api_structured.jsonl')
  t.ok(whole.scan.file.size > 3 * MAX_LINE_BYTES / 2, 'several chunks')
  sameLines(t, whole.lines, lines, 'every line across chunk boundaries, the long one skipped')
  t.equal(whole.scan.tooLong, 1)
  t.equal(whole.scan.lines, withHuge.length)
  const report = await cli(['report', '--dir', dir])
  t.match(report.stderr, `api_structured.jsonl: 1 line longer than ${MAX_LINE_BYTES >> 20} MiB: skipped`)

  // Any cut into ranges reads each line once: the ranges joined are the whole file.
  const size = whole.scan.file.size
  for (const cuts of [[1], [size / 2], [1234567, 2345678, size - 10], [...Array.from({ length: 9 }, (_, i) => Math.floor((size * (i + 1)) / 10))]]) {
    const bounds = [0, ...cuts.map(Math.floor), Infinity]
    const parts = []
    const read: string[] = []
    for (let i = 0; i < bounds.length - 1; i++) {
      const part = await recordsOf(dir, 'api_structured.jsonl', { start: bounds[i], end: bounds[i + 1] })
      parts.push(part.scan)
      read.push(...part.lines)
    }
    sameLines(t, read, lines, `${bounds.length - 1} ranges: every record once, in order`)
    const joined = joinScans(parts)
    t.equal(joined.lines, whole.scan.lines, 'line counts add up')
    t.equal(joined.tooLong, 1, 'the long line counted once')
  }
})

t.test('a range ends before a line that straddles a read chunk', async (t) => {
  const { lines } = generate({ start: START, spanMs: 3_600_000, requests: 4000 })
  const dir = logFolder(t, { 'api_structured.jsonl': { lines } })
  // The line holding byte 1 MiB starts in the first chunk and ends in the second.
  let offset = 0
  let index = 0
  while (offset + Buffer.byteLength(lines[index]) + 1 <= 1 << 20) offset += Buffer.byteLength(lines[index++]) + 1
  const first = await recordsOf(dir, 'api_structured.jsonl', { start: 0, end: offset })
  const second = await recordsOf(dir, 'api_structured.jsonl', { start: offset, end: Infinity })
  sameLines(t, first.lines, lines.slice(0, index), 'the first range stops before it')
  sameLines(t, second.lines, lines.slice(index), 'the second starts with it')
})

t.test('ranges keep line numbers and the torn last line', async (t) => {
  const { lines } = generate({ start: START, spanMs: 60_000, requests: 50 })
  const damaged = [...lines.slice(0, 80), 'broken', ...lines.slice(80)]
  const dir = logFolder(t, { 'api_structured.jsonl': { lines: damaged, tail: '{"torn' } })
  const whole = await recordsOf(dir, 'api_structured.jsonl')
  const cut = Math.floor(whole.scan.file.size / 3)
  const parts = [await recordsOf(dir, 'api_structured.jsonl', { start: 0, end: cut }), await recordsOf(dir, 'api_structured.jsonl', { start: cut, end: Infinity })]
  const joined = joinScans(parts.map((part) => part.scan))
  t.equal(joined.firstMalformed, 81, 'the line number counts the lines of the ranges before')
  t.equal(joined.torn, true)
  t.equal(parts[0].scan.torn, false, 'only the last range can end torn')
})

t.test('scanFolder: files last written before --since are not read', async (t) => {
  const { lines } = generate({ start: START, spanMs: 60_000, requests: 5 })
  const dir = logFolder(t, {
    'api_structured.jsonl.2025-01-13': { lines, mtime: new Date('2025-01-14T00:00:01Z') },
    'api_structured.jsonl': { lines, mtime: new Date('2025-01-14T10:01:00Z') }
  })
  const scan = await scanFolder(dir, { since: Date.parse('2025-01-14T09:00:00Z'), onRecord () {} })
  t.same(scan.scans.map((s) => s.file.name), ['api_structured.jsonl'])
  t.same(scan.skipped.map((f) => f.name), ['api_structured.jsonl.2025-01-13'])
})
