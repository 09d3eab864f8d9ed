/**
 * Queued log lines, already encoded: each line is copied into a 64 KiB buffer as it is logged.
 * The line's string then dies young (a cheap scavenge) instead of waiting in a queue long enough
 * to be promoted to the old generation, and a chunk is handed to the destination without being
 * joined, encoded or measured again.
 */
interface Chunk {
  buffer: Buffer
  used: number
  lines: number
  tag: number
}

/** Data taken from the queue for one write. */
export interface Batch {
  readonly data: Buffer
  readonly lines: number
  /** The pooled buffer behind `data`, given back once the write is done. */
  readonly pooled: Buffer | null
  /** The period (UTC day) of every line in `data`: a daily file rotates between two tags. */
  readonly tag: number
}

const POOL_SIZE = 8

export class ChunkQueue {
  /** Queued bytes. */
  bytes = 0
  /** Queued lines. */
  lines = 0
  private readonly chunkBytes: number
  private sealed: Chunk[] = []
  private head = 0
  private open: Chunk | null = null
  private readonly pool: Buffer[] = []
  private tag = 0

  constructor (chunkBytes: number) {
    this.chunkBytes = chunkBytes
  }

  get isEmpty (): boolean {
    return this.lines === 0
  }

  /**
   * Lines appended from now on belong to period `tag`: they start a new chunk, so no write mixes
   * two periods.
   */
  mark (tag: number): void {
    if (tag === this.tag) return
    this.tag = tag
    const open = this.open
    if (open === null) return
    if (open.used > 0) this.seal(open)
    else open.tag = tag
  }

  /** Copies `line` in (or `lines` whole lines at once); returns its size in bytes. */
  append (line: string, lines = 1): number {
    let open = this.open
    // UTF-8 takes at most 3 bytes per UTF-16 unit: most lines fit without being measured first.
    if (open === null || open.buffer.length - open.used < line.length * 3) {
      const size = Buffer.byteLength(line)
      if (open === null || open.buffer.length - open.used < size) {
        if (open !== null && open.used > 0) this.seal(open)
        else if (open !== null) this.release(open.buffer)
        open = this.newChunk(size)
      }
    }
    const written = open.buffer.write(line, open.used)
    open.used += written
    open.lines += lines
    this.bytes += written
    this.lines += lines
    return written
  }

  /**
   * Takes the oldest queued data for one write: at least one chunk, and under a backlog as many
   * as fit in `maxBytes`, so a busy sink writes more per turn of the event loop instead of
   * falling behind one chunk at a time.
   */
  take (maxBytes: number): Batch | null {
    if (this.open !== null && this.open.used > 0) this.seal(this.open)
    if (this.head === this.sealed.length) return null
    const first = this.sealed[this.head]
    let end = this.head + 1
    let size = first.used
    while (end < this.sealed.length && this.sealed[end].tag === first.tag && size + this.sealed[end].used <= maxBytes) size += this.sealed[end++].used
    let batch: Batch
    if (end === this.head + 1) {
      batch = { data: first.buffer.subarray(0, first.used), lines: first.lines, pooled: first.buffer, tag: first.tag }
    } else {
      const parts: Buffer[] = []
      let lines = 0
      for (let i = this.head; i < end; i++) {
        const chunk = this.sealed[i]
        parts.push(chunk.buffer.subarray(0, chunk.used))
        lines += chunk.lines
      }
      batch = { data: Buffer.concat(parts, size), lines, pooled: null, tag: first.tag }
      for (let i = this.head; i < end; i++) this.release(this.sealed[i].buffer)
    }
    this.head = end
    if (this.head === this.sealed.length) {
      this.sealed = []
      this.head = 0
    }
    this.bytes -= batch.data.length
    this.lines -= batch.lines
    return batch
  }

  /** Takes everything queued of the oldest period as one buffer (for the last, synchronous writes). */
  takeAll (): Batch | null {
    return this.take(Infinity)
  }

  /** Gives a buffer back for reuse once nothing refers to it any more. */
  release (buffer: Buffer | null): void {
    if (buffer !== null && buffer.length === this.chunkBytes && this.pool.length < POOL_SIZE) this.pool.push(buffer)
  }

  clear (): void {
    this.sealed = []
    this.head = 0
    this.open = null
    this.bytes = 0
    this.lines = 0
  }

  private seal (chunk: Chunk): void {
    this.sealed.push(chunk)
    this.open = null
  }

  private newChunk (size: number): Chunk {
    const buffer = size <= this.chunkBytes ? (this.pool.pop() ?? Buffer.allocUnsafe(this.chunkBytes)) : Buffer.allocUnsafe(size)
    this.open = { buffer, used: 0, lines: 0, tag: this.tag }
    return this.open
  }
}
