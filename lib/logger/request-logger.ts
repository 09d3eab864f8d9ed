import pino from 'pino'
import type { FastifyBaseLogger } from 'fastify'
import type { RequestScope } from '../context'
import { CRITICAL, DEBUG, ERROR, INFO, TRACE, WARNING, pinoLevelOf } from '../levels'
import { FRAMEWORK_ORIGIN, callerOrigin } from '../origin'
import { REQUEST_LOGGER, requestChild } from './app-logger'
import { recordFromCall } from './record-call'

/**
 * `request.log` for one request: a logger and nothing else (the plugin's bookkeeping is kept
 * apart). It writes straight to the request's instance with the request's id; a pino child
 * logger is made only if the handler asks for `child()`, because a child per request costs more
 * than the request's own lines.
 */
export class RequestLogger implements FastifyBaseLogger {
  readonly #scope: RequestScope
  #minLevel: number

  constructor (scope: RequestScope) {
    this.#scope = scope
    this.#minLevel = scope.target.minLevel
  }

  get level (): string {
    return pinoLevelOf(this.#minLevel)
  }

  set level (name: string) {
    const value = name === 'silent' ? Infinity : pino.levels.values[name]
    if (value === undefined) throw new Error(`unknown level ${name}`)
    this.#minLevel = Math.max(value, this.#scope.target.minLevel)
  }

  isLevelEnabled (name: string): boolean {
    const value = pino.levels.values[name]
    return value !== undefined && value >= this.#minLevel
  }

  trace (...args: unknown[]): void { this.#log(TRACE, args) }
  debug (...args: unknown[]): void { this.#log(DEBUG, args) }
  info (...args: unknown[]): void { this.#log(INFO, args) }
  warn (...args: unknown[]): void { this.#log(WARNING, args) }
  /** The same as `warn`. */
  warning (...args: unknown[]): void { this.#log(WARNING, args) }
  error (...args: unknown[]): void { this.#log(ERROR, args) }
  fatal (...args: unknown[]): void { this.#log(CRITICAL, args) }
  /** The same as `fatal`. */
  critical (...args: unknown[]): void { this.#log(CRITICAL, args) }
  silent (): void {}

  child (bindings: pino.Bindings, options?: pino.ChildLoggerOptions): FastifyBaseLogger {
    return requestChild(this.#scope.target, this.#scope.id, this.#scope.trace, this.#minLevel, bindings, options)
  }

  #log (level: number, args: unknown[]): void {
    if (level < this.#minLevel) return
    const origin = callerOrigin()
    if (origin === FRAMEWORK_ORIGIN) return
    const target = this.#scope.target
    target.emit(recordFromCall(target, level, REQUEST_LOGGER, this.#scope.id, this.#scope.trace, null, args, origin, this.#scope))
  }
}
