import { readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp, listFiles, tempDir } from './helpers/app'
import { JSON_FILES, jsonLines } from './helpers/faults'

// The clock: moved back and forth across midnight while running (through the `now` option, the
// plugin's clock), and far ahead at a restart.

const DAY = 86_400_000
const LIVE = 'api_structured.jsonl'

async function requests (app: FastifyInstance, tag: string, count: number): Promise<void> {
  for (let n = 0; n < count; n++) {
    const res = await app.inject(`/r/${tag}-${n}`)
    if (res.statusCode !== 200) throw new Error(`/r/${tag}-${n} answered ${res.statusCode}`)
  }
  await app.apiLogging.flush()
}

t.test('a clock moved back and forth across midnight: no double rotation, no lost day, no overwritten dated file', async (t) => {
  const d1 = Date.parse('2031-03-01T00:00:00.000Z')
  let clock = d1 + DAY - 500
  const { app, logDir } = await buildApp(t, { now: () => clock })
  app.get('/r/:tag', async () => ({ ok: true }))

  await requests(app, 'a', 5) // 2031-03-01 23:59:59.5
  clock = d1 + DAY + 500
  await requests(app, 'b', 5) // 2031-03-02: rotates once
  t.same(listFiles(logDir).filter((name) => JSON_FILES.test(name)), [LIVE, `${LIVE}.2031-03-01`], 'one rotation at midnight')
  clock = d1 + DAY - 2000
  await requests(app, 'c', 5) // back to 2031-03-01: no rotation backwards
  clock = d1 + DAY + 5000
  await requests(app, 'd', 5)
  t.same(listFiles(logDir).filter((name) => JSON_FILES.test(name)), [LIVE, `${LIVE}.2031-03-01`], 'no rotation when the clock goes back over midnight and forward again')

  // Someone else's file already has the name the next rotation would take.
  writeFileSync(join(logDir, `${LIVE}.2031-03-02`), '{"message":"not ours"}\n')
  clock = d1 + 4 * DAY + 12 * 3600_000 // three days later
  await requests(app, 'e', 5)
  clock = d1 + DAY + 3600_000 // back by days
  await requests(app, 'f', 5)
  clock = d1 + 5 * DAY + 1000 // the next midnight of the live file's day
  await requests(app, 'g', 5)
  await app.close()

  t.same(listFiles(logDir).filter((name) => JSON_FILES.test(name)), [LIVE, `${LIVE}.2031-03-01`, `${LIVE}.2031-03-02`, `${LIVE}.2031-03-02.2`, `${LIVE}.2031-03-05`],
    'one dated file per day that had lines; an index where the name was taken; no file for the skipped days')
  t.equal(readFileSync(join(logDir, `${LIVE}.2031-03-02`), 'utf8'), '{"message":"not ours"}\n', 'the existing file is untouched')
  const tags = (file: string): string[] => [...new Set(jsonLines(t, logDir, new RegExp(`^${file.replace(/\./g, '\\.')}$`)).map((record) => String(record.path).slice(3, 4)))]
  t.same(tags(`${LIVE}.2031-03-01`), ['a'], 'the first day holds its lines')
  t.same(tags(`${LIVE}.2031-03-02.2`), ['b', 'c', 'd'], 'the second day holds its lines and those logged after the clock went back')
  t.same(tags(`${LIVE}.2031-03-05`), ['e', 'f'], 'the day after the jump, and the lines of the clock back by days')
  t.same(tags(LIVE), ['g'], 'the live file the newest')
  const records = jsonLines(t, logDir).filter((record) => String(record.message).startsWith('API Response'))
  t.equal(records.length, 35, 'every request once')
  t.equal(new Set(records.map((record) => record.request_id)).size, 35)
  const stats = app.apiLogging.stats().json
  t.equal(stats.lines, jsonLines(t, logDir).length - 1, 'stats count every line on disk (but the one that is not ours)')
})

t.test('a restart with the clock 45 days ahead deletes nothing, and says why', async (t) => {
  const logDir = tempDir(t)
  const today = Math.floor(Date.now() / DAY) * DAY
  // Ten days of rotated files, each last written on its day, and today's live file.
  const dated: string[] = []
  for (let k = 1; k <= 10; k++) {
    const day = new Date(today - k * DAY).toISOString().slice(0, 10)
    const name = `${LIVE}.${day}`
    writeFileSync(join(logDir, name), JSON.stringify({ timestamp: `${day}T12:00:00.000Z`, message: `day -${k}` }) + '\n')
    utimesSync(join(logDir, name), new Date(today - k * DAY + 12 * 3600_000), new Date(today - k * DAY + 12 * 3600_000))
    dated.push(name)
  }
  writeFileSync(join(logDir, LIVE), JSON.stringify({ timestamp: new Date(today).toISOString(), message: 'today' }) + '\n')
  const { app } = await buildApp(t, { logDir, now: () => Date.now() + 45 * DAY, jsonLogBackupDays: 30 })
  app.get('/r/:tag', async () => ({ ok: true }))
  await requests(app, 'x', 1)
  await app.close()
  const names = listFiles(logDir)
  t.ok(dated.every((name) => names.includes(name)), 'every earlier file is still there')
  const records = jsonLines(t, logDir)
  t.ok(records.some((record) => record.message === 'today'), 'today\'s lines too (rotated under their own day)')
  const warning = records.find((record) => record.level === 'WARNING' && String(record.message).startsWith('Retention deleted nothing'))
  t.match(warning?.message, /the clock says \d{4}-\d{2}-\d{2} but the newest JSON log file was written on \d{4}-\d{2}-\d{2}, more than 30 days before: 10 rotated files kept/, 'a WARNING says why nothing was deleted')
})

t.test('each retention run that deletes says so in one INFO line naming the files', async (t) => {
  const logDir = tempDir(t)
  const now = Date.parse('2031-06-15T12:00:00.000Z')
  const old = ['2031-05-01', '2031-05-02'].map((day) => `${LIVE}.${day}`)
  for (const name of old) {
    writeFileSync(join(logDir, name), 'old\n')
    utimesSync(join(logDir, name), new Date(Date.parse(name.slice(-10))), new Date(Date.parse(name.slice(-10))))
  }
  writeFileSync(join(logDir, LIVE), JSON.stringify({ timestamp: '2031-06-15T11:00:00.000Z', message: 'earlier today' }) + '\n')
  utimesSync(join(logDir, LIVE), new Date(now), new Date(now))
  const { app } = await buildApp(t, { logDir, now: () => now, jsonLogBackupDays: 30 })
  await app.close()
  const info = jsonLines(t, logDir).filter((record) => String(record.message).startsWith('Retention deleted'))
  t.same(info.map((record) => [record.level, record.message, record.deleted_files]), [[
    'INFO', `Retention deleted 2 rotated JSON files older than 30 days: ${old.join(', ')}`, old.join(',')
  ]])
  t.notOk(listFiles(logDir).some((name) => old.includes(name)), 'and they are gone')
})
