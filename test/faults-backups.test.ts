import { readFileSync, statSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { buildApp, tempDir } from './helpers/app'
import { Load, filesIn, textLines } from './helpers/faults'

// LOG_FILE_BACKUP_COUNT=999 with 64 KiB files under load: classic names, api.log.1 the newest,
// so each rotation needs every backup renamed. The renames happen off the write path, for all
// the rotations since the last shift at once.

const MAX_BYTES = 65536
const BACKUPS = 999
const OLD = 980

t.test('999 backups of 64 KiB under load: nothing dropped, the order kept, close() within its bound', async (t) => {
  const logDir = tempDir(t)
  // 980 backups from an earlier run: each rotation now has about a thousand files to rename.
  for (let n = 1; n <= OLD; n++) writeFileSync(join(logDir, `api.log.${n}`), `[2020-01-01 00:00:00] INFO [api:1] old backup ${n}\n`)
  const { app } = await buildApp(t, { logDir, logFileMaxBytes: MAX_BYTES, logFileBackupCount: BACKUPS, enableJsonLogging: false })
  app.get('/r/:n', async (request) => {
    for (let step = 0; step < 4; step++) request.log.info({ step, pad: 'x'.repeat(100) }, 'work step')
    return { ok: true }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const load = new Load((app.server.address() as AddressInfo).port, { connections: 50 })
  // Enough lines for 25 rotations, so 980 old backups and the new ones fill all 999 (about 1.5 s
  // of load on a quiet machine).
  await load.runUntil(() => app.apiLogging.stats().file.bytes > 25 * MAX_BYTES)
  await load.stop()
  const closeStart = performance.now()
  await app.close()
  const closeMs = performance.now() - closeStart
  t.ok(closeMs < 5000, `close() took ${closeMs.toFixed(0)} ms (close-with-grace allows 10 s)`)

  const stats = app.apiLogging.stats().file
  t.equal(load.failures, 0, 'every request got an answer')
  t.equal(stats.dropped, 0, `nothing dropped (${stats.lines} lines written)`)
  const names = filesIn(logDir, /^api\.log(\.\d+)?$/)
  const numbers = names.filter((name) => name !== 'api.log').map((name) => Number(name.slice(8))).sort((a, b) => a - b)
  t.same(numbers, Array.from({ length: BACKUPS }, (_, i) => i + 1), 'exactly api.log.1 … api.log.999')
  t.same(filesIn(logDir, /\.pending\.\d+$/), [], 'no rotation left half done')
  const fresh = numbers.filter((n) => !readFileSync(join(logDir, `api.log.${n}`), 'utf8').includes('old backup'))
  const rotations = fresh.length
  t.ok(rotations > 20, `${rotations} rotations under load`)
  t.same(fresh, Array.from({ length: rotations }, (_, i) => i + 1), 'the new backups are the lowest numbers')
  const shifted = numbers.slice(rotations).map((n) => [n, /old backup (\d+)/.exec(readFileSync(join(logDir, `api.log.${n}`), 'utf8'))?.[1]])
  t.same(shifted, shifted.map(([n]) => [n, String(Number(n) - rotations)]), 'each old backup moved up by the number of rotations, in order')
  t.ok(fresh.every((n) => statSync(join(logDir, `api.log.${n}`)).size <= MAX_BYTES), 'no file past LOG_FILE_MAX_BYTES')
  const lines = fresh.reverse().flatMap((n) => textLines(t, logDir, new RegExp(`^api\\.log\\.${n}$`))).concat(textLines(t, logDir, /^api\.log$/))
  t.equal(lines.length, stats.lines, 'the new files hold every line written')
  const ids = lines.map((line) => / API Response: GET \/r\/\d+ - 200 request_id=(\S+)/.exec(line)?.[1]).filter((id) => id !== undefined)
  t.equal(new Set(ids).size, load.answers.length, 'every request\'s API Response line is there')
  t.equal(ids.length, load.answers.length, 'once')
})
