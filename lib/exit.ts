import { requestStorage } from './context'
import { CRITICAL } from './levels'
import { LogSite } from './origin'
import { PLUGIN_LOGGER } from './record'
import { errorType } from './redact'
import type { LogOutput } from './sinks'

/**
 * The last moments of a process. rotating-file-stream has no synchronous flush and pino's exit
 * hooks do not reach it (FINDINGS.md), so on `process.exit()`, an uncaught exception or an
 * unhandled rejection every open output writes what it holds with `fs.writeSync`.
 */
const watched = new Set<LogOutput>()
const UNCAUGHT_SITE = new LogSite('uncaughtExceptionMonitor')

export function watchProcessExit (output: LogOutput): void {
  if (watched.size === 0) {
    process.on('uncaughtExceptionMonitor', logUncaught)
    process.on('exit', flushAllSync)
  }
  watched.add(output)
}

export function unwatchProcessExit (output: LogOutput): void {
  if (!watched.delete(output) || watched.size > 0) return
  process.off('uncaughtExceptionMonitor', logUncaught)
  process.off('exit', flushAllSync)
}

// Runs before the process dies of the error (or before a user's 'uncaughtException' handler):
// the line is queued like any other, and the 'exit' flush writes it.
function logUncaught (error: unknown, origin: string): void {
  const isError = error instanceof Error
  const raw = isError ? String(error.message) : String(error)
  const requestId = requestStorage.getStore()?.id ?? null
  const title = origin === 'unhandledRejection' ? 'Unhandled rejection' : 'Uncaught exception'
  for (const output of watched) {
    const redactor = output.redactor
    const message = redactor.redactString(raw)
    const fields: Record<string, unknown> = {
      exception_type: errorType(error),
      exception_message: message,
      exception: redactor.redactString(isError ? String(error.stack ?? raw) : raw),
      origin
    }
    output.emit({ time: output.now(), level: CRITICAL, logger: PLUGIN_LOGGER, message: `${title}: ${message}`, origin: UNCAUGHT_SITE.origin(), requestId, fields })
  }
}

function flushAllSync (): void {
  for (const output of watched) output.flushSync()
}
