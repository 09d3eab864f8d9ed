/**
 * The `limit` best items seen, in bounded memory: a binary min-heap whose root is the worst item
 * kept. `better(a, b)` is true when `a` should be kept rather than `b`.
 */
export class TopN<T> {
  private readonly heap: T[] = []
  private readonly limit: number
  private readonly better: (a: T, b: T) => boolean

  constructor (limit: number, better: (a: T, b: T) => boolean) {
    this.limit = limit
    this.better = better
  }

  /** Whether `item` would be kept: build it only then. */
  wants (item: T): boolean {
    return this.heap.length < this.limit || this.better(item, this.heap[0])
  }

  add (item: T): void {
    const heap = this.heap
    if (heap.length < this.limit) {
      heap.push(item)
      this.up(heap.length - 1)
    } else if (this.better(item, heap[0])) {
      heap[0] = item
      this.down(0)
    }
  }

  /** The items kept, best first. */
  sorted (): T[] {
    return [...this.heap].sort((a, b) => this.better(a, b) ? -1 : this.better(b, a) ? 1 : 0)
  }

  /** The item that would go first once the heap is full; undefined while it is not. */
  worst (): T | undefined {
    return this.heap.length < this.limit ? undefined : this.heap[0]
  }

  get size (): number {
    return this.heap.length
  }

  private up (i: number): void {
    const heap = this.heap
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.better(heap[parent], heap[i])) break
      ;[heap[parent], heap[i]] = [heap[i], heap[parent]]
      i = parent
    }
  }

  private down (i: number): void {
    const heap = this.heap
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let worst = i
      if (left < heap.length && this.better(heap[worst], heap[left])) worst = left
      if (right < heap.length && this.better(heap[worst], heap[right])) worst = right
      if (worst === i) return
      ;[heap[worst], heap[i]] = [heap[i], heap[worst]]
      i = worst
    }
  }
}
