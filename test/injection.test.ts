import t, { type Test } from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { connect, type AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { getLogger, logApiCall } from '../dist/index.js'
import { buildApp, tempDir, type JsonRecord } from './helpers/app'
import { start } from './helpers/child'

// Log injection: whatever a client or the application puts into a logged value, every record
// stays exactly one line in api.log, one parseable JSON line in api_structured.jsonl and one line
// on the console, and no terminal control sequence reaches a file or the terminal raw.

const PACKAGE_ROOT = resolve(__dirname, '..')
const TEXT_PREFIX = /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\] (DEBUG|INFO|WARNING|ERROR|CRITICAL) \[/
// Anything but LF that ends a line for some reader or drives a terminal: C0 (TAB included), DEL, C1, U+2028/9.
const RAW_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/

const FORGED_TEXT = '\n[2025-01-01 00:00:00] CRITICAL [api:1] forged text line request_id=forged'
const FORGED_JSON = '"}\n{"timestamp":"2025-01-01T00:00:00.000Z","level":"CRITICAL","message":"forged json line"}'
/** Each hostile sequence, alone: every one must come back intact from the JSON file. */
const HOSTILE = ['\r\n', '\u001b[2J', '\u2028', '\u2029', '\u0000', '\u007f', '\u0085', '\u009b31m', '\t', '\u000b\u000c', '\u001b]0;pwned\u0007', '\r', FORGED_TEXT, FORGED_JSON]
const ALL = HOSTILE.join('|')
// What HTTP header values may carry through inject (light-my-request does not check them).
const HEADER_HOSTILE = `ua ${ALL} end`

/** A value for an assertion message: JSON-quoted with U+2028/U+2029 escaped too (they would break the TAP stream). */
function show (value: string): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
}

function firstUnsafe (text: string): string | null {
  const match = RAW_UNSAFE.exec(text)
  if (match === null) return null
  return `U+${match[0].charCodeAt(0).toString(16).padStart(4, '0')} at ${match.index}: ${show(text.slice(Math.max(0, match.index - 60), match.index + 20))}`
}

interface Files {
  text: string[]
  json: string[]
  raw: Map<string, string>
}

function readLogs (logDir: string): Files {
  const raw = new Map<string, string>()
  for (const name of readdirSync(logDir).sort()) raw.set(name, readFileSync(join(logDir, name), 'utf8'))
  const lines = (prefix: string): string[] => [...raw].filter(([name]) => name.startsWith(prefix)).flatMap(([, text]) => text.split('\n').filter((line) => line !== ''))
  return { text: lines('api.log'), json: lines('api_structured.jsonl'), raw }
}

/** The checks every sink must pass, whatever went in. */
function assertWellFormed (t: Test, files: Files, written: { file: number, json: number }): JsonRecord[] {
  const badText = files.text.filter((line) => !TEXT_PREFIX.test(line))
  t.same(badText.slice(0, 5).map(show), [], `every api.log line starts with the record layout (${files.text.length} lines, ${badText.length} do not)`)
  t.equal(files.text.length, files.json.length, 'api.log and api_structured.jsonl hold the same number of lines')
  t.equal(files.text.length, written.file, 'api.log has exactly one line per record written')
  t.equal(files.json.length, written.json, 'api_structured.jsonl has exactly one line per record written')
  const records: JsonRecord[] = []
  const unparsable: string[] = []
  for (const line of files.json) {
    try {
      records.push(JSON.parse(line) as JsonRecord)
    } catch (err) {
      unparsable.push(`${(err as Error).message}: ${show(line.slice(0, 120))}`)
    }
  }
  t.same(unparsable, [], 'every JSON line parses')
  for (const [name, text] of files.raw) {
    t.equal(firstUnsafe(text), null, `${name} holds no raw CR, ESC, NUL, TAB, DEL, C1 or U+2028/U+2029`)
    const bytes = Buffer.from(text)
    t.notOk(bytes.includes(0x1b) || bytes.includes(0x0d) || bytes.includes(Buffer.from('\u2028')) || bytes.includes(Buffer.from('\u2029')), `${name}: no ESC, CR or E2 80 A8/A9 byte sequence`)
  }
  return records
}

