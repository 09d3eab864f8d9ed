import type { Dispatcher } from 'undici-types'
import { requestStorage } from './context'

/**
 * The headers that carry the current request on to a call it makes: its request id (under the
 * registration's REQUEST_ID_HEADER) and, when the request has a trace, a `traceparent` naming a
 * new span of that trace (a new span id for each call; the request's trace id and flags).
 */
export interface PropagationHeaders {
  [header: string]: string
}

/**
 * The headers to send on a call made for the current request: `{ 'x-request-id': id,
 * traceparent: '00-<trace id>-<new span id>-<flags>' }` (the request-id header under its
 * configured name; `traceparent` only when the request has a trace). Each call returns a new span
 * id, so two calls are two spans. Outside a request: `{}`. `tracestate` is never sent on.
 */
export function getPropagationHeaders (): PropagationHeaders {
  const scope = requestStorage.getStore()
  if (scope === undefined) return {}
  const headers: PropagationHeaders = { [scope.requestIdHeader]: scope.id }
  if (scope.trace !== null) headers.traceparent = scope.trace.outgoingTraceparent()
  return headers
}

type HeadersOption = Dispatcher.DispatchOptions['headers']

// The names a dispatch's headers already have (lower case), whatever form undici was given them in.
function namesOf (headers: NonNullable<HeadersOption>): Set<string> {
  const names = new Set<string>()
  if (Array.isArray(headers)) {
    // undici's flat form: [name, value, name, value, ...]
    for (let i = 0; i < headers.length; i += 2) names.add(String(headers[i]).toLowerCase())
  } else if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [name] of headers as Iterable<[string, unknown]>) names.add(String(name).toLowerCase())
  } else {
    for (const name of Object.keys(headers)) names.add(name.toLowerCase())
  }
  return names
}

function withPropagation (options: Dispatcher.DispatchOptions): Dispatcher.DispatchOptions {
  const extra = getPropagationHeaders()
  const names = Object.keys(extra)
  if (names.length === 0) return options
  const given = options.headers
  if (given == null) return { ...options, headers: extra }
  const present = namesOf(given)
  const missing = names.filter((name) => !present.has(name))
  if (missing.length === 0) return options
  // The caller's headers are kept as they are, and in their own form; ours only fill the gaps.
  if (Array.isArray(given)) {
    const flat: string[] = [...given] as string[]
    for (const name of missing) flat.push(name, extra[name])
    return { ...options, headers: flat }
  }
  const object: Record<string, string | string[] | undefined> = {}
  if (typeof (given as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [name, value] of given as Iterable<[string, string | string[]]>) object[name] = value
  } else {
    Object.assign(object, given)
  }
  for (const name of missing) object[name] = extra[name]
  return { ...options, headers: object as Record<string, string | string[]> }
}

/** The undici interceptor behind `createPropagatingDispatcher`. */
function propagationInterceptor (dispatch: Dispatcher['dispatch']): Dispatcher['dispatch'] {
  return function dispatchWithPropagation (options, handler) {
    return dispatch(withPropagation(options), handler)
  }
}

const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1')

// The dispatcher global fetch uses: Node's own undici (or the one an application installed with
// undici's setGlobalDispatcher). Node creates it at the first fetch() call; a data: URL makes
// that happen without any network.
function globalDispatcher (): Dispatcher {
  const holder = globalThis as unknown as Record<symbol, Dispatcher | undefined>
  if (holder[GLOBAL_DISPATCHER] === undefined) fetch('data:,').catch(() => {})
  const dispatcher = holder[GLOBAL_DISPATCHER]
  if (dispatcher === undefined) throw new TypeError('createPropagatingDispatcher(): this Node has no global undici dispatcher; pass one (for example new Agent() from undici)')
  return dispatcher
}

/** What `createPropagatingDispatcher` needs of a dispatcher: undici's `compose()`, whatever the undici version. */
export interface ComposableDispatcher<Composed> {
  compose (...interceptors: Array<(dispatch: any) => any>): Composed
}

/**
 * An undici dispatcher that adds `getPropagationHeaders()` to every call made inside a request
 * (headers the caller set are never replaced): `fetch(url, { dispatcher })` with Node's fetch, or
 * undici's `request(url, { dispatcher })`. It is `dispatcher.compose(interceptor)` of the
 * dispatcher given, else of the global one that fetch uses, so it composes with other undici
 * interceptors like any composed dispatcher. Outside a request it adds nothing. Given the npm
 * `undici` package's Agent (any version with `compose`), it returns that version's dispatcher.
 */
export function createPropagatingDispatcher (): Dispatcher
export function createPropagatingDispatcher<Composed> (dispatcher: ComposableDispatcher<Composed>): Composed
export function createPropagatingDispatcher (dispatcher?: ComposableDispatcher<unknown>): unknown {
  const base = dispatcher ?? globalDispatcher()
  if (typeof base?.compose !== 'function') {
    throw new TypeError('createPropagatingDispatcher(dispatcher): the dispatcher must be an undici Dispatcher, which has compose()')
  }
  return base.compose(propagationInterceptor)
}
