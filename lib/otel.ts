import { TraceContext, flagsHex } from './trace-context'

// The parts of @opentelemetry/api read here. It is an optional peer: typed by hand so that
// neither the build nor the published declarations need it installed.
interface SpanContextLike {
  readonly traceId: string
  readonly spanId: string
  readonly traceFlags: number
}

interface SpanLike {
  spanContext (): SpanContextLike
  // SDK spans (not the API's interface) say their parent: `parentSpanContext` since SDK 2, `parentSpanId` before.
  readonly parentSpanContext?: { readonly spanId?: unknown }
  readonly parentSpanId?: unknown
}

interface OtelApi {
  readonly trace: { getActiveSpan (): SpanLike | undefined }
  isSpanContextValid (context: SpanContextLike): boolean
}

let api: OtelApi | null | undefined

/**
 * @opentelemetry/api when the application has it installed, else null; looked up once. An
 * application that does not use OpenTelemetry pays one failed `require` at startup, nothing per
 * request.
 */
export function otelApi (): OtelApi | null {
  if (api === undefined) {
    try {
      api = require('@opentelemetry/api') as OtelApi
    } catch {
      api = null
    }
  }
  return api
}

// @fastify/otel decorates each request with `opentelemetry()`, whose `span` is the request's
// own span. Inside a hook it wraps (ours among them) the active span is that hook's child span,
// so the request span is read from there first.
function fastifyOtelSpan (request: object): SpanLike | null {
  const decorator = (request as { opentelemetry?: unknown }).opentelemetry
  if (typeof decorator !== 'function') return null
  const span = (decorator.call(request) as { span?: SpanLike | null } | undefined)?.span
  return span ?? null
}

function parentOf (span: SpanLike): string | null {
  const parent = span.parentSpanContext?.spanId ?? span.parentSpanId
  return typeof parent === 'string' && parent !== '' ? parent.toLowerCase() : null
}

/**
 * The trace of the request's OpenTelemetry span, when OpenTelemetry is installed and a span is
 * active for the request: @fastify/otel's request span, else the active one (an HTTP server
 * span of instrumentation-http); null without a valid one.
 */
export function otelTraceOf (request: object): TraceContext | null {
  const otel = otelApi()
  if (otel === null) return null
  const span = fastifyOtelSpan(request) ?? otel.trace.getActiveSpan()
  if (span === undefined || span === null) return null
  const context = span.spanContext()
  if (!otel.isSpanContextValid(context)) return null
  // The API accepts uppercase ids; the log formats want lowercase.
  return new TraceContext(context.traceId.toLowerCase(), context.spanId.toLowerCase(), flagsHex(context.traceFlags), parentOf(span))
}
