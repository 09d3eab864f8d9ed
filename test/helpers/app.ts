import type { Test } from 'tap'
import { mkdtempSync, readFileSync, readdirSync, existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import apiLogging, { type ApiLoggingOptions } from '../../dist/index.js'

/** A fresh directory under the OS temp dir, removed when the test ends. */
export function tempDir (t: Test, prefix = 'api-logging-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/**
 * A Fastify app with the plugin registered, writing to a temp `logDir`, console off (tap reads
 * this process's stdout as TAP). Closed when the test ends.
 */
export async function buildApp (t: Test, options: ApiLoggingOptions = {}, fastifyOptions: FastifyServerOptions = {}): Promise<{ app: FastifyInstance, logDir: string }> {
  const logDir = options.logDir ?? tempDir(t)
  const app = Fastify(fastifyOptions)
  t.teardown(() => app.close())
  await app.register(apiLogging, { envFile: false, enableConsoleLogging: false, ...options, logDir })
  return { app, logDir }
}

export interface JsonRecord {
  timestamp: string
  level: string
  logger: string
  message: string
  module: string
  function: string
  line: number
  request_id: string | null
  [key: string]: unknown
}

/** Every line of `api_structured.jsonl`, parsed; a line that does not parse fails the caller. */
export function readJsonLines (logDir: string, file = 'api_structured.jsonl'): JsonRecord[] {
  const path = join(logDir, file)
  if (!existsSync(path)) return []
  const text = readFileSync(path, 'utf8')
  return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as JsonRecord)
}

/** Every line of `api.log`. */
export function readTextLines (logDir: string, file = 'api.log'): string[] {
  const path = join(logDir, file)
  if (!existsSync(path)) return []
  return readFileSync(path, 'utf8').split('\n').filter((line) => line !== '')
}

/** The files of a directory, sorted, without the hidden lock files of open log files. */
export function listFiles (dir: string): string[] {
  return readdirSync(dir).filter((name) => !name.endsWith('.lock') || !name.startsWith('.')).sort()
}

/** Flushes the app's sinks, then reads the JSON lines of one request. */
export async function linesOf (app: FastifyInstance, logDir: string, requestId: string): Promise<JsonRecord[]> {
  await app.apiLogging.flush()
  return readJsonLines(logDir).filter((record) => record.request_id === requestId)
}

/** Polls until `done()` holds; fails the test after `timeoutMs`. */
export async function waitFor (t: Test, what: string, done: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) {
      t.fail(`timed out waiting for ${what}`)
      return false
    }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return true
}
