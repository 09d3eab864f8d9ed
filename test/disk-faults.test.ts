import { unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { getLogger } from '../dist/index.js'
import { buildApp, readJsonLines, readTextLines } from './helpers/app'
import { tinyDisk } from './helpers/disk'

/** Fills the disk with one file; returns its path. */
function fill (disk: string): string {
  const filler = join(disk, 'filler')
  try {
    writeFileSync(filler, Buffer.alloc(4 * 1024 * 1024))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
  }
  return filler
}

t.test('a full disk: requests still answered, the write retried, nothing lost once space returns', async (t) => {
  const disk = tinyDisk(t, '2m')
  if (disk === null) {
    t.plan(0, 'mounting a tmpfs needs root and mount rights')
    return
  }
  const warnings: string[] = []
  const onWarning = (warning: Error & { code?: string }): void => { if (warning.code === 'FST_API_LOGGING_WRITE_FAILED') warnings.push(warning.message) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })

  const { app, logDir } = await buildApp(t, { logDir: join(disk, 'logs') })
  app.get('/tasks/:n', async () => 'ok')
  const filler = fill(disk)

  const log = getLogger('faults')
  for (let n = 0; n < 50; n++) {
    const res = await app.inject(`/tasks/${n}`)
    t.equal(res.statusCode, 200, `request ${n} answered on a full disk`)
    log.info({ n }, 'while full')
  }
  for (let i = 0; i < 200 && app.apiLogging.stats().json.errors === 0; i++) await sleep(10)
  const during = app.apiLogging.stats()
  t.ok(during.json.errors > 0 && during.file.errors > 0, 'the write failures are counted')
  t.ok(during.json.pending > 0, 'the lines are held, not thrown away')
  t.ok(warnings.some((message) => message.includes('ENOSPC')), 'a process warning names the error')

  unlinkSync(filler)
  // The retry timer is unref'd (a server's sockets keep the process up): poll, keeping this one alive.
  for (let i = 0; i < 500 && app.apiLogging.stats().json.pending + app.apiLogging.stats().file.pending > 0; i++) await sleep(20)
  const after = app.apiLogging.stats()
  t.equal(after.json.pending, 0, 'written once space returned')
  t.equal(after.json.dropped, 0)
  await app.close()

  const records = readJsonLines(logDir)
  const ns = new Set(records.filter((r) => r.message === 'while full').map((r) => r.n))
  t.equal(ns.size, 50, 'every line logged while the disk was full is in the JSON file')
  const responses = new Set(records.filter((r) => r.message.startsWith('API Response: GET /tasks/')).map((r) => r.path))
  t.equal(responses.size, 50, 'and every request\'s completion line')
  t.equal(readTextLines(logDir).filter((line) => line.includes('] while full ')).length >= 50, true, 'and in api.log')
})

t.test('close() on a disk that stays full ends, counting what it could not write', async (t) => {
  const disk = tinyDisk(t, '2m')
  if (disk === null) {
    t.plan(0, 'mounting a tmpfs needs root and mount rights')
    return
  }
  const onWarning = (): void => {}
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const { app } = await buildApp(t, { logDir: join(disk, 'logs') })
  fill(disk)
  const log = getLogger('faults')
  for (let n = 0; n < 100; n++) log.info({ n, pad: 'x'.repeat(100) }, 'never written')
  await app.close()
  const stats = app.apiLogging.stats()
  t.equal(stats.json.pending, 0, 'nothing is left pending')
  t.ok(stats.json.dropped >= 100, `what could not be written is counted as dropped (${stats.json.dropped})`)
})
