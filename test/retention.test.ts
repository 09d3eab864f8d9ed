import t from 'tap'
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildApp, listFiles, tempDir, waitFor } from './helpers/app'

const LIVE = 'api_structured.jsonl'
const DATED = /\.(\d{4}-\d{2}-\d{2})(?:\.\d+)?$/

/**
 * Writes a file; a dated one gets the mtime a previous run would have left: its day, at noon UTC
 * (retention keeps a file modified within the window whatever its name says).
 */
function write (dir: string, name: string, content = `${name}\n`): string {
  const path = join(dir, name)
  writeFileSync(path, content)
  const day = DATED.exec(name)?.[1]
  if (day !== undefined && !Number.isNaN(Date.parse(`${day}T12:00:00Z`))) utimesSync(path, new Date(`${day}T12:00:00Z`), new Date(`${day}T12:00:00Z`))
  return path
}

/**
 * The live JSON file as a previous run on the clock's day left it. Without it the plugin creates
 * an empty one with the real time as mtime; that case is tested in rotation.test.ts.
 */
function writeLiveFile (dir: string, clock: number): void {
  const path = write(dir, LIVE, '{"message":"earlier today"}\n')
  utimesSync(path, new Date(clock), new Date(clock))
}

t.test('startup deletes rotated JSON files older than jsonLogBackupDays, and nothing else', async (t) => {
  const logDir = tempDir(t)
  const outside = tempDir(t, 'api-logging-outside-')
  const clock = Date.parse('2025-03-10T12:00:00.000Z')
  writeLiveFile(logDir, clock)
  // today 2025-03-10, 30 days: cutoff 2025-02-08; a file for day D is deleted when D < cutoff.
  const kept = [
    'api_structured.jsonl.2025-03-11', // after today
    'api_structured.jsonl.2025-03-10',
    'api_structured.jsonl.2025-03-09',
    'api_structured.jsonl.2025-02-08', // exactly 30 days before
    'api_structured.jsonl.2025-02-08.2',
    'api_structured.jsonl.2024-12-01' // old by its name, but modified within the window
  ]
  const deleted = [
    'api_structured.jsonl.2025-02-07',
    'api_structured.jsonl.2025-02-07.3',
    'api_structured.jsonl.2024-12-01.2',
    'api_structured.jsonl.2020-01-03'
  ]
  const others = [
    'api.log',
    'api.log.1', // a text backup: JSON retention leaves it alone
    'notes.txt',
    'api_structured.jsonl.2024-12-01.bak',
    'api_structured.jsonl.2024-12-01.gz',
    'api_structured.jsonl.20241201',
    'other.jsonl.2020-01-01',
    'xapi_structured.jsonl.2020-01-01'
  ]
  for (const name of [...kept, ...deleted, ...others]) write(logDir, name)
  // A file goes only when both its name and its mtime are older than the window.
  utimesSync(join(logDir, 'api_structured.jsonl.2025-03-09'), new Date('2000-01-01T00:00:00Z'), new Date('2000-01-01T00:00:00Z'))
  utimesSync(join(logDir, 'api_structured.jsonl.2024-12-01'), new Date(clock - 86_400_000), new Date(clock - 86_400_000))
  // Not regular files: a directory and a symlink to a file outside logDir.
  mkdirSync(join(logDir, 'api_structured.jsonl.2020-01-01'))
  write(join(logDir, 'api_structured.jsonl.2020-01-01'), 'inside.txt')
  const target = write(outside, 'target.log', 'must survive\n')
  symlinkSync(target, join(logDir, 'api_structured.jsonl.2020-01-02'))
  // An rfs history file naming a file outside logDir and one of ours: neither is deleted for it.
  const victim = write(outside, 'victim.log', 'must survive too\n')
  const history = `${victim}\n${join(logDir, 'api_structured.jsonl.2025-03-09')}\n`
  write(logDir, 'api_structured.jsonl.txt', history)

  const expected = [LIVE, ...kept, ...others, 'api_structured.jsonl.2020-01-01', 'api_structured.jsonl.2020-01-02', 'api_structured.jsonl.txt'].sort()
  const { app } = await buildApp(t, { logDir, now: () => clock, jsonLogBackupDays: 30 })
  t.same(listFiles(logDir), expected, 'once registered, exactly the old rotated JSON files are gone')

  app.get('/x', async () => ({ ok: true }))
  await app.inject('/x')
  await app.close()
  t.same(listFiles(logDir), expected, 'nothing else is deleted while running or at close')
  for (const name of [...kept, ...others.filter((name) => name !== 'api.log')]) {
    t.equal(readFileSync(join(logDir, name), 'utf8'), `${name}\n`, `${name} is untouched`)
  }
  t.ok(lstatSync(join(logDir, 'api_structured.jsonl.2020-01-01')).isDirectory(), 'the directory is still there')
  t.same(readdirSync(join(logDir, 'api_structured.jsonl.2020-01-01')), ['inside.txt'], 'with its content')
  t.ok(lstatSync(join(logDir, 'api_structured.jsonl.2020-01-02')).isSymbolicLink(), 'the symlink is left alone')
  t.equal(readFileSync(target, 'utf8'), 'must survive\n', 'the symlink\'s target outside logDir survives')
  t.equal(readFileSync(victim, 'utf8'), 'must survive too\n', 'a file named in the history file survives')
  t.equal(readFileSync(join(logDir, 'api_structured.jsonl.txt'), 'utf8'), history, 'the history file is untouched')
})

