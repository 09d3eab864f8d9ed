import type { IncomingHttpHeaders } from 'node:http'
import type { RequestScope } from './context'
import type { LogTarget } from './registry'
import type { RouteLogging } from './route-logging'
import type { TraceContext } from './trace-context'

/** What the request lines read from a request; a Fastify request has all of it. */
export interface RequestView {
  readonly method: string
  readonly url: string
  readonly ip: string
  readonly headers: IncomingHttpHeaders
  readonly body?: unknown
  readonly routeOptions: { readonly url?: string }
}

/** What the request lines read from a reply; a Fastify reply has all of it. */
export interface ReplyView {
  readonly statusCode: number
  getHeader (name: string): unknown
  getHeaders (): Record<string, unknown>
}

/**
 * The plugin's bookkeeping for one request, kept on private symbols of the request and its raw
 * response. It is also the request's async-context scope. Users never see it: `request.log` is
 * a separate logger.
 */
export class RequestState implements RequestScope {
  readonly id: string
  readonly target: LogTarget
  readonly request: RequestView
  readonly reply: ReplyView
  /** `performance.now()` at arrival. */
  readonly startedAt: number
  /** The incoming id that was refused (raw, at most 512 characters), if any. */
  readonly rejectedId: string | undefined
  /** How the request's route is logged (null: only in tests of the request lines alone). */
  readonly route: RouteLogging | null
  /** The trace of the request, found once on arrival (plugin.ts); null without one. */
  trace: TraceContext | null = null
  /** The request-id header name (lower case). */
  requestIdHeader = 'x-request-id'
  /** The route pattern (`routeOptions.url`), read once on arrival; null when no route matched. */
  endpoint: string | null = null
  excluded = false
  startLogged = false
  done = false
  failure: Error | null = null
  responseBody: unknown = undefined
  // Redacted once, for both lines of the request.
  path: string | null = null
  userAgent: string | null | undefined = undefined
  /** The last error whose stack an application line of this request carried, and that line's logger. */
  loggedError: Error | null = null
  loggedErrorBy: string | null = null

  constructor (id: string, target: LogTarget, request: RequestView, reply: ReplyView, startedAt: number, rejectedId: string | undefined, route: RouteLogging | null = null) {
    this.route = route
    this.id = id
    this.target = target
    this.request = request
    this.reply = reply
    this.startedAt = startedAt
    this.rejectedId = rejectedId
  }

  noteStack (error: Error, logger: string): void {
    this.loggedError = error
    this.loggedErrorBy = logger
  }
}
