import { requestStorage } from './context'
import { CRITICAL } from './levels'
import { LogSite } from './origin'
import { PLUGIN_LOGGER } from './record'
import { errorType } from './redact'
import { onInstancesChanged, openInstances, type OpenInstance } from './registry'

/**
 * The last moments of a process. rotating-file-stream has no synchronous flush and pino's exit
 * hooks do not reach it (docs/operations.md), so on `process.exit()`, an uncaught exception or an
 * unhandled rejection every open instance writes what it holds with `fs.writeSync`. The hooks are
 * on the process only while an instance is open.
 */
const UNCAUGHT_SITE = new LogSite('uncaughtExceptionMonitor')
let watching = false
let subscribed = false

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
}

// Runs before the process dies of the error (or before a user's 'uncaughtException' handler):
// the line is queued like any other, and the 'exit' flush writes it.
function logUncaught (error: unknown, origin: string): void {
  const isError = error instanceof Error
  const raw = isError ? String(error.message) : String(error)
  const requestId = requestStorage.getStore()?.id ?? null
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
    instance.emit({ time: instance.now(), level: CRITICAL, logger: PLUGIN_LOGGER, message: `${title}: ${message}`, origin: UNCAUGHT_SITE.origin(), requestId, fields })
  }
}

function flushAllSync (): void {
  for (const instance of openInstances()) instance.flushSync()
}