async function injectionApp (t: Test, fastifyOptions = {}): Promise<{ app: FastifyInstance, logDir: string }> {
  const built = await buildApp(t, { logHeaders: true, logResponseBody: true }, fastifyOptions)
  const { app } = built
  app.route({
    method: ['GET', 'POST'],
    url: '/inj/*',
    handler: async (request, reply) => {
      const mode = request.headers['x-mode']
      if (mode === 'log') {
        request.log.info(`message ${ALL}`)
        request.log.warn({ [`key ${ALL}`]: `value ${ALL}`, nested: { 'inner\r\nkey': [`item ${ALL}`] } }, 'with fields %s', ALL)
        request.log.child({ 'bound\nkey': `bound ${ALL}` }).info('child')
        getLogger(`logger ${ALL}`).error(Object.assign(new Error(`error ${ALL}`, { cause: new Error(`cause ${ALL}`) }), { name: 'Evil\r\nName\u001b[2J' }))
        try {
          logApiCall(`op ${ALL}`, () => { throw new Error(`failed ${ALL}`) })
        } catch {
          // logged by logApiCall
        }
        request.log.info(`lone surrogate \ud800 and ${ALL}`)
      }
      if (mode === 'throw') throw Object.assign(new Error(`thrown ${ALL}`), { name: 'Thrown\nType\u001b[31m' })
      if (mode === 'throw400') throw Object.assign(new Error(`bad input ${ALL}`), { statusCode: 400 })
      if (typeof request.body === 'string') return reply.type('text/plain').send(request.body)
      return request.body ?? { url: request.url }
    }
  })
  return built
}

function rawRequest (port: number, request: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request))
    let response = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => { response += chunk })
    socket.on('close', () => resolve(response))
    socket.on('error', reject)
  })
}

