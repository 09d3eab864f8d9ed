import { AsyncLocalStorage } from 'node:async_hooks'
import type { LogTarget } from './registry'
import type { TraceContext } from './trace-context'

/** What the code running for a request can find without being passed anything. */
export interface RequestScope {
  readonly id: string
  /** The plugin instance the request belongs to: its lines go there. */
  readonly target: LogTarget
  /** The trace the request's lines belong to (OpenTelemetry's span, or an incoming `traceparent`); null without one. */
  readonly trace: TraceContext | null
  /** The registration's request-id header name (lower case), for propagating the id. */
  readonly requestIdHeader: string
  /** Notes that a line of `logger` carries `error`'s stack, so the completion line need not repeat it. */
  noteStack (error: Error, logger: string): void
}

export const requestStorage = new AsyncLocalStorage<RequestScope>()

/**
 * The id of the request whose async call chain is running (through `await`, timers and event
 * emitters created during it), or `undefined` outside any request.
 */
export function getRequestId (): string | undefined {
  return requestStorage.getStore()?.id
}
