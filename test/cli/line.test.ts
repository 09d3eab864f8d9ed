import t from 'tap'
import { formatJsonLine } from '../../dist/format/json.js'
import { completionOf, FOREIGN, levelNumber, LineView, MALFORMED, RECORD, type Completion } from '../../dist/cli/line.js'
import { normalizeTimestamp } from '../../dist/cli/time.js'
import { TraceContext } from '../../dist/trace-context.js'
import { Rng, seedFromEnv } from '../helpers/generate'

// The fast path reads the plugin's lines by their layout; for every line the plugin can write it
// must find what JSON.parse finds. Replay a failure with REDACTION_SEED=<seed>.
const seed = seedFromEnv()

// A completion's facts as a plain object (the view's own reads two of them from the line when asked).
function facts (c: Completion | null): Record<string, unknown> | null {
  return c === null ? null : { time: c.time, requestId: c.requestId, method: c.method, endpoint: c.endpoint, path: c.path, status: c.status, ms: c.ms, slow: c.slow, level: c.level }
}
const rng = new Rng(seed)

const NASTY = ['"', '\\', '\\"', '","module":"x', ',"request_id":"x', '","endpoint":"/x","status_code":1,', '{"timestamp":"2025-01-14T10:00:00.000Z"', 'é', '漢字', '😀', '\u2028', '\u001b[2J', '\n', '\t', '}', 'null', ' ']

function text (): string {
  let out = ''
  const n = rng.int(6)
  for (let i = 0; i < n; i++) out += rng.chance(0.5) ? rng.pick(NASTY) : rng.alnum(rng.between(1, 12))
  return out
}

function number (): number {
  switch (rng.int(6)) {
    case 0: return 0
    case 1: return rng.int(100000) / 100
    case 2: return rng.int(10)
    case 3: return Math.round(rng.next() * 1e6) / 1e3
    case 4: return 123456789.12
    default: return rng.next() * 1000
  }
}

function completion (): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    method: rng.pick(['GET', 'POST', 'DELETE', 'PATCH', 'M-SEARCH']),
    path: rng.chance(0.5) ? '/api/' + rng.alnum(5) : '/' + text(),
    endpoint: rng.chance(0.2) ? null : rng.chance(0.8) ? '/api/:id' : text(),
    status_code: rng.pick([200, 201, 204, 301, 400, 404, 499, 500, 503, 999]),
    response_time_ms: number(),
    content_length: rng.chance(0.3) ? null : rng.int(100000),
    slow_request: rng.chance(0.5),
    client_ip: '127.0.0.1',
    user_agent: rng.chance(0.5) ? null : text()
  }
  if (rng.chance(0.3)) fields.exception_message = text()
  if (rng.chance(0.3)) fields.request_body = { status_code: 7, nested: { response_time_ms: 1 }, text: text() }
  return fields
}

const TRACE = new TraceContext('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', '01', null)

function line (): string {
  const kind = rng.int(5)
  const requestId = rng.chance(0.8) ? '6d32cdb9-933d-49d3-94d3-34b827489c95' : rng.chance(0.5) ? null : text()
  const fields = kind < 3 ? completion() : kind === 3 ? { status_code: rng.int(600), response_time_ms: number(), method: 'GET', note: text() } : { method: 'GET', path: text(), client_ip: '::1' }
  return formatJsonLine({
    time: Date.parse('2025-01-14T10:00:00.000Z') + rng.int(86_400_000),
    level: rng.pick([10, 20, 30, 40, 50, 60]),
    logger: kind === 3 && rng.chance(0.5) ? 'http' : rng.chance(0.9) ? 'api' : text(),
    message: rng.chance(0.8) ? rng.pick(['API Response: GET /x - 200', 'API Error: POST /y - 503', 'API Request Aborted: GET /z - 499', 'API Request: GET /x', 'API Responses']) + text() : text(),
    origin: { module: rng.chance(0.8) ? 'plugin' : text(), function: rng.chance(0.8) ? 'onResponseClosed' : text(), line: rng.int(1000) },
    requestId,
    trace: requestId !== null && rng.chance(0.5) ? TRACE : null,
    fields
  }).slice(0, -1)
}