t.test('hostile characters in headers, bodies, keys and application messages: one line per record, escaped not dropped', async (t) => {
  const { app, logDir } = await injectionApp(t)
  const jsonBody = { [`key ${ALL}`]: `value ${ALL}`, list: [`item ${ALL}`, { 'deep\u2028key': 'deep\u2029value' }] }

  const ua = await app.inject({ url: '/inj/ua', headers: { 'user-agent': HEADER_HOSTILE.slice(0, 250), 'x-request-id': `id ${ALL}`.slice(0, 120), 'x-custom': HEADER_HOSTILE } })
  const json = await app.inject({ method: 'POST', url: '/inj/json', payload: jsonBody, headers: { 'x-request-id': 'inj-json' } })
  const text = await app.inject({ method: 'POST', url: '/inj/text', payload: `text body ${ALL}`, headers: { 'content-type': 'text/plain', 'x-request-id': 'inj-text' } })
  const log = await app.inject({ url: '/inj/log', headers: { 'x-mode': 'log', 'x-request-id': 'inj-log' } })
  const thrown = await app.inject({ url: '/inj/throw', headers: { 'x-mode': 'throw', 'x-request-id': 'inj-throw' } })
  const bad = await app.inject({ url: '/inj/bad', headers: { 'x-mode': 'throw400', 'x-request-id': 'inj-bad' } })
  // Outside any request, with a forged request id bound.
  getLogger(`outside ${ALL}`).info({ request_id: `bound ${ALL}`, note: ALL }, `outside ${ALL}`)

  t.same([ua.statusCode, json.statusCode, text.statusCode, log.statusCode, thrown.statusCode, bad.statusCode], [200, 200, 200, 200, 500, 400])
  t.same(json.json(), jsonBody, 'the application got the body unchanged')
  t.equal(text.body, `text body ${ALL}`)

  await app.apiLogging.flush()
  const stats = app.apiLogging.stats()
  await app.close()
  const files = readLogs(logDir)
  const records = assertWellFormed(t, files, { file: stats.file.lines, json: stats.json.lines })

  const uaId = ua.headers['x-request-id'] as string
  const uaEnd = records.find((r) => r.request_id === uaId && typeof r.status_code === 'number')
  const uaStart = records.find((r) => r.request_id === uaId && r.function === 'onRequestLogger')
  t.equal(uaEnd?.user_agent, HEADER_HOSTILE.slice(0, 250), 'user_agent decodes to the original characters')
  t.equal(uaStart?.rejected_request_id, `id ${ALL}`.slice(0, 120), 'rejected_request_id decodes to the original characters')
  t.equal((uaEnd?.request_headers as Record<string, string> | undefined)?.['x-custom'], HEADER_HOSTILE.slice(0, 256) + (HEADER_HOSTILE.length > 256 ? `…[truncated ${Buffer.byteLength(HEADER_HOSTILE) - Buffer.byteLength(HEADER_HOSTILE.slice(0, 256))} bytes]` : ''), 'a header value decodes to the original characters (cut at 256)')

  const jsonEnd = records.find((r) => r.request_id === 'inj-json' && typeof r.status_code === 'number')
  t.same(jsonEnd?.request_body, jsonBody, 'JSON body keys and strings decode to the original characters')
  t.same(jsonEnd?.response_body, jsonBody, 'and so does the response body')
  const textEnd = records.find((r) => r.request_id === 'inj-text' && typeof r.status_code === 'number')
  t.equal(textEnd?.request_body, `text body ${ALL}`, 'a text body decodes to the original characters')

  const logLines = records.filter((r) => r.request_id === 'inj-log')
  const messages = logLines.map((r) => r.message)
  t.ok(messages.includes(`message ${ALL}`), 'request.log message decodes to the original characters')
  t.ok(messages.includes(`with fields ${ALL}`), '%s interpolation too')
  const withFields = logLines.find((r) => r.message === `with fields ${ALL}`)
  t.equal(withFields?.[`key ${ALL}`], `value ${ALL}`, 'a field key and value with hostile characters survive')
  t.same(withFields?.nested, { 'inner\r\nkey': [`item ${ALL}`] })
  // Logger names are cut to 128 characters.
  t.ok(logLines.some((r) => r.logger === `logger ${ALL}`.slice(0, 128) && r.exception_type === 'Evil\r\nName\u001b[2J' && r.exception_message === `error ${ALL}`), 'logger name, exception type and message survive')
  t.ok(logLines.some((r) => r.message === `API call failed: op ${ALL} - failed ${ALL}`), 'logApiCall failure message survives')
  t.ok(logLines.some((r) => r.message === `lone surrogate \ud800 and ${ALL}`), 'a lone surrogate survives JSON encoding')
  const throwEnd = records.find((r) => r.request_id === 'inj-throw' && typeof r.status_code === 'number')
  t.equal(throwEnd?.exception_type, 'Thrown\nType\u001b[31m')
  t.equal(throwEnd?.exception_message, `thrown ${ALL}`)
  t.ok(String(throwEnd?.exception).startsWith(`Thrown\nType\u001b[31m: thrown ${ALL}\n    at `), `the stack decodes to the original characters, line breaks included: ${show(String(throwEnd?.exception).slice(0, 400))}`)
  const badEnd = records.find((r) => r.request_id === 'inj-bad' && typeof r.status_code === 'number')
  t.equal(badEnd?.exception_message, `bad input ${ALL}`)
  const outside = records.find((r) => r.message === `outside ${ALL}`)
  t.equal(outside?.request_id, `bound ${ALL}`, 'a bound request_id with hostile characters survives')
  t.equal(outside?.logger, `outside ${ALL}`.slice(0, 128), 'a logger name is cut to 128 characters')

  // The text file shows the escapes.
  const textLog = files.text.find((line) => line.includes('] INFO [app:') && line.includes(' message '))
  t.ok(textLog?.includes('message \\r\\n|\\x1b[2J|\\u2028|\\u2029|\\x00|\\x7f|\\x85|\\x9b31m|\\t|\\x0b\\x0c|\\x1b]0;pwned\\x07|\\r|\\n[2025-01-01'), `api.log shows every hostile character escaped: ${textLog?.slice(0, 300)}`)
  const jsonLine = files.json.find((line) => line.includes('"request_id":"inj-log"') && line.includes('"message":"message '))
  t.ok(jsonLine?.includes('message \\r\\n|\\u001b[2J|\\u2028|\\u2029|\\u0000|\\u007f|\\u0085|\\u009b31m|\\t|\\u000b\\f|\\u001b]0;pwned\\u0007|\\r|\\n[2025-01-01'), `api_structured.jsonl escapes U+2028/9, DEL and C1 as \\u escapes: ${jsonLine?.slice(0, 300)}`)
  t.notOk(files.text.some((line) => /^\[2025-01-01 00:00:00\]/.test(line)) || files.json.some((line) => line.includes('"message":"forged json line"}') && line.startsWith('{"timestamp":"2025-01-01')), 'no forged line exists')
})

