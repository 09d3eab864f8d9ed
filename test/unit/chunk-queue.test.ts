import t from 'tap'
import { ChunkQueue } from '../../dist/sinks/chunks.js'

// Unit tests of the queue of encoded lines behind every sink.

const CHUNK = 1024

t.test('lines are copied in as bytes and taken out in order, whole', async (t) => {
  const queue = new ChunkQueue(CHUNK)
  t.equal(queue.isEmpty, true)
  t.equal(queue.append('one\n'), 4)
  t.equal(queue.append('dos – ünïcode\n'), Buffer.byteLength('dos – ünïcode\n'), 'append returns the byte length')
  t.equal(queue.lines, 2)
  t.equal(queue.bytes, 4 + Buffer.byteLength('dos – ünïcode\n'))
  const batch = queue.take(1 << 20)
  t.equal(batch?.data.toString(), 'one\ndos – ünïcode\n')
  t.equal(batch?.lines, 2)
  t.equal(queue.isEmpty, true)
  t.equal(queue.bytes, 0)
  t.equal(queue.take(1 << 20), null, 'nothing left')
})

t.test('a line never straddles two chunks', async (t) => {
  const queue = new ChunkQueue(CHUNK)
  const line = 'x'.repeat(299) + '\n'
  for (let i = 0; i < 10; i++) queue.append(line)
  const sizes: number[] = []
  let batch
  while ((batch = queue.take(CHUNK)) !== null) {
    sizes.push(batch.data.length)
    t.equal(batch.data.length % line.length, 0, 'each write holds whole lines')
    queue.release(batch.pooled)
  }
  t.same(sizes, [900, 900, 900, 300], 'three lines per 1 KiB chunk')
})

t.test('under a backlog one take joins several chunks, up to maxBytes', async (t) => {
  const queue = new ChunkQueue(CHUNK)
  const line = 'y'.repeat(511) + '\n'
  for (let i = 0; i < 8; i++) queue.append(line)
  const first = queue.take(3 * CHUNK)
  t.equal(first?.data.length, 3 * CHUNK, 'three full chunks in one write')
  t.equal(first?.lines, 6)
  t.equal(first?.pooled, null, 'a joined batch is a new buffer, not a pooled one')
  const rest = queue.takeAll()
  t.equal(rest?.lines, 2)
  t.equal(queue.lines, 0)
})

t.test('a line longer than a chunk gets a buffer of its own', async (t) => {
  const queue = new ChunkQueue(CHUNK)
  queue.append('small\n')
  const long = 'L'.repeat(5000) + '\n'
  queue.append(long)
  queue.append('after\n')
  t.equal(queue.takeAll()?.data.toString(), 'small\n' + long + 'after\n')
})

t.test('released chunk buffers are reused', async (t) => {
  const queue = new ChunkQueue(CHUNK)
  queue.append('a'.repeat(1000) + '\n')
  const batch = queue.take(CHUNK)
  t.ok(batch?.pooled, 'a single chunk is handed out as its pooled buffer')
  const buffer = batch?.pooled as Buffer
  queue.release(buffer)
  queue.append('b\n')
  const next = queue.take(CHUNK)
  t.equal(next?.pooled, buffer, 'the next chunk reuses it')
  t.equal(next?.data.toString(), 'b\n')
})

t.test('clear() forgets everything queued', async (t) => {
  const queue = new ChunkQueue(CHUNK)
  queue.append('a\n')
  queue.append('b\n')
  queue.clear()
  t.equal(queue.isEmpty, true)
  t.equal(queue.bytes, 0)
  t.equal(queue.takeAll(), null)
})
