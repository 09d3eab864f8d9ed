import type { Test } from 'tap'
import { createServer as createHttpServer } from 'node:http'
import { createServer as createTcpServer, type AddressInfo } from 'node:net'

/**
 * Local stand-ins for remote log destinations, for contract tests of the pino transports: what
 * a transport sends them is what it would send the real service, over the same protocol.
 */

/** A TCP server that splits what it receives into lines (what pino-socket sends a syslog or Logstash TCP input). */
export async function tcpLineReceiver (t: Test): Promise<{ port: number, lines: string[] }> {
  const lines: string[] = []
  const server = createTcpServer((socket) => {
    let buffered = ''
    socket.setEncoding('utf8')
    socket.on('data', (data: string) => {
      buffered += data
      for (let at = buffered.indexOf('\n'); at !== -1; at = buffered.indexOf('\n')) {
        lines.push(buffered.slice(0, at))
        buffered = buffered.slice(at + 1)
      }
    })
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { port: (server.address() as AddressInfo).port, lines }
}

/** One OTLP/JSON log record, as the OTLP/HTTP exporter posts it to `/v1/logs`. */
export interface OtlpLogRecord {
  timeUnixNano: string | number
  severityNumber: number
  severityText: string
  body: { stringValue?: string }
  attributes: Array<{ key: string, value: Record<string, unknown> }>
  traceId?: string
  spanId?: string
  flags?: number
}

/** An OTLP/HTTP receiver (the OpenTelemetry Collector's `otlp` receiver with `http` and JSON encoding). */
export async function otlpHttpReceiver (t: Test): Promise<{ url: string, records: OtlpLogRecord[], resources: Array<Record<string, unknown>> }> {
  const records: OtlpLogRecord[] = []
  const resources: Array<Record<string, unknown>> = []
  const server = createHttpServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (data: string) => { body += data })
    req.on('end', () => {
      if (req.url === '/v1/logs' && req.method === 'POST') {
        const payload = JSON.parse(body) as { resourceLogs: Array<{ resource: Record<string, unknown>, scopeLogs: Array<{ logRecords: OtlpLogRecord[] }> }> }
        for (const resourceLog of payload.resourceLogs) {
          resources.push(resourceLog.resource)
          for (const scopeLog of resourceLog.scopeLogs) records.push(...scopeLog.logRecords)
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs`, records, resources }
}

/** An OTLP attribute value as a plain value. */
export function attributeValue (value: Record<string, unknown>): unknown {
  if ('stringValue' in value) return value.stringValue
  if ('intValue' in value) return Number(value.intValue)
  if ('doubleValue' in value) return value.doubleValue
  if ('boolValue' in value) return value.boolValue
  return value
}