t.test('control characters in the path and query (an app that decodes its URLs) stay escaped', async (t) => {
  // rewriteUrl hands the handler (and the plugin) a decoded URL: raw CR, LF, ESC in request.url.
  const { app, logDir } = await injectionApp(t, {
    rewriteUrl: (req: { url?: string }) => {
      try {
        return decodeURIComponent(req.url ?? '/')
      } catch {
        return req.url ?? '/'
      }
    }
  })
  const hostilePath = `/inj/p${ALL.replace(/[?#]/g, '')}`
  const url = `/inj/p${encodeURIComponent(ALL.replace(/[?#]/g, ''))}?q=${encodeURIComponent(ALL)}`
  const res = await app.inject({ url, headers: { 'x-request-id': 'inj-path' } })
  t.equal(res.statusCode, 200)
  t.ok((res.json() as { url: string }).url.startsWith(hostilePath), 'the application sees the decoded URL')
  await app.apiLogging.flush()
  const stats = app.apiLogging.stats()
  await app.close()
  const files = readLogs(logDir)
  const records = assertWellFormed(t, files, { file: stats.file.lines, json: stats.json.lines })
  const [start, end] = records.filter((r) => r.request_id === 'inj-path')
  t.equal(start?.path, `${hostilePath}?q=${ALL}`, 'the path decodes to the original characters')
  t.equal(end?.message, `API Response: GET ${hostilePath}?q=${ALL} - 200`, 'and so does the message')
})

