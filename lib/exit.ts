import { requestStorage } from './context'
import { CRITICAL } from './levels'
import { LogSite } from './origin'
import { PLUGIN_LOGGER } from './record'
import { errorType } from './redact'
import { onInstancesChanged, openInstances, type OpenInstance } from './registry'

/**
 * The last moments of a process. The sinks write asynchronously and pino's exit hooks do not
 * reach them (docs/operations.md), so on `process.exit()`, an uncaught exception, an unhandled
 * rejection or a signal nobody else handles, every open instance writes what it holds with
 * `fs.writeSync`. The hooks are on the process only while an instance is open.
 */
const UNCAUGHT_SITE = new LogSite('uncaughtExceptionMonitor')
// Signals that end a process by default and that services commonly get without handling them:
// Kubernetes' SIGTERM, a terminal's SIGINT, a closed session's SIGHUP.
const BARE_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP']
let watching = false
let subscribed = false

// `bare`: our fallback for a signal that ends the process; `own`: a signal the instances use
// (LOG_REOPEN_SIGNAL, and SIGUSR2 under LOG_LEVEL_SIGNAL), which then no longer ends it.
type SignalRole = 'bare' | 'own'
const LEVEL_SIGNAL: NodeJS.Signals = 'SIGUSR2'
const signalListeners = new Map<NodeJS.Signals, { role: SignalRole, listener: (signal: NodeJS.Signals) => void }>()

/** Keeps the exit hooks on the process while any instance is open; call once per registration. */
export function watchProcessExit (): void {
  if (subscribed) return
  subscribed = true
  onInstancesChanged(onInstancesChangedForExit)
}

function onInstancesChangedForExit (instances: readonly OpenInstance[]): void {
  if (instances.length > 0 && !watching) {
    process.on('uncaughtExceptionMonitor', logUncaught)
    process.on('exit', flushAllSync)
    watching = true
  } else if (instances.length === 0 && watching) {
    process.off('uncaughtExceptionMonitor', logUncaught)
    process.off('exit', flushAllSync)
    watching = false
  }
  watchSignals(instances)
}

/** Each bare signal gets our fallback listener, and each signal an instance uses its own listener (instead). */
function watchSignals (instances: readonly OpenInstance[]): void {
  const wanted = new Map<NodeJS.Signals, SignalRole>()
  if (instances.length > 0) for (const signal of BARE_SIGNALS) wanted.set(signal, 'bare')
  for (const instance of instances) {
    const signal = instance.config.reopenSignal
    if (signal !== 'off') wanted.set(signal as NodeJS.Signals, 'own')
    if (instance.config.levelSignal) wanted.set(LEVEL_SIGNAL, 'own')
  }
  for (const [signal, { role, listener }] of signalListeners) {
    if (wanted.get(signal) === role) continue
    process.off(signal, listener)
    signalListeners.delete(signal)
  }
  for (const [signal, role] of wanted) {
    if (signalListeners.has(signal)) continue
    const listener = role === 'bare' ? onBareSignal : onInstanceSignal
    process.on(signal, listener)
    signalListeners.set(signal, { role, listener })
  }
}

/**
 * A signal that would end the process, with no handler but ours: write everything held, then
 * let the signal do what it would have done without us (remove our listeners, raise it again:
 * the process ends by the signal, with its usual exit status). When the application handles the
 * signal itself (close-with-grace), its handler decides and `app.close()` writes the lines.
 */
function onBareSignal (signal: NodeJS.Signals): void {
  if (otherHandlers(signal) > 0) return
  flushAllSync()
  for (const [name, { listener }] of signalListeners) process.off(name, listener)
  signalListeners.clear()
  process.kill(process.pid, signal)
}

// signal-exit (test runners, CLIs, coverage tools) listens to every signal only to run exit hooks,
// and lets a signal kill the process only when its listeners are the only ones left: its
// listeners are not a handler, or neither of us would let the signal through.
const SIGNAL_EXIT_V4 = Symbol.for('signal-exit emitter')

/** Listeners of `signal` other than ours and signal-exit's. */
function otherHandlers (signal: NodeJS.Signals): number {
  const v4 = (globalThis as { [SIGNAL_EXIT_V4]?: { count?: unknown } })[SIGNAL_EXIT_V4]?.count
  const v3 = (process as { __signal_exit_emitter__?: { count?: unknown } }).__signal_exit_emitter__?.count
  const signalExit = (typeof v4 === 'number' ? v4 : 0) + (typeof v3 === 'number' ? v3 : 0)
  return process.listenerCount(signal) - 1 - signalExit
}

// The configuration refuses one instance using SIGUSR2 for both; two instances may each use it
// for one of them.
function onInstanceSignal (signal: NodeJS.Signals): void {
  for (const instance of [...openInstances()]) {
    if (instance.config.reopenSignal === signal) instance.reopen().catch(() => {})
    if (signal === LEVEL_SIGNAL && instance.config.levelSignal) instance.toggleDebugLevel()
  }
}

// Runs before the process dies of the error (or before a user's 'uncaughtException' handler):
// the line is queued like any other, and the 'exit' flush writes it.
function logUncaught (error: unknown, origin: string): void {
  const isError = error instanceof Error
  const raw = isError ? String(error.message) : String(error)
  const scope = requestStorage.getStore()
  const requestId = scope?.id ?? null
  const trace = scope?.trace ?? null
  const title = origin === 'unhandledRejection' ? 'Unhandled rejection' : 'Uncaught exception'
  for (const instance of openInstances()) {
    const redactor = instance.redactor
    const message = redactor.redactString(raw)
    const fields: Record<string, unknown> = {
      exception_type: errorType(error),
      exception_message: message,
      exception: redactor.redactString(isError ? String(error.stack ?? raw) : raw),
      origin
    }
    instance.emit({ time: instance.now(), level: CRITICAL, logger: PLUGIN_LOGGER, message: `${title}: ${message}`, origin: UNCAUGHT_SITE.origin(), requestId, trace, fields })
  }
}

function flushAllSync (): void {
  for (const instance of openInstances()) instance.flushSync()
}
