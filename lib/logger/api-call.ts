import { performance } from 'node:perf_hooks'
import { requestStorage } from '../context'
import { ERROR, INFO } from '../levels'
import { callerOrigin } from '../origin'
import type { Origin } from '../record'
import { activeTarget } from '../registry'
import { recordFromCall, safeMessage } from './record-call'

/** The logger name of `logApiCall` lines. */
export const API_CALL_LOGGER = 'api_call'

function emit (level: number, message: string, fields: Record<string, unknown>, origin: Origin): void {
  const scope = requestStorage.getStore()
  const target = scope?.target ?? activeTarget()
  if (level < target.minLevel) return
  target.emit(recordFromCall(target, level, API_CALL_LOGGER, scope?.id ?? null, null, [fields, message], origin, scope))
}

function elapsedSince (started: number): number {
  return Math.round((performance.now() - started) * 100) / 100
}

/**
 * Runs `fn` (sync or async) and logs its start, its completion with `duration_ms`, or its
 * failure with the exception, under the current request id. Returns or rethrows what `fn` does.
 */
export function logApiCall<T> (name: string, fn: () => T): T {
  const origin = callerOrigin()
  const started = performance.now()
  emit(INFO, `API call started: ${name}`, { operation: name }, origin)
  const completed = (): void => {
    const duration = elapsedSince(started)
    emit(INFO, `API call completed: ${name} (${duration}ms)`, { operation: name, duration_ms: duration }, origin)
  }
  const failed = (err: unknown): void => {
    const duration = elapsedSince(started)
    const reason = err instanceof Error ? safeMessage(err) : String(err)
    emit(ERROR, `API call failed: ${name} - ${reason}`, { operation: name, duration_ms: duration, err: err instanceof Error ? err : undefined }, origin)
  }
  let result: T
  try {
    result = fn()
  } catch (err) {
    failed(err)
    throw err
  }
  if (isPromiseLike(result)) {
    return result.then((value) => {
      completed()
      return value
    }, (err: unknown) => {
      failed(err)
      throw err
    }) as T
  }
  completed()
  return result
}

function isPromiseLike (value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function'
}
