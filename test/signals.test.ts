import { Agent, request } from 'node:http'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { tempDir } from './helpers/app'
import { fixture, start } from './helpers/child'

const CONNECTIONS = 50

/** One keep-alive GET; resolves with the request id of a 200, or null once the server is gone. */
function get (agent: Agent, port: number, path: string): Promise<string | null> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode === 200 ? String(res.headers['x-request-id']) : null))
      res.on('error', () => resolve(null))
    })
    req.on('error', () => resolve(null))
    req.end()
  })
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`${signal} under load with close-with-grace: every answered request has its lines on disk`, async (t) => {
    const logDir = tempDir(t)
    const server = start(process.execPath, [fixture('graceful-server.js'), logDir], { timeoutMs: 90_000 })
    t.teardown(() => { if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL') })
    const port = Number((await server.waitForLine(/^LISTENING (\d+)$/))[1])

    const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS })
    t.teardown(() => agent.destroy())
    const answered: string[] = []
    let sent = 0
    let signalled = false
    // Each connection sends requests back to back until the server stops answering; the signal
    // goes out mid-load, after the first 3,000 answers.
    const loops = Array.from({ length: CONNECTIONS }, async () => {
      for (;;) {
        const id = await get(agent, port, `/orders/${sent++}`)
        if (id === null) return
        answered.push(id)
        if (!signalled && answered.length >= 3000) {
          signalled = true
          server.child.kill(signal)
        }
        if (sent > 200_000) return
      }
    })
    await Promise.all(loops)
    const exit = await server.result
    t.equal(exit.signal, null, `the server exited by itself (stderr: ${exit.stderr.slice(0, 300)})`)
    t.ok(signalled && answered.length >= 3000, `${answered.length} requests answered`)

    const records = readdirSync(logDir).filter((name) => name.startsWith('api_structured.jsonl'))
      .flatMap((name) => readFileSync(join(logDir, name), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { message: string, request_id: string }))
    const byId = new Map<string, string[]>()
    for (const record of records) {
      const messages = byId.get(record.request_id) ?? []
      messages.push(record.message)
      byId.set(record.request_id, messages)
    }
    const incomplete = answered.filter((id) => {
      const messages = byId.get(id) ?? []
      return !(messages.includes('validating order') && messages.includes('order saved') && messages.some((m) => /^API Response: GET \/orders\/\d+ - 200$/.test(m)))
    })
    t.same(incomplete.slice(0, 5), [], `every answered request has all its JSON lines (${incomplete.length} incomplete)`)
    const text = readdirSync(logDir).filter((name) => /^api\.log(\.\d+)?$/.test(name))
      .flatMap((name) => readFileSync(join(logDir, name), 'utf8').split('\n'))
    const textIds = new Set(text.map((line) => / API Response: GET \/orders\/\d+ - 200 request_id=(\S+)/.exec(line)?.[1]))
    t.same(answered.filter((id) => !textIds.has(id)).slice(0, 5), [], 'and its API Response line in api.log')
  })
}