t.test(`the layout reading agrees with JSON.parse on every line the plugin writes (seed ${seed})`, async (t) => {
  const view = new LineView()
  let completions = 0
  let mismatches = 0
  for (let i = 0; i < 3000; i++) {
    const text = line()
    const buf = Buffer.from(text)
    const kind = view.classifyLine(buf, 0, buf.length)
    const parsed = JSON.parse(text) as Record<string, unknown>
    const time = normalizeTimestamp(parsed.timestamp) as string
    const expected = completionOf(parsed, time, levelNumber(parsed.level))
    const ok = kind === RECORD && view.level === levelNumber(parsed.level) && view.time() === parsed.timestamp &&
      JSON.stringify(facts(view.completion)) === JSON.stringify(facts(expected)) && JSON.stringify(view.object()) === JSON.stringify(parsed)
    if (!ok && mismatches++ < 5) t.fail(`line ${i} read differently: ${text}\n  layout: ${JSON.stringify(facts(view.completion))}\n  parsed: ${JSON.stringify(facts(expected))}`)
    if (expected !== null) completions++
  }
  t.equal(mismatches, 0, 'no line read differently')
  t.ok(completions > 800, `${completions} completion lines among them`)
})

t.test('lines from elsewhere: parsed, and classified as records, foreign JSON or not JSON', async (t) => {
  const view = new LineView()
  const kinds: Array<[string, number]> = [
    ['{"timestamp":"2025-01-14 10:00:00","level":"info","message":"spaced date, lower-case level"}', RECORD],
    ['{"timestamp":"2025-01-14T10:00:00+01:00","level":30,"message":"pino-style level"}', RECORD],
    ['{"timestamp":"2025-01-14T10:00:00.000Z","level":"INFO","logger":"api","message":"API Response: GET / - 200","module":"m","function":"f","line":1,"request_id":"a","method":"GET","path":"/","endpoint":"/","status_code":200,"response_time_ms":1,"content_length":1,"slow_request":false}\r', RECORD],
    ['{"timestamp":"2025-01-14T10:00:00.000Z","level":"NOTICE","message":"unknown level"}', FOREIGN],
    ['{"level":30,"time":1736848800000,"msg":"pino"}', FOREIGN],
    ['{"timestamp":"yesterday","level":"INFO","message":"x"}', FOREIGN],
    ['{"timestamp":"2025-01-14T10:00:00.000Z","level":"INFO","message":42}', FOREIGN],
    ['[]', FOREIGN],
    ['null', FOREIGN],
    ['12', FOREIGN],
    ['{"timestamp":"2025-01-14T10:00:00.000Z","level":"INFO","logger":"api","message":"API Resp', MALFORMED],
    ['<html>', MALFORMED],
    ['{"timestamp":"2025-01-14T10:00:00.000Z","level":"INFO","logger":"api","message":"API Response: GET / - 200","module":"plugin","function":"onResponseClosed","line":268,"request_id":"r","method":"GET","path":"/x,"status_code":200}', MALFORMED],
    ['{"timestamp":"2025-01-14T10:00:00.000Z","level":"INFO","logger":"api","message":"API Response: GET / - 200","module":"plugin","function":"onResponseClosed","line":268,"request_id":"r,"status_code":200}', MALFORMED],
    ['{"timestamp":"2025-01-14T10:00:00.000Z","level":"INFO","logger":"api","message":"API Response: GET / - 200","module":"plugin","function":"onResponseClosed","line":268,"request_id":"r","method":"GET","path":"/","endpoint":"/x,"status_code":200}', MALFORMED],
    ['{"timestamp":"2025-01-14T10:00:00.000Z","level":"INFO","logger":"api","message":"API Response: GET / - 200","module":"plugin","function":"onResponseClosed,"status_code":200}', MALFORMED],
    // Trace fields out of the plugin's layout: read by JSON.parse, or refused as JSON.
    ['{"timestamp":"2025-01-14T10:00:00.000Z","level":"INFO","logger":"api","message":"API Response: GET / - 200","module":"plugin","function":"onResponseClosed","line":268,"request_id":"r","trace_id":"4BF92F3577B34DA6A3CE929D0E0E4736","span_id":"00f067aa0ba902b7","trace_flags":"01","method":"GET","path":"/","endpoint":"/","status_code":200,"response_time_ms":1,"content_length":1,"slow_request":false}', RECORD],
    ['{"timestamp":"2025-01-14T10:00:00.000Z","level":"INFO","logger":"api","message":"API Response: GET / - 200","module":"plugin","function":"onResponseClosed","line":268,"request_id":"r","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","trace_flags":"1","method":"GET","path":"/","endpoint":"/","status_code":200,"response_time_ms":1,"content_length":1,"slow_request":false}', RECORD],
    ['{"timestamp":"2025-01-14T10:00:00.000Z","level":"INFO","logger":"api","message":"API Response: GET / - 200","module":"plugin","function":"onResponseClosed","line":268,"request_id":"r","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","trace_flags":"01,"method":"GET","status_code":200}', MALFORMED]
  ]
  for (const [text, kind] of kinds) {
    const buf = Buffer.from(text)
    t.equal(view.classifyLine(buf, 0, buf.length), kind, text)
  }
  const crlf = Buffer.from(kinds[2][0])
  view.classifyLine(crlf, 0, crlf.length)
  t.same(view.completion, { time: '2025-01-14T10:00:00.000Z', requestId: 'a', method: 'GET', endpoint: '/', path: '/', status: 200, ms: 1, slow: false, level: 30 }, 'a CRLF line is read through JSON.parse')
  const pino = Buffer.from(kinds[1][0])
  view.classifyLine(pino, 0, pino.length)
  t.equal(view.level, 30)
  t.equal(view.time(), '2025-01-14T09:00:00.000Z', 'a zoned timestamp is brought to UTC')
  t.equal(levelNumber(Infinity), 0)
  t.equal(levelNumber('silent'), 0)
  t.equal(levelNumber('warn'), 40)
})

