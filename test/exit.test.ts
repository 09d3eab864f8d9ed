import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { tempDir } from './helpers/app'
import { tinyDisk } from './helpers/disk'
import { runFixture } from './helpers/child'

interface Line { message: string, level: string, logger: string, i?: number, request_id: string | null, [key: string]: unknown }

function jsonLines (logDir: string): Line[] {
  return readdirSync(logDir).filter((name) => name.startsWith('api_structured.jsonl')).flatMap((name) =>
    readFileSync(join(logDir, name), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Line))
}

function textLines (logDir: string): string[] {
  return readdirSync(logDir).filter((name) => /^api\.log(\.\d+)?$/.test(name)).flatMap((name) =>
    readFileSync(join(logDir, name), 'utf8').split('\n').filter(Boolean))
}

/** Asserts the bulk lines 0..count-1 are each in both files exactly once. */
function assertEveryBulkLine (t: Test, logDir: string, count: number): void {
  const seen = new Array<number>(count).fill(0)
  for (const line of jsonLines(logDir)) if (line.message === 'bulk line' && typeof line.i === 'number') seen[line.i]++
  t.equal(seen.filter((n) => n === 1).length, count, `all ${count} queued lines are in the JSON file exactly once`)
  const text = textLines(logDir).filter((line) => / \[bulk:\d+\] bulk line i=\d+$/.test(line))
  t.equal(text.length, count, `and in api.log and its rotations (${text.length})`)
  t.equal(new Set(text.map((line) => / i=(\d+)$/.exec(line)?.[1])).size, count, 'each once')
}

t.test('process.exit() with thousands of queued lines: every line is written', async (t) => {
  const logDir = tempDir(t)
  const result = await runFixture('exit-app.js', ['exit', logDir])
  t.equal(result.code, 3, 'the exit code is the application\'s')
  assertEveryBulkLine(t, logDir, 20000)
})

t.test('an uncaught exception: logged at CRITICAL with its stack, and nothing queued is lost', async (t) => {
  const logDir = tempDir(t)
  const result = await runFixture('exit-app.js', ['throw', logDir])
  t.equal(result.code, 1, 'the process still dies of it')
  t.match(result.stderr, /TypeError: uncaught kaboom/, 'Node still prints the error')
  assertEveryBulkLine(t, logDir, 20000)
  const critical = jsonLines(logDir).filter((line) => line.level === 'CRITICAL')
  t.equal(critical.length, 1)
  t.match(critical[0], { logger: 'api', message: 'Uncaught exception: uncaught kaboom', exception_type: 'TypeError', exception_message: 'uncaught kaboom', origin: 'uncaughtException', request_id: null })
  t.match(critical[0].exception, /^TypeError: uncaught kaboom\n\s+at /)
  t.ok(textLines(logDir).some((line) => / CRITICAL \[api:\d+\] Uncaught exception: uncaught kaboom /.test(line)), 'in api.log too')
})

t.test('an unhandled rejection is logged at CRITICAL before the process dies', async (t) => {
  const logDir = tempDir(t)
  const result = await runFixture('exit-app.js', ['reject', logDir])
  t.equal(result.code, 1)
  assertEveryBulkLine(t, logDir, 20000)
  const critical = jsonLines(logDir).filter((line) => line.level === 'CRITICAL')
  t.match(critical, [{ message: 'Unhandled rejection: unhandled kaboom', exception_type: 'RangeError', origin: 'unhandledRejection' }])
})

t.test('an exception thrown later inside a request carries that request\'s id', async (t) => {
  const logDir = tempDir(t)
  const result = await runFixture('exit-app.js', ['request', logDir], { env: { LINES: '10' } })
  t.equal(result.code, 1)
  const requestId = /^REQUEST (\S+)$/m.exec(result.stdout)?.[1]
  t.ok(requestId, 'the request was answered first')
  const critical = jsonLines(logDir).filter((line) => line.level === 'CRITICAL')
  t.match(critical, [{ message: 'Uncaught exception: crash inside a request', request_id: requestId }])
  t.ok(jsonLines(logDir).some((line) => line.request_id === requestId && line.message === 'API Response: GET /crash - 200'), 'the request\'s own lines are there')
})

t.test('lines logged from an exit handler after the last flush are written at once', async (t) => {
  const logDir = tempDir(t)
  const result = await runFixture('exit-app.js', ['exit-handler', logDir], { env: { LINES: '100' } })
  t.equal(result.code, 0)
  assertEveryBulkLine(t, logDir, 100)
  t.ok(jsonLines(logDir).some((line) => line.message === 'said in an exit handler'))
})

t.test('process.exit() with queued console lines: stdout gets them all', async (t) => {
  const logDir = tempDir(t)
  const result = await runFixture('exit-app.js', ['stdout', logDir], { env: { LINES: '5000' } })
  t.equal(result.code, 3)
  const printed = result.stdout.split('\n').filter((line) => / INFO \[bulk\] bulk line$/.test(line))
  t.equal(printed.length, 5000, 'every console line reached the pipe')
})

t.test('process.exit() on a full disk ends promptly instead of retrying forever', async (t) => {
  const disk = tinyDisk(t, '1m')
  if (disk === null) {
    t.plan(0, 'mounting a tmpfs needs root and mount rights')
    return
  }
  // 20,000 lines of about 250 bytes need 5 MB of a 1 MiB disk: the last flush meets ENOSPC.
  const result = await runFixture('exit-app.js', ['exit', disk], { timeoutMs: 60_000 })
  t.equal(result.signal, null, 'the process was not killed by the test\'s timeout')
  t.equal(result.code, 3, 'it exits with the application\'s code')
})
