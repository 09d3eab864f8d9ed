import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { FileDestination, DAY_MS, type DailyRotation, type SizeRotation } from '../../dist/sinks/file.js'
import { tempDir } from '../helpers/app'

// Unit tests of the rotating file destination, on real files: no Fastify, no sink.

function size (maxBytes: number, backups = 10): SizeRotation {
  return { kind: 'size', maxBytes, backups }
}

function daily (now = Date.now): DailyRotation {
  return { kind: 'daily', now, rotated: () => {} }
}

function open (dir: string, name: string, rotation: SizeRotation | DailyRotation): FileDestination {
  return new FileDestination({ dir, name, rotation, lock: null, reopened: () => {} })
}

function write (destination: FileDestination, text: string, tag = 0): Promise<{ err: Error | null, written: number }> {
  return new Promise((resolve) => destination.write(Buffer.from(text), tag, (err, written) => resolve({ err, written })))
}

const line = (label: string, bytes: number): string => label + ' ' + 'x'.repeat(bytes - label.length - 2) + '\n'

t.test('a line longer than the size limit goes alone into a file of its own', async (t) => {
  const dir = tempDir(t)
  const destination = open(dir, 'api.log', size(1024))
  const long = line('long', 3000)
  t.same(await write(destination, line('one', 100) + long + line('three', 100)), { err: null, written: 3200 })
  await destination.end()
  t.equal(readFileSync(join(dir, 'api.log.2'), 'utf8'), line('one', 100))
  t.equal(readFileSync(join(dir, 'api.log.1'), 'utf8'), long, 'the long line, alone')
  t.equal(readFileSync(join(dir, 'api.log'), 'utf8'), line('three', 100))
})

t.test('a directory or a FIFO at the path is refused without blocking, at open and at reopen', async (t) => {
  const dir = tempDir(t)
  mkdirSync(join(dir, 'api.log'))
  t.throws(() => open(dir, 'api.log', size(1024)), { code: 'EISDIR' })
  execFileSync('mkfifo', [join(dir, 'fifo.log')])
  t.throws(() => open(dir, 'fifo.log', size(1024)), { code: 'EINVAL', message: /is not a regular file/ })

  const destination = open(dir, 'other.log', size(1 << 20))
  t.same(await write(destination, 'before\n'), { err: null, written: 7 })
  rmSync(join(dir, 'other.log'))
  execFileSync('mkfifo', [join(dir, 'other.log')])
  await destination.reopen()
  const failed = await write(destination, 'into a fifo?\n')
  t.equal((failed.err as NodeJS.ErrnoException | null)?.code, 'EINVAL', 'a FIFO put in place of the file fails the write, it does not block')
  t.equal(failed.written, 0)
  rmSync(join(dir, 'other.log'))
  t.same(await write(destination, 'after\n'), { err: null, written: 6 }, 'the next write opens a new file')
  await destination.end()
  // 'before' went into the deleted file after the last check: it is saved into the new one.
  t.equal(readFileSync(join(dir, 'other.log'), 'utf8'), 'before\nafter\n')
})

t.test('the synchronous exit path rotates by size and by day, and reopens a replaced file', async (t) => {
  const dir = tempDir(t)
  const text = open(dir, 'api.log', size(1024, 3))
  t.equal(text.writeSync(Buffer.from(line('a', 600) + line('b', 600) + line('c', 600)), 0, false), 1800, 'all written')
  t.same(readdirSync(dir).filter((name) => name.startsWith('api.log')).sort(), ['api.log', 'api.log.1', 'api.log.2'], 'rotated twice, the backups numbered at once')
  t.equal(readFileSync(join(dir, 'api.log.2'), 'utf8'), line('a', 600))
  renameSync(join(dir, 'api.log'), join(dir, 'moved.log'))
  t.equal(text.writeSync(Buffer.from('after the move\n'), 0, false), 15)
  t.equal(readFileSync(join(dir, 'api.log'), 'utf8'), 'after the move\n', 'a moved file is replaced by a new one at the path')
  await text.end()

  const day = Math.floor(Date.parse('2031-01-01T10:00:00Z') / DAY_MS)
  writeFileSync(join(dir, 'day.jsonl'), '{"timestamp":"2031-01-01T10:00:00.000Z"}\n')
  writeFileSync(join(dir, 'day.jsonl.2031-01-01'), 'taken\n')
  const json = open(dir, 'day.jsonl', daily())
  t.equal(json.writeSync(Buffer.from('{"same":"day"}\n'), day, false), 15)
  t.equal(json.writeSync(Buffer.from('{"next":"day"}\n'), day + 1, false), 15)
  t.equal(json.writeSync(Buffer.from('{"back":"a day"}\n'), day, false), 17, 'a line of an earlier day stays in the newer file')
  await json.end()
  t.equal(readFileSync(join(dir, 'day.jsonl.2031-01-01'), 'utf8'), 'taken\n', 'the taken name is left alone')
  t.equal(readFileSync(join(dir, 'day.jsonl.2031-01-01.2'), 'utf8'), '{"timestamp":"2031-01-01T10:00:00.000Z"}\n{"same":"day"}\n')
  t.equal(readFileSync(join(dir, 'day.jsonl'), 'utf8'), '{"next":"day"}\n{"back":"a day"}\n')
})

t.test('an empty daily file takes the day of its first line; an idle one rotates at midnight by the timer', async (t) => {
  const dir = tempDir(t)
  let clock = Date.parse('2031-02-01T23:59:59.000Z')
  let rotations = 0
  const destination = new FileDestination({ dir, name: 'api.jsonl', rotation: { kind: 'daily', now: () => clock, rotated: () => { rotations++ } }, lock: null, reopened: () => {} })
  const day = Math.floor(clock / DAY_MS)
  t.same(await write(destination, '{"n":1}\n', day), { err: null, written: 8 })
  clock += 2000
  await new Promise((resolve) => setTimeout(resolve, 1600))
  t.equal(rotations, 1, 'rotated once the file was idle past midnight')
  t.same(readdirSync(dir).sort(), ['api.jsonl', 'api.jsonl.2031-02-01'])
  t.same(await write(destination, '{"n":2}\n', day + 1), { err: null, written: 8 })
  await destination.end()
  t.equal(readFileSync(join(dir, 'api.jsonl'), 'utf8'), '{"n":2}\n')
})

t.test('at start, a shift cut short is finished: the gaps closed, the pending file made api.log.1, the order kept', async (t) => {
  const dir = tempDir(t)
  for (const n of [1, 2, 5, 12]) writeFileSync(join(dir, `api.log.${n}`), `backup ${n}\n`)
  writeFileSync(join(dir, 'api.log.pending.7'), 'pending 7\n')
  writeFileSync(join(dir, 'api.log.pending.8'), 'pending 8\n')
  const destination = open(dir, 'api.log', size(1024, 5))
  await destination.end()
  const contents = ['api.log.1', 'api.log.2', 'api.log.3', 'api.log.4', 'api.log.5'].map((name) => readFileSync(join(dir, name), 'utf8').trim())
  t.same(contents, ['pending 8', 'pending 7', 'backup 1', 'backup 2', 'backup 5'], 'newest first, five backups, no gap')
  t.same(readdirSync(dir).filter((name) => name.startsWith('api.log.')).sort(), ['api.log.1', 'api.log.2', 'api.log.3', 'api.log.4', 'api.log.5'], 'the one past the count is gone')
})
