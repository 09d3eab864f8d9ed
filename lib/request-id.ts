import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Redactor } from './redact'

/** What an incoming request id must look like to be kept. */
export const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/
// Kept raw up to 4 × the 128 characters logged, so it is redacted before it is cut.
const REJECTED_MAX = 512

const kRejectedId = Symbol('fastify-api-logging.rejectedRequestId')
// The id our generator gave this request: already checked, so it is not checked again.
const kGeneratedId = Symbol('fastify-api-logging.generatedId')

type RawWithRejected = IncomingMessage & { [kRejectedId]?: string, [kGeneratedId]?: string }

/**
 * The generator given to `fastify.setGenReqId`: the configured header's value when it is a sane
 * id, else a fresh UUID v4, the refused value kept for the request's first log line.
 */
export function createRequestIdGenerator (header: string, redactor: Redactor): (req: IncomingMessage) => string {
  function chooseId (req: IncomingMessage): string {
    const incoming = req.headers[header]
    if (incoming === undefined) return randomUUID()
    const value = Array.isArray(incoming) ? incoming.join(', ') : incoming
    // A JWT fits the id's character set; a client that sends its token as an id must not have it
    // written, unredacted, on every line of the request.
    if (VALID_REQUEST_ID.test(value) && !redactor.looksLikeCredential(value)) return value
    ;(req as RawWithRejected)[kRejectedId] = value.slice(0, REJECTED_MAX)
    return randomUUID()
  }
  return function genRequestId (req: IncomingMessage): string {
    const id = chooseId(req)
    ;(req as RawWithRejected)[kGeneratedId] = id
    return id
  }
}

/** The refused incoming id of this request (raw, at most 512 characters): redact, then cut, before logging. */
export function rejectedRequestId (req: IncomingMessage): string | undefined {
  return (req as RawWithRejected)[kRejectedId]
}

/**
 * Keeps an id that did not come from our generator (Fastify's own `requestIdHeader` option reads
 * the header unvalidated) only when it is sane.
 */
export function ensureValidRequestId (id: string, req: IncomingMessage, redactor: Redactor): string {
  if ((req as RawWithRejected)[kGeneratedId] === id) return id
  if (VALID_REQUEST_ID.test(id) && !redactor.looksLikeCredential(id)) return id
  ;(req as RawWithRejected)[kRejectedId] = String(id).slice(0, REJECTED_MAX)
  return randomUUID()
}
