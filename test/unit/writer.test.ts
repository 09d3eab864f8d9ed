import t from 'tap'
import type { Destination, WriteCallback } from '../../dist/sinks/destination.js'
import { BufferedSink, CLOSE_DEADLINE_MS, type FaultReport } from '../../dist/sinks/writer.js'

// Unit tests of a sink's accounting, with a destination that answers as it is told: each line
// is counted once, as written or as dropped.

type Answer = { err: string | null, written: number | 'all' } | 'hang'

class ScriptedDestination implements Destination {
  readonly description = 'scripted'
  readonly reopens = 0
  readonly landed: string[] = []
  answers: Answer[] = []
  hung: { chunk: Buffer, callback: WriteCallback } | null = null
  syncWritten = ''

  write (chunk: Buffer, _tag: number, callback: WriteCallback): void {
    const answer = this.answers.shift() ?? { err: null, written: 'all' }
    if (answer === 'hang') {
      this.hung = { chunk, callback }
      return
    }
    const written = answer.written === 'all' ? chunk.length : answer.written
    this.landed.push(chunk.subarray(0, written).toString())
    const err = answer.err === null ? null : Object.assign(new Error(answer.err), { code: answer.err })
    setImmediate(() => callback(err, written))
  }

  writeSync (chunk: Buffer): number {
    this.syncWritten += chunk.toString()
    return chunk.length
  }

  reopen (): Promise<void> {
    return Promise.resolve()
  }

  end (): Promise<void> {
    return Promise.resolve()
  }
}

function sink (destination: Destination, maxBufferBytes = 1 << 20): { sink: BufferedSink, failed: string[], recovered: FaultReport[] } {
  const failed: string[] = []
  const recovered: FaultReport[] = []
  const notices = { dropped: (n: number) => `dropped ${n}\n`, failed: (err: Error) => { failed.push((err as NodeJS.ErrnoException).code ?? '') }, recovered: (report: FaultReport) => { recovered.push(report) } }
  return { sink: new BufferedSink('test', destination, { maxBufferBytes, now: Date.now, notices }), failed, recovered }
}

t.test('a write that lands partly counts the whole lines that landed and retries the rest', async (t) => {
  const destination = new ScriptedDestination()
  // Two whole lines land, then the disk fails; then the rest goes through.
  destination.answers = [{ err: 'ENOSPC', written: 8 }, { err: 'ENOSPC', written: 0 }]
  const { sink: s, failed, recovered } = sink(destination)
  for (const text of ['aaa\n', 'bbb\n', 'ccc\n', 'ddd\n']) s.write(text)
  await s.flush()
  t.same(destination.landed.join(''), 'aaa\nbbb\nccc\nddd\n', 'every line once, in order')
  t.same(s.stats(), { enabled: true, lines: 4, bytes: 16, dropped: 0, pending: 0, pendingBytes: 0, errors: 2, failing: false, reopens: 0 })
  t.same(failed, ['ENOSPC'], 'one failure notice for the whole fault')
  t.same(recovered.map((report) => [report.code, report.lost]), [['ENOSPC', 0]], 'one recovery notice, nothing lost')
})

t.test('close() gives up on a write that hangs, and a late landing moves its lines from dropped to written', async (t) => {
  const destination = new ScriptedDestination()
  destination.answers = ['hang']
  const { sink: s } = sink(destination)
  s.write('one\n')
  s.write('two\n')
  await new Promise((resolve) => setImmediate(resolve))
  const start = Date.now()
  await s.close()
  const took = Date.now() - start
  t.ok(took >= CLOSE_DEADLINE_MS - 50 && took < CLOSE_DEADLINE_MS + 1500, `close() ended after ${took} ms`)
  t.same([s.stats().lines, s.stats().dropped, s.stats().pending], [0, 2, 0], 'counted as dropped')
  t.equal(s.write('late\n'), false, 'a line after close is dropped')
  const hung = destination.hung
  hung?.callback(null, hung.chunk.length)
  t.same([s.stats().lines, s.stats().dropped], [2, 1], 'the write landed after all: written, not dropped')
})

t.test('lines from a cluster worker: whole chunks, dropped as a whole when the queue is full, written at once while exiting', async (t) => {
  const destination = new ScriptedDestination()
  const { sink: s } = sink(destination, 65536)
  t.equal(s.writeLines('a\nb\n', 2, 0), true)
  t.equal(s.writeLines('x'.repeat(70000), 3, 0), false, 'past the limit')
  await s.flush()
  t.same([s.stats().lines, s.stats().dropped], [2, 3])
  s.flushSync()
  t.equal(s.writeLines('c\nd\n', 2, 0), true)
  t.equal(destination.syncWritten, 'dropped 3\nc\nd\n', 'the drop notice, then the lines, synchronously')
  t.same([s.stats().lines, s.stats().dropped, s.stats().pending], [5, 3, 0])
})