t.test('layout oddities fall back to JSON.parse', async (t) => {
  const base = '{"timestamp":"2025-01-14T10:00:00.000Z","level":"ERROR","logger":"api","message":"API Error: GET / - 500","module":"plugin","function":"onResponseClosed","line":268,"request_id":"r","method":"GET","path":"/","endpoint":"/","status_code":500,"response_time_ms":12.5,"content_length":null,"slow_request":true}'
  const variants = [
    base,
    base.replace('"response_time_ms":12.5', '"response_time_ms":1.25e1'),
    base.replace('"response_time_ms":12.5', '"response_time_ms":-12.5'),
    base.replace('"response_time_ms":12.5', '"response_time_ms":12.5000000000000001'),
    base.replace('"status_code":500', '"status_code":500.0'),
    base.replace(',"content_length":null', ''),
    base.replace('"slow_request":true', '"slow_request":"yes"'),
    base.replace('"request_id":"r"', '"request_id":7'),
    base.replace('"endpoint":"/"', '"endpoint":7'),
    base.replace('"method":"GET"', '"method":"G\\u0045T"'),
    base.replace('"line":268', '"line":[268]'),
    base.replace('"module":"plugin",', ''),
    base.replace('"path":"/",', '"path":"/",'.repeat(1)).replace('"path":"/","endpoint"', '"path":"/","x":1,"endpoint"'),
    base.replace('"response_time_ms":12.5,', '"response_time_ms":12.5,"x":1,'),
    base.replace('"status_code":500,', '"status_code":500,"x":1,')
  ]
  const view = new LineView()
  for (const text of variants) {
    const buf = Buffer.from(text)
    const kind = view.classifyLine(buf, 0, buf.length)
    const parsed = JSON.parse(text) as Record<string, unknown>
    t.equal(kind, RECORD, text)
    t.same(facts(view.completion), facts(completionOf(parsed, '2025-01-14T10:00:00.000Z', 50)), `same facts: ${text.slice(160)}`)
  }
  const leadingZero = Buffer.from(base.replace('"status_code":500', '"status_code":0500'))
  t.equal(view.classifyLine(leadingZero, 0, leadingZero.length), MALFORMED, 'a number JSON does not allow makes the line malformed')
})

t.test('a completion line with trace fields is read by its layout, without JSON.parse', async (t) => {
  const view = new LineView()
  const text = formatJsonLine({
    time: Date.parse('2025-01-14T10:00:00.000Z'),
    level: 30,
    logger: 'api',
    message: 'API Response: GET /x - 200',
    origin: { module: 'plugin', function: 'onResponseClosed', line: 1 },
    requestId: 'r-1',
    trace: TRACE,
    fields: { method: 'GET', path: '/x', endpoint: '/x', status_code: 200, response_time_ms: 1.5, content_length: 2, slow_request: false }
  }).slice(0, -1)
  const buf = Buffer.from(text)
  t.equal(view.classifyLine(buf, 0, buf.length), RECORD)
  t.equal((view as unknown as { parsed: unknown }).parsed, null, 'not parsed')
  t.same(facts(view.completion), { time: '2025-01-14T10:00:00.000Z', requestId: 'r-1', method: 'GET', endpoint: '/x', path: '/x', status: 200, ms: 1.5, slow: false, level: 30 })
})
