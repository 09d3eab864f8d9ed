import { WARNING } from './levels'
import type { LogRecord } from './record'
import type { LogTarget } from './registry'

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193
const TWO_32 = 4294967296

/**
 * Whether a request whose lines are sampled at `rate` is logged: a hash of its id (FNV-1a) read
 * as a fraction of 2^32. The same id always gets the same answer, in every process, so a
 * request id passed between services is kept or dropped by all of them alike.
 */
export function sampledIn (id: string, rate: number): boolean {
  if (rate >= 1) return true
  if (rate <= 0) return false
  let hash = FNV_OFFSET
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), FNV_PRIME)
  return (hash >>> 0) / TWO_32 < rate
}

// A request that logs this many lines is kept rather than held: its lines are written as they
// come, so a chatty request does not hold an unbounded amount of memory.
const MAX_HELD = 256

/**
 * The target of a request that sampling would drop. Its lines are held until the request's
 * outcome is known: a line at WARNING or above (an error status, a slow request, an
 * application warning) or too many lines keep the whole request, held lines first; a request
 * that ends without one is dropped whole (`settle`). So a request is in the logs with all its
 * lines or not at all.
 */
export class HeldRequest implements LogTarget {
  readonly registration: LogTarget
  readonly #target: LogTarget
  #held: LogRecord[] | null = []
  #dropped = false

  constructor (target: LogTarget) {
    this.#target = target
    this.registration = target.registration ?? target
  }

  get redactor (): LogTarget['redactor'] { return this.#target.redactor }
  get minLevel (): number { return this.#target.minLevel }
  get maxRecordBytes (): number { return this.#target.maxRecordBytes }
  now (): number { return this.#target.now() }

  emit (record: LogRecord): void {
    const held = this.#held
    if (held === null) {
      // Kept: written as they come. Dropped: only the lines that are always written.
      if (!this.#dropped || record.level >= WARNING) this.#target.emit(record)
      return
    }
    if (record.level < WARNING && held.length < MAX_HELD) {
      held.push(record)
      return
    }
    this.#held = null
    for (const line of held) this.#target.emit(line)
    this.#target.emit(record)
  }

  /** The request is over: returns true when it was dropped (nothing forced it in). */
  settle (): boolean {
    if (this.#held === null) return false
    this.#held = null
    this.#dropped = true
    return true
  }
}
