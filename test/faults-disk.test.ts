import { chmodSync, chownSync, closeSync, ftruncateSync, fstatSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { WARN_FILE_REOPENED, WARN_WRITE_FAILED, WARN_WRITE_RECOVERED, type ApiLoggingOptions, type ApiLoggingStats } from '../dist/index.js'
import { buildApp, tempDir, type JsonRecord } from './helpers/app'
import { tinyDisk } from './helpers/disk'
import { JSON_FILES, Load, TEXT_FILES, bytesIn, can, captureWarnings, filesIn, isRoot, jsonLines, sh, startServer, textLines, timeUntil } from './helpers/faults'

// Real faults on real filesystems (a tiny tmpfs, a read-only mount), the server on a real
// socket under load. Each test checks: every request answered; every line of every file whole
// and parsed; lines written + dropped = lines produced, and written = lines on disk; recovery
// and close() within their bounds.

const RECOVERY_BOUND_MS = 1000
const CLOSE_BOUND_MS = 5000

/** Fills the disk to the last byte with one file, then frees `leave` bytes of it; returns its path. */
function fill (disk: string, leave: number): string {
  const path = join(disk, 'filler')
  const fd = openSync(path, 'w')
  const block = Buffer.alloc(64 * 1024, 120)
  try {
    for (;;) writeSync(fd, block)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
  }
  // What fits of a 64 KiB block after that is written, then the write fails: the torn case.
  ftruncateSync(fd, Math.max(fstatSync(fd).size - leave, 0))
  closeSync(fd)
  return path
}

async function serve (app: FastifyInstance): Promise<number> {
  app.get('/r/:n', async () => ({ ok: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as AddressInfo).port
}

const isRequestLine = (message: string): boolean => /^API (Request|Response): GET \/r\/\d+/.test(message)
const textMessage = (line: string): string => line.replace(/^\[[^\]]+\] \S+ \[[^\]]+\] /, '')

type Warning = ReturnType<typeof captureWarnings>[number]

interface SinkCheck {
  /** Requests answered: each wrote its arrival and completion line to each sink. */
  requests: number
  /** The warnings of the test (WARN_WRITE_FAILED, WARN_WRITE_RECOVERED, WARN_FILE_REOPENED captured). */
  warnings: Warning[]
}

const isDropReport = (message: string): boolean => message.startsWith('Log lines dropped: ')

/**
 * The plugin's own lines a sink was given, counted from the warnings that go with them (whether or
 * not they reached the disk): the other sinks' failure reports, every sink's recovery report and
 * every reopen report; plus its own dropped-lines reports, which have no warning (counted on disk).
 */
function noticesFor (sink: 'json' | 'file', warnings: Warning[], dropReportsOnDisk: number): number {
  const reports = warnings.filter((warning) => warning.code === WARN_WRITE_FAILED
    ? !warning.message.startsWith(`${sink} sink `)
    : warning.code === WARN_WRITE_RECOVERED || warning.code === WARN_FILE_REOPENED)
  return reports.length + dropReportsOnDisk
}

/** The accounting of both file sinks against the files; returns the JSON records. */
function checkAccounting (t: Test, app: FastifyInstance, logDir: string, { requests, warnings }: SinkCheck): { json: JsonRecord[], text: string[] } {
  const stats = app.apiLogging.stats()
  const json = jsonLines(t, logDir)
  const text = textLines(t, logDir)
  const jsonGiven = 2 * requests + noticesFor('json', warnings, json.filter((record) => isDropReport(record.message)).length)
  const textGiven = 2 * requests + noticesFor('file', warnings, text.filter((line) => isDropReport(textMessage(line))).length)
  t.equal(stats.json.lines, json.length, `json: lines written (${stats.json.lines}) = lines on disk`)
  t.equal(stats.json.bytes, bytesIn(logDir, JSON_FILES), 'json: bytes written = bytes on disk')
  t.equal(stats.json.lines + stats.json.dropped, jsonGiven, `json: written + dropped (${stats.json.dropped}) = lines given (${requests} requests, ${jsonGiven - 2 * requests} notices)`)
  t.equal(stats.file.lines, text.length, `file: lines written (${stats.file.lines}) = lines on disk`)
  t.equal(stats.file.bytes, bytesIn(logDir, TEXT_FILES), 'file: bytes written = bytes on disk')
  t.equal(stats.file.lines + stats.file.dropped, textGiven, `file: written + dropped (${stats.file.dropped}) = lines given (${requests} requests, ${textGiven - 2 * requests} notices)`)
  t.equal(stats.json.pending + stats.file.pending, 0, 'nothing pending after close')
  t.ok(json.filter((record) => !isRequestLine(record.message)).every((record) => record.request_id == null), 'every other line on disk is one of the plugin\'s notices (no request id)')
  if (stats.json.lines + stats.json.dropped !== jsonGiven || stats.file.lines + stats.file.dropped !== textGiven) {
    t.comment(JSON.stringify({ stats: { json: stats.json, file: stats.file }, warnings, notices: json.filter((record) => !isRequestLine(record.message)).map((record) => record.message) }))
  }
  return { json, text }
}

interface DiskServer {
  disk: string
  logDir: string
  app: FastifyInstance
  port: number
  warnings: Warning[]
}

/**
 * A server logging into a tmpfs of `size` (null, after planning no assertion, where tmpfs cannot be
 * mounted), with the warnings its sinks give captured.
 */
async function diskServer (t: Test, size: string, options: ApiLoggingOptions = {}): Promise<DiskServer | null> {
  const disk = isRoot() ? tinyDisk(t, size) : null
  if (disk === null) {
    t.plan(0, 'mounting a tmpfs needs root and mount rights')
    return null
  }
  const warnings = captureWarnings(t, WARN_WRITE_FAILED, WARN_WRITE_RECOVERED, WARN_FILE_REOPENED)
  const logDir = join(disk, 'logs')
  const { app } = await buildApp(t, { logDir, ...options })
  return { disk, logDir, app, port: await serve(app), warnings }
}

t.test('ENOSPC under load: requests answered, torn writes cut back, lines held then dropped and counted, recovery within 1 s', async (t) => {
  const server = await diskServer(t, '4m', { maxBufferBytes: 65536, logFileMaxBytes: 131072, logFileBackupCount: 20 })
  if (server === null) return
  const { disk, logDir, app, port, warnings } = server
  const load = new Load(port, { connections: 8, pauseMs: 2 })
  await sleep(300)
  const answeredBefore = load.answers.length

  const filler = fill(disk, 12 * 1024)
  const failedAfter = await timeUntil(() => app.apiLogging.stats().json.failing && app.apiLogging.stats().file.failing, 3000)
  t.ok(failedAfter < 3000, `both file sinks fail on the full disk (after ${failedAfter.toFixed(0)} ms)`)
  await sleep(700)
  const during = app.apiLogging.stats()
  t.ok(during.json.dropped > 0 && during.file.dropped > 0, `past LOG_MAX_BUFFER_BYTES lines are dropped (json ${during.json.dropped}, file ${during.file.dropped})`)
  t.ok(during.json.pendingBytes <= 65536 && during.file.pendingBytes <= 65536, 'and memory stays within the limit')

  unlinkSync(filler)
  const recovery = await timeUntil(() => !app.apiLogging.stats().json.failing && !app.apiLogging.stats().file.failing, 5000)
  t.ok(recovery <= RECOVERY_BOUND_MS, `both sinks write again ${recovery.toFixed(0)} ms after space returned`)
  // Writing again, a sink still works off its full backlog, and lines given meanwhile may still be
  // refused (counted in its recovery report). Once both have caught up and said so, none is.
  const caughtUp = await timeUntil(() => warnings.filter((warning) => warning.code === WARN_WRITE_RECOVERED).length >= 2, 5000)
  t.ok(caughtUp < 5000, `both sinks caught up with their backlog ${caughtUp.toFixed(0)} ms later`)
  const recoveredAt = performance.now()
  await sleep(300)
  await load.stop()
  const closeStart = performance.now()
  await app.close()
  const closeMs = performance.now() - closeStart
  t.ok(closeMs < CLOSE_BOUND_MS, `close() took ${closeMs.toFixed(0)} ms`)

  t.equal(load.failures, 0, 'every request got an answer')
  t.ok(load.answers.every((answer) => answer.status === 200), `all ${load.answers.length} answers are 200`)
  const { json, text } = checkAccounting(t, app, logDir, { requests: load.answers.length, warnings })

  const responses = new Set(json.filter((record) => record.message.startsWith('API Response')).map((record) => record.request_id))
  const textResponses = new Set(text.map((line) => / API Response: GET \/r\/\d+ - 200 request_id=(\S+)/.exec(line)?.[1]))
  const early = load.answers.slice(0, answeredBefore)
  t.same(early.filter((answer) => !responses.has(answer.id) || !textResponses.has(answer.id)), [], `the ${early.length} requests answered before the fault are all in both files`)
  const late = load.answers.filter((answer) => answer.at > recoveredAt + 50)
  t.ok(late.length > 0, `${late.length} requests answered after both sinks caught up`)
  t.same(late.filter((answer) => !responses.has(answer.id) || !textResponses.has(answer.id)), [], 'and all of them are in both files')

  const stats = app.apiLogging.stats()
  const recovered = json.filter((record) => record.level === 'WARNING' && /^Log writes to .* work again: \d+ lines lost from /.test(record.message))
  t.same(recovered.map((record) => [record.sink, record.dropped_lines, record.error_code]).sort(),
    [['file', stats.file.dropped, 'ENOSPC'], ['json', stats.json.dropped, 'ENOSPC']], 'one recovery WARNING per sink, with the lines lost and the error')
  t.ok(recovered.every((record) => typeof record.fault_start === 'string' && typeof record.fault_end === 'string'), 'and the time span')
  t.ok(json.some((record) => record.level === 'ERROR' && record.sink === 'file' && String(record.message).includes('api.log fail: ENOSPC')), 'the text sink\'s fault is reported in the JSON file')
  t.ok(text.some((line) => / ERROR \[api:\d+\] Log writes to \S+api_structured\.jsonl fail: ENOSPC/.test(line)), 'and the JSON sink\'s in api.log')
  t.same(warnings.map((warning) => warning.code).sort(), [WARN_WRITE_FAILED, WARN_WRITE_FAILED, WARN_WRITE_RECOVERED, WARN_WRITE_RECOVERED], 'on stderr: one failure and one recovery per sink, not one per retry')
  t.ok(stats.json.errors >= 1 && stats.file.errors >= 1, `errors counted (json ${stats.json.errors}, file ${stats.file.errors})`)
  t.ok(filesIn(logDir, TEXT_FILES).length > 1, 'api.log rotated meanwhile')
})

t.test('close() on a disk that fills and stays full ends within its bound, counting what it could not write', async (t) => {
  const server = await diskServer(t, '1m')
  if (server === null) return
  const { disk, logDir, app, port, warnings } = server
  // One page left: the first lines land, then the disk is full for good. A sink's report of the
  // other's failure may land in that page too, and is counted once either way.
  fill(disk, 4096)
  const load = new Load(port, { connections: 4, pauseMs: 2 })
  await sleep(300)
  await load.stop()
  const closeStart = performance.now()
  await app.close()
  const closeMs = performance.now() - closeStart
  t.ok(closeMs < CLOSE_BOUND_MS, `close() took ${closeMs.toFixed(0)} ms`)
  t.equal(load.failures, 0, 'every request got an answer')
  t.ok(load.answers.length > 0 && load.answers.every((answer) => answer.status === 200), `all ${load.answers.length} answers are 200`)
  checkAccounting(t, app, logDir, { requests: load.answers.length, warnings })
  const { json, file } = app.apiLogging.stats()
  t.ok(json.lines + file.lines > 0, `the first lines landed (json ${json.lines}, file ${file.lines})`)
  t.ok(json.dropped > 0 && file.dropped > 0, 'the lines they could not write are counted as dropped')
})

t.test('a full disk that frees up during close(): every line written, and each sink\'s recovery line in both files', async (t) => {
  const server = await diskServer(t, '4m', { maxBufferBytes: 2 * 1024 * 1024 })
  if (server === null) return
  const { disk, logDir, app, port, warnings } = server
  const filler = fill(disk, 0)
  const load = new Load(port, { connections: 4, pauseMs: 2 })
  await load.runUntil(() => app.apiLogging.stats().json.failing && app.apiLogging.stats().file.failing && load.answers.length >= 200, 300)
  await load.stop()
  unlinkSync(filler)
  // The backlogs are written by close(); the sink that catches up first must still take the
  // other's recovery report.
  await app.close()
  t.equal(load.failures, 0, 'every request got an answer')
  const { json, text } = checkAccounting(t, app, logDir, { requests: load.answers.length, warnings })
  const stats = app.apiLogging.stats()
  t.same([stats.json.dropped, stats.file.dropped], [0, 0], 'nothing dropped: the backlogs fit in memory and were written at close')
  t.same(json.filter((record) => /work again/.test(record.message)).map((record) => record.sink).sort(), ['file', 'json'], 'both recovery lines in the JSON file')
  t.equal(text.filter((line) => / WARNING \[api:\d+\] Log writes to \S+ work again/.test(line)).length, 2, 'and in api.log')
})

t.test('EROFS: the folder mounted read-only under a running server, then writable again', async (t) => {
  const server = await diskServer(t, '4m', { maxBufferBytes: 65536 })
  if (server === null) return
  const { logDir, app, port, warnings } = server
  const load = new Load(port, { connections: 8, pauseMs: 2 })
  await sleep(300)
  // Linux refuses to remount a filesystem read-only while a file is open for writing on it, so a
  // read-only filesystem is met at open, create and rename: an empty read-only mount over the
  // folder hides the files, the plugin's check sees them gone, and every reopen meets EROFS.
  sh('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', logDir])
  let mounted = true
  t.teardown(() => { if (mounted) sh('umount', ['-l', logDir]) })
  const failedAfter = await timeUntil(() => app.apiLogging.stats().json.failing && app.apiLogging.stats().file.failing, 3000)
  t.ok(failedAfter < 3000, `both sinks fail once the folder is read-only (after ${failedAfter.toFixed(0)} ms)`)
  await sleep(500)
  sh('umount', [logDir])
  mounted = false
  const recovery = await timeUntil(() => !app.apiLogging.stats().json.failing && !app.apiLogging.stats().file.failing, 5000)
  t.ok(recovery <= RECOVERY_BOUND_MS, `both sinks write again ${recovery.toFixed(0)} ms after the folder is writable again`)
  await sleep(200)
  await load.stop()
  const closeStart = performance.now()
  await app.close()
  t.ok(performance.now() - closeStart < CLOSE_BOUND_MS, 'close() within its bound')
  t.equal(load.failures, 0, 'every request got an answer')
  t.ok(load.answers.every((answer) => answer.status === 200), `all ${load.answers.length} answers are 200`)
  const { json } = checkAccounting(t, app, logDir, { requests: load.answers.length, warnings })
  t.ok(json.some((record) => record.error_code === 'EROFS' && /work again/.test(record.message)), 'the recovery line names EROFS')
  t.ok(warnings.filter((warning) => warning.code === WARN_WRITE_FAILED).length === 2, 'one failure warning per sink')
})

