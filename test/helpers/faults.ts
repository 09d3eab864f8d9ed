import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import type { JsonRecord } from './app'
import { childEnv, fixture } from './child'

/** `api.log` (and a worker's `api.w2.log`) and their rotations, without the lock files. */
export const TEXT_FILES = /^api(\.w\d+)?\.log(\.\d+|\.pending\.\d+)?$/
/** `api_structured.jsonl` (and a worker's) and the dated files. */
export const JSON_FILES = /^api_structured(\.w\d+)?\.jsonl(\.\d{4}-\d{2}-\d{2}(\.\d+)?)?$/
/** The layout of an api.log line: `[2025-01-14 10:30:15] INFO [api:125] message ...`. */
export const TEXT_LINE = /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\] (TRACE|DEBUG|INFO|WARNING|ERROR|CRITICAL) \[[^\]\s]+:\d+\] \S/

/** Whether this process may mount filesystems and switch users (root on Linux). */
export function isRoot (): boolean {
  return process.platform === 'linux' && process.getuid?.() === 0
}

/** Names in `dir` matching `pattern`, sorted. */
export function filesIn (dir: string, pattern: RegExp): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((name) => pattern.test(name)).sort() : []
}

/** The lines of one file; the file must end with a newline (no torn last line). */
function wholeLines (t: Test, path: string): string[] {
  const text = readFileSync(path, 'utf8')
  if (text === '') return []
  if (!text.endsWith('\n')) t.fail(`${path} ends with a torn line: ${JSON.stringify(text.slice(-80))}`)
  return text.slice(0, -1).split('\n')
}

/** Every JSON line of every JSON file in `dir`; a line that is not whole or does not parse fails the test. */
export function jsonLines (t: Test, dir: string, pattern = JSON_FILES): JsonRecord[] {
  const records: JsonRecord[] = []
  let bad = 0
  for (const name of filesIn(dir, pattern)) {
    for (const line of wholeLines(t, join(dir, name))) {
      try {
        records.push(JSON.parse(line) as JsonRecord)
      } catch {
        if (bad++ < 3) t.fail(`${name}: a line that does not parse: ${JSON.stringify(line.slice(0, 200))}`)
      }
    }
  }
  return records
}

/** Every line of every api.log file in `dir`; a line that is not whole or not in the layout fails the test. */
export function textLines (t: Test, dir: string, pattern = TEXT_FILES): string[] {
  const lines: string[] = []
  let bad = 0
  for (const name of filesIn(dir, pattern)) {
    for (const line of wholeLines(t, join(dir, name))) {
      if (!TEXT_LINE.test(line) && bad++ < 3) t.fail(`${name}: a line not in the api.log layout: ${JSON.stringify(line.slice(0, 200))}`)
      lines.push(line)
    }
  }
  return lines
}

/** Total size of the files of `dir` matching `pattern`. */
export function bytesIn (dir: string, pattern: RegExp): number {
  return filesIn(dir, pattern).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0)
}

export interface Answer {
  readonly status: number
  readonly id: string
  /** When the answer arrived (performance.now()). */
  readonly at: number
}

export interface LoadOptions {
  connections?: number
  /** Pause of each connection between two requests. */
  pauseMs?: number
  path?: (n: number) => string
}

/**
 * HTTP load on real sockets: `connections` keep-alive loops, each sending its next request once
 * the previous one is answered. `stop()` lets the requests in flight finish.
 */
export class Load {
  readonly answers: Answer[] = []
  /** Requests that got no answer at all (a connection error). */
  failures = 0
  sent = 0
  private stopped = false
  private readonly agent: Agent
  private readonly loops: Array<Promise<void>>

  constructor (port: number, options: LoadOptions = {}) {
    const connections = options.connections ?? 10
    const path = options.path ?? ((n) => `/r/${n}`)
    this.agent = new Agent({ keepAlive: true, maxSockets: connections })
    this.loops = Array.from({ length: connections }, async () => {
      while (!this.stopped) {
        const answer = await this.get(port, path(this.sent++))
        if (answer === null) this.failures++
        else this.answers.push(answer)
        if (options.pauseMs !== undefined) await sleep(options.pauseMs)
      }
    })
  }