t.test('raw TCP: percent-encoded controls and bytes 0x80-0xFF in headers; refused requests leave the files well-formed', async (t) => {
  const { app, logDir } = await injectionApp(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  const high = Buffer.alloc(128)
  for (let i = 0; i < 128; i++) high[i] = 0x80 + i
  const request = (head: string, headers: Buffer[] = []): Buffer =>
    Buffer.concat([Buffer.from(head + '\r\nHost: x\r\n', 'latin1'), ...headers, Buffer.from('Connection: close\r\n\r\n', 'latin1')])
  const header = (name: string, value: Buffer): Buffer => Buffer.concat([Buffer.from(`${name}: `, 'latin1'), value, Buffer.from('\r\n', 'latin1')])

  const accepted = [
    await rawRequest(port, request('GET /inj/raw?a=%0d%0a%1b[2J%e2%80%a8 HTTP/1.1', [header('User-Agent', high), header('X-Request-ID', high)])),
    await rawRequest(port, request('GET /inj/raw2?%0a[2025-01-01%2000:00:00]%20CRITICAL%20[api:1]%20forged HTTP/1.1', [header('X-Note', high)]))
  ]
  for (const response of accepted) t.match(response, /^HTTP\/1\.1 200 /, 'percent-encoded controls and obs-text header bytes are accepted')
  // Node's parser refuses raw controls in the request line and header values: nothing to log, nothing broken.
  const refused = [
    await rawRequest(port, request('GET /inj/x\u001b[2J HTTP/1.1')),
    await rawRequest(port, request('GET /inj/x HTTP/1.1', [header('User-Agent', Buffer.from('a\u001b[2Jb', 'latin1'))])),
    await rawRequest(port, request('GET /inj/x HTTP/1.1', [header('User-Agent', Buffer.from('a\rb', 'latin1'))]))
  ]
  for (const response of refused) t.match(response, /^HTTP\/1\.1 400 /, 'raw controls are refused by the HTTP parser')

  await app.apiLogging.flush()
  const stats = app.apiLogging.stats()
  await app.close()
  const files = readLogs(logDir)
  const records = assertWellFormed(t, files, { file: stats.file.lines, json: stats.json.lines })
  const decodedHigh = high.toString('latin1')
  const end = records.find((r) => r.path === '/inj/raw?a=%0d%0a%1b[2J%e2%80%a8' && typeof r.status_code === 'number')
  t.equal(end?.user_agent, decodedHigh.slice(0, 128), 'the user agent decodes to the latin1 characters sent, C1 escaped not dropped')
  const start = records.find((r) => r.path === '/inj/raw?a=%0d%0a%1b[2J%e2%80%a8' && r.function === 'onRequestLogger')
  t.equal(start?.rejected_request_id, decodedHigh, 'the rejected request id too')
  t.ok(files.json.some((line) => line.includes('\\u0085\\u0086')), 'C1 characters are written as \\u escapes in JSON')
  t.ok(files.text.some((line) => line.includes('\\u0085\\u0086') || line.includes('\\x85\\x86')), 'and escaped in api.log')
})

t.test('console: no raw ESC or other control character reaches stdout (child process)', async (t) => {
  const dir = tempDir(t)
  const logDir = join(dir, 'logs')
  const script = `
'use strict'
const [root, logDir, hostileJson] = process.argv.slice(1)
const hostile = JSON.parse(hostileJson)
const api = require(root)
const Fastify = require(require.resolve('fastify', { paths: [root] }))
async function main () {
  const app = Fastify({ rewriteUrl: (req) => { try { return decodeURIComponent(req.url) } catch { return req.url } } })
  await app.register(api, { envFile: false, enableConsoleLogging: true, enableFileLogging: false, enableJsonLogging: true, logDir })
  app.get('/c/*', async (request) => {
    request.log.info('message ' + hostile)
    api.getLogger('logger ' + hostile).warn({ ['key ' + hostile]: hostile }, 'warn %s', hostile)
    try { api.logApiCall('op ' + hostile, () => { throw new Error('failed ' + hostile) }) } catch {}
    if (request.headers['x-throw'] === '1') throw Object.assign(new Error('thrown ' + hostile), { name: 'Evil' + hostile })
    return 'ok'
  })
  await app.inject({ url: '/c/' + encodeURIComponent(hostile), headers: { 'user-agent': 'ua ' + hostile } })
  await app.inject({ url: '/c/x?q=' + encodeURIComponent(hostile), headers: { 'x-throw': '1', 'x-request-id': 'id ' + hostile } })
  await app.close()
}
main().catch((err) => { process.stderr.write(String(err && err.stack) + '\\n'); process.exitCode = 1 })
`
  const hostile = ALL.replace(/[?#]/g, '')
  // FORCE_COLOR and NO_COLOR unset: stdout is a pipe, so no color codes either.
  const result = await start(process.execPath, ['-e', script, PACKAGE_ROOT, logDir, JSON.stringify(hostile)], { timeoutMs: 60_000, env: { FORCE_COLOR: undefined } }).result
  t.equal(result.code, 0, `the child exits cleanly: ${result.stderr.slice(0, 500)}`)
  const out = result.stdout
  t.notOk(out.includes('\u001b'), 'stdout holds no ESC byte')
  t.equal(firstUnsafe(out), null, 'stdout holds no raw control character but LF')
  const lines = out.split('\n').filter((line) => line !== '')
  const jsonLines = readFileSync(join(logDir, 'api_structured.jsonl'), 'utf8').split('\n').filter((line) => line !== '')
  t.ok(lines.length >= 10, `the console shows the records (${lines.length} lines)`)
  t.equal(lines.length, jsonLines.length, 'one console line per record')
  t.same(lines.filter((line) => !TEXT_PREFIX.test(line)).slice(0, 3), [], 'every console line starts with the layout')
  t.ok(lines.some((line) => line.includes('message \\r\\n|\\x1b[2J|\\u2028')), 'the console shows the escapes')
})