t.test('EACCES: permission lost at reopen and at rotation, as a non-root server; the console sink is unaffected', async (t) => {
  if (!isRoot() || !can('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true'])) {
    t.plan(0, 'needs root and setpriv to run the server as another user (chmod does not stop root)')
    return
  }
  const dir = tempDir(t)
  chmodSync(dir, 0o755)
  const logDir = join(dir, 'logs')
  mkdirSync(logDir)
  chownSync(logDir, 65534, 65534)
  const server = await startServer(t, {
    LOG_DIR: logDir, LOG_MAX_BUFFER_BYTES: '65536', LOG_FILE_MAX_BYTES: '32768', LOG_FILE_BACKUP_COUNT: '200', ENABLE_CONSOLE_LOGGING: 'true'
  }, { asNobody: true })
  let stdout = ''
  server.child.stdout?.on('data', (data: string) => { stdout += data })
  const load = new Load(server.port, { connections: 8, pauseMs: 2 })
  await sleep(300)

  // The folder becomes root's: the open files still take writes, but no file can be created or
  // renamed there. api.log fails at its next rotation (a rename); the JSON file, moved away, at
  // its reopen (a create).
  chownSync(logDir, 0, 0)
  renameSync(join(logDir, 'api_structured.jsonl'), join(logDir, 'moved.api_structured.jsonl'))
  await sleep(700)
  const during = await server.ask<{ stats: ApiLoggingStats }>('stats')
  t.ok(during.stats.json.failing && during.stats.file.failing, 'both file sinks fail with the permission gone')
  t.equal(during.stats.console.errors, 0, 'the console sink is unaffected')
  chownSync(logDir, 65534, 65534)
  const freed = performance.now()
  let recovered = Infinity
  while (performance.now() - freed < 5000) {
    const now = await server.ask<{ stats: ApiLoggingStats }>('stats')
    if (!now.stats.json.failing && !now.stats.file.failing) {
      recovered = performance.now() - freed
      break
    }
    await sleep(10)
  }
  t.ok(recovered <= RECOVERY_BOUND_MS, `both sinks write again ${recovered.toFixed(0)} ms after the permission returned`)
  await sleep(200)
  await load.stop()
  const closed = await server.ask<{ stats: ApiLoggingStats, closeMs: number }>('close')
  t.ok(closed.closeMs < CLOSE_BOUND_MS, `close() took ${closed.closeMs.toFixed(0)} ms`)
  await server.exited

  t.equal(load.failures, 0, 'every request got an answer')
  t.ok(load.answers.every((answer) => answer.status === 200), `all ${load.answers.length} answers are 200`)
  const produced = 2 * load.answers.length
  const json = jsonLines(t, logDir, /^(moved\.)?api_structured\.jsonl$/)
  const text = textLines(t, logDir)
  const { json: jsonStats, file: fileStats, console: consoleStats } = closed.stats
  t.equal(jsonStats.lines, json.length, 'json: lines written = lines on disk (the moved file included)')
  t.equal(jsonStats.lines + jsonStats.dropped, produced + json.filter((record) => !isRequestLine(record.message)).length, 'json: written + dropped = produced')
  t.equal(fileStats.lines, text.length, 'file: lines written = lines on disk')
  t.equal(fileStats.lines + fileStats.dropped, produced + text.filter((line) => !isRequestLine(textMessage(line))).length, 'file: written + dropped = produced')
  t.same(json.filter((record) => /work again/.test(record.message)).map((record) => [record.sink, record.error_code]).sort(), [['file', 'EACCES'], ['json', 'EACCES']], 'each sink\'s recovery line names EACCES')
  t.ok(filesIn(logDir, TEXT_FILES).every((name) => statSync(join(logDir, name)).size <= 32768), 'no api.log file is past LOG_FILE_MAX_BYTES')
  const consoleLines = stdout.split('\n').filter((line) => line !== '' && !line.startsWith('LISTENING '))
  t.same([consoleStats.errors, consoleStats.dropped, consoleStats.failing], [0, 0, false], 'the console sink never failed')
  t.equal(consoleStats.lines, consoleLines.length, 'and printed every line it counted')
  t.equal(consoleLines.filter((line) => / \[api\] API (Request|Response): GET \/r\/\d+/.test(line)).length, produced, 'every request line is on the console')
  t.ok(consoleLines.some((line) => / ERROR \[api\] Log writes to \S+api\.log fail: EACCES/.test(line)), 'the fault is reported on the console')
})