  /**
   * Keeps the load on for at least `minMs`, then until `enough()` holds (checked every 100 ms) or
   * `maxMs` have passed: a test that needs so many answers or rotations gets them on a slow or
   * busy machine too, instead of asserting what a fixed time gives on a quiet one.
   */
  async runUntil (enough: () => boolean, minMs = 1500, maxMs = 20_000): Promise<void> {
    const started = performance.now()
    await sleep(minMs)
    while (!enough() && performance.now() - started < maxMs) await sleep(100)
  }

  async stop (): Promise<void> {
    this.stopped = true
    await Promise.all(this.loops)
    this.agent.destroy()
  }

  private get (port: number, path: string): Promise<Answer | null> {
    return new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path, agent: this.agent }, (res) => {
        res.resume()
        res.on('end', () => resolve({ status: res.statusCode ?? 0, id: String(res.headers['x-request-id']), at: performance.now() }))
        res.on('error', () => resolve(null))
      })
      req.on('error', () => resolve(null))
      req.end()
    })
  }
}

/** Polls until `done()` holds; returns the milliseconds it took, or Infinity after `timeoutMs`. */
export async function timeUntil (done: () => boolean, timeoutMs = 5000): Promise<number> {
  const start = performance.now()
  while (!done()) {
    if (performance.now() - start > timeoutMs) return Infinity
    await sleep(5)
  }
  return performance.now() - start
}

/** Runs a command, for the test's own fault injection (mount, rm, mv); throws with its stderr. */
export function sh (command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Whether `command` runs here. */
export function can (command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0
}

/** Captures this process's warnings of the given codes. */
export function captureWarnings (t: Test, ...codes: string[]): Array<{ code: string, message: string }> {
  const seen: Array<{ code: string, message: string }> = []
  const onWarning = (warning: Error & { code?: string }): void => {
    if (warning.code !== undefined && codes.includes(warning.code)) seen.push({ code: warning.code, message: warning.message })
  }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  return seen
}

export interface ServerChild {
  readonly child: ChildProcess
  readonly port: number
  /** Sends an IPC command to the fixture and resolves with its reply. */
  ask<T = Record<string, unknown>> (cmd: string): Promise<T>
  /** Resolves with how the child ended, and its stderr. */
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null, stderr: string }>
}

export interface ServerOptions {
  /** Run the child as nobody (uid and gid 65534) through setpriv. */
  asNobody?: boolean
  script?: string
}

/** Starts a fixture server (fault-server.js by default) with `env` added to a clean environment. */
export async function startServer (t: Test, env: Record<string, string>, options: ServerOptions = {}): Promise<ServerChild> {
  const script = fixture(options.script ?? 'fault-server.js')
  const command = options.asNobody === true ? 'setpriv' : process.execPath
  const args = options.asNobody === true ? ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, script] : [script]
  const child = spawn(command, args, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let stdout = ''
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (data: string) => { stderr += data })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null, stderr: string }>((resolve) => {
    child.once('exit', (code, signal) => {
      // stderr may still be draining.
      setTimeout(() => resolve({ code, signal, stderr }), 50)
    })
  })
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (data: string) => {
      stdout += data
      const match = /^LISTENING (\d+)$/m.exec(stdout)
      if (match !== null) resolve(Number(match[1]))
    })
    child.once('exit', () => reject(new Error(`the server exited before listening: ${stderr}`)))
  })
  const replies: Array<(reply: unknown) => void> = []
  child.on('message', (reply) => replies.shift()?.(reply))
  function ask<T> (cmd: string): Promise<T> {
    return new Promise((resolve) => {
      replies.push(resolve as (reply: unknown) => void)
      child.send({ cmd })
    })
  }
  return { child, port, ask, exited }
}
