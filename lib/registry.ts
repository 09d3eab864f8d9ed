import { formatConsoleLine } from './format/text'
import { TRACE } from './levels'
import { defaultRedactor, type Redactor } from './redact'
import type { LogRecord } from './record'

/** Where a line can go: an open plugin instance, or stderr when none is open. */
export interface LogTarget {
  /** The redaction rules for lines of this target. */
  readonly redactor: Redactor
  /** Lowest level written. */
  readonly minLevel: number
  /** Longest record before its largest fields are shortened. */
  readonly maxRecordBytes: number
  /** The clock of record timestamps (epoch ms). */
  now (): number
  /** Writes one record (already redacted and capped). */
  emit (record: LogRecord): void
  /**
   * The registration this target writes for, when it is a view of one (a route's overrides, a
   * sampled request): loggers bound to that registration follow the view inside its requests.
   */
  readonly registration?: LogTarget
}

/** An open plugin instance, as the process-wide hooks see it. */
export interface OpenInstance extends LogTarget {
  /** The signal that reopens this instance's files, or 'off'; whether SIGUSR2 switches its level. */
  readonly config: { readonly reopenSignal: string, readonly levelSignal: boolean }
  /** The lowest level any of its lines may have: its own, or a route's `level` below it. */
  readonly lowestLevel: number
  /** SIGUSR2 with LOG_LEVEL_SIGNAL: from the configured level to DEBUG and back. */
  toggleDebugLevel (): void
  /** Writes everything held, synchronously (the process is exiting). */
  flushSync (): void
  /** Reopens the files at their paths. */
  reopen (): Promise<void>
}

const DEFAULT_MAX_RECORD_BYTES = 16384

/** Lines logged while no plugin instance is open: stderr, in the console layout, default rules. */
export const STDERR_TARGET: LogTarget = Object.freeze({
  redactor: defaultRedactor,
  // Without an instance, the logger's own (pino) level decides alone.
  minLevel: TRACE,
  maxRecordBytes: DEFAULT_MAX_RECORD_BYTES,
  now: Date.now,
  emit (record: LogRecord): void {
    try {
      process.stderr.write(formatConsoleLine(record, false))
    } catch {
      // stderr closed: there is nowhere left to report to.
    }
  }
})

// The one process-wide registry: every registration that is open, oldest first. The newest one
// receives lines logged outside any request; the exit hooks reach all of them.
const open: OpenInstance[] = []
// Closing: still flushed at exit, no longer the target of lines from outside any request.
const retired = new Set<OpenInstance>()
const listeners: Array<(instances: readonly OpenInstance[]) => void> = []

export function addInstance (instance: OpenInstance): void {
  open.push(instance)
  changed()
}

/** The instance is closing: lines from outside any request go to an older one (or stderr). */
export function retireInstance (instance: OpenInstance): void {
  if (open.includes(instance)) retired.add(instance)
}

export function removeInstance (instance: OpenInstance): void {
  retired.delete(instance)
  const index = open.lastIndexOf(instance)
  if (index === -1) return
  open.splice(index, 1)
  changed()
}

/** The newest open instance that is not closing, or stderr. */
export function activeTarget (): LogTarget {
  for (let i = open.length - 1; i >= 0; i--) if (!retired.has(open[i])) return open[i]
  return STDERR_TARGET
}

/** Every open instance, oldest first. */
export function openInstances (): readonly OpenInstance[] {
  return open
}

/** An open instance changed its level: the listeners see the list again. */
export function instanceLevelChanged (): void {
  changed()
}

/** Calls `listener` after every change of the open instances (and of their levels). */
export function onInstancesChanged (listener: (instances: readonly OpenInstance[]) => void): void {
  listeners.push(listener)
}

function changed (): void {
  for (const listener of listeners) listener(open)
}