t.test('jsonLogBackupDays: 1 keeps yesterday and deletes the day before', async (t) => {
  const logDir = tempDir(t)
  const clock = Date.parse('2025-03-10T00:00:00.000Z')
  writeLiveFile(logDir, clock)
  const kept = ['api_structured.jsonl.2025-03-10', 'api_structured.jsonl.2025-03-09', 'api_structured.jsonl.2025-03-09.2']
  const deleted = ['api_structured.jsonl.2025-03-08', 'api_structured.jsonl.2025-03-08.3', 'api_structured.jsonl.2025-02-28']
  for (const name of [...kept, ...deleted]) write(logDir, name)

  await buildApp(t, { logDir, now: () => clock, jsonLogBackupDays: 1 })
  t.same(listFiles(logDir), ['api.log', LIVE, ...kept].sort())
})

t.test('retention judges "today" by the injected clock, not the real one', async (t) => {
  const logDir = tempDir(t)
  // Far in the future: by the real clock every file here is recent.
  const clock = Date.parse('2099-06-15T08:00:00.000Z')
  writeLiveFile(logDir, clock)
  write(logDir, 'api_structured.jsonl.2099-05-16')
  write(logDir, 'api_structured.jsonl.2099-05-15')
  write(logDir, 'api_structured.jsonl.2099-06-14')

  await buildApp(t, { logDir, now: () => clock, jsonLogBackupDays: 30 })
  t.same(listFiles(logDir), ['api.log', LIVE, 'api_structured.jsonl.2099-05-16', 'api_structured.jsonl.2099-06-14'])
})

t.test('retention runs again after the midnight rotation', async (t) => {
  const logDir = tempDir(t)
  let clock = Date.parse('2025-03-10T23:59:59.700Z')
  writeLiveFile(logDir, clock)
  // Cutoff 2025-02-08 on the 10th, 2025-02-09 on the 11th.
  for (const name of ['api_structured.jsonl.2025-02-08', 'api_structured.jsonl.2025-02-08.2', 'api_structured.jsonl.2025-02-09', 'notes.txt']) write(logDir, name)

  const { app } = await buildApp(t, { logDir, now: () => clock, jsonLogBackupDays: 30 })
  t.same(listFiles(logDir), ['api.log', LIVE, 'api_structured.jsonl.2025-02-08', 'api_structured.jsonl.2025-02-08.2', 'api_structured.jsonl.2025-02-09', 'notes.txt'],
    'nothing is old enough before midnight')
  app.get('/x', async () => ({ ok: true }))
  const res = await app.inject('/x')
  await app.apiLogging.flush()

  clock = Date.parse('2025-03-11T00:00:00.100Z')
  await waitFor(t, 'the rotation and the deletion of 2025-02-08', () =>
    existsSync(join(logDir, 'api_structured.jsonl.2025-03-10')) && !existsSync(join(logDir, 'api_structured.jsonl.2025-02-08')) &&
    !existsSync(join(logDir, 'api_structured.jsonl.2025-02-08.2')))
  await app.close()
  t.same(listFiles(logDir), ['api.log', LIVE, 'api_structured.jsonl.2025-02-09', 'api_structured.jsonl.2025-03-10', 'notes.txt'])
  t.match(readFileSync(join(logDir, 'api_structured.jsonl.2025-03-10'), 'utf8'), res.headers['x-request-id'] as string, 'the rotated file holds the day\'s lines')
})
