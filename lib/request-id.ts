import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** What an incoming request id must look like to be kept. */
export const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/
const REJECTED_MAX = 128

const kRejectedId = Symbol('fastify-api-logging.rejectedRequestId')

type RawWithRejected = IncomingMessage & { [kRejectedId]?: string }

/**
 * The generator given to `fastify.setGenReqId`: the configured header's value when it is a sane
 * id, else a fresh UUID v4, the refused value kept for the request's first log line.
 */
export function createRequestIdGenerator (header: string): (req: IncomingMessage) => string {
  return function genRequestId (req: IncomingMessage): string {
    const incoming = req.headers[header]
    if (incoming === undefined) return randomUUID()
    const value = Array.isArray(incoming) ? incoming.join(', ') : incoming
    if (VALID_REQUEST_ID.test(value)) return value
    ;(req as RawWithRejected)[kRejectedId] = value.slice(0, REJECTED_MAX)
    return randomUUID()
  }
}

/** The refused incoming id of this request, cut to 128 characters; the sinks escape it. */
export function rejectedRequestId (req: IncomingMessage): string | undefined {
  return (req as RawWithRejected)[kRejectedId]
}

/**
 * Keeps an id that did not come from our generator (Fastify's own `requestIdHeader` option reads
 * the header unvalidated) only when it is sane.
 */
export function ensureValidRequestId (id: string, req: IncomingMessage): string {
  if (VALID_REQUEST_ID.test(id)) return id
  ;(req as RawWithRejected)[kRejectedId] = String(id).slice(0, REJECTED_MAX)
  return randomUUID()
}
