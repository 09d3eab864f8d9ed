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
  target.emit(recordFromCall(target, level, API_CALL_LOGGER, scope?.id ?? null, scope?.trace ?? null, null, [fields, message], origin, scope))
}

function elapsedSince (started: number): number {
  return Math.round((performance.now() - started) * 100) / 100
}

// The one implementation behind logApiCall, wrapApiCall and @apiCall: `origin` is taken by the
// caller, so each form names the application code that made the call.
function runLogged<T> (name: string, origin: Origin, fn: () => T): T {
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

// Checked when the call is defined, not on every call: a bad name is a programming error.
function checkName (name: unknown, where: string): void {
  if (typeof name !== 'string' || name === '') throw new TypeError(`${where}: the operation name must be a non-empty string, got ${typeof name === 'string' ? '""' : typeof name}`)
}

/**
 * Runs `fn` (sync or async) and logs its start, its completion with `duration_ms`, or its
 * failure with the exception, under the current request id. Returns or rethrows what `fn` does.
 */
export function logApiCall<T> (name: string, fn: () => T): T {
  return runLogged(name, callerOrigin(), fn)
}

/**
 * `fn` made into a function that logs every call as `logApiCall` does (start, completion with
 * `duration_ms`, or failure), with `fn`'s parameters, return type (sync or async) and `this`.
 */
export function wrapApiCall<Args extends unknown[], Return, This = unknown> (name: string, fn: (this: This, ...args: Args) => Return): (this: This, ...args: Args) => Return {
  checkName(name, 'wrapApiCall()')
  if (typeof fn !== 'function') throw new TypeError(`wrapApiCall(): expected a function to wrap, got ${typeof fn}`)
  return function loggedApiCall (this: This, ...args: Args): Return {
    return runLogged(name, callerOrigin(), () => fn.apply(this, args))
  }
}

/**
 * A TypeScript 5 (standard, not `experimentalDecorators`) method decorator: every call of the
 * method is logged as `logApiCall(name, ...)` logs it, with `this` kept, sync or async.
 *
 * ```ts
 * class Videos {
 *   @apiCall('create_video')
 *   async create (task: Task): Promise<Video> { ... }
 * }
 * ```
 */
export function apiCall (name: string) {
  checkName(name, '@apiCall()')
  return function decorateApiCall<This, Args extends unknown[], Return> (
    method: (this: This, ...args: Args) => Return,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Return>
  ): (this: This, ...args: Args) => Return {
    if (context?.kind !== 'method') throw new TypeError(`@apiCall('${name}') decorates class methods only, not a ${String(context?.kind ?? 'legacy (experimentalDecorators) member')}`)
    // The decorated method is the wrapped function: `this` is the instance it is called on.
    return wrapApiCall(name, method)
  }
}
