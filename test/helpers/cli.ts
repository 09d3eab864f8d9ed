import { writeFileSync, utimesSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { Test } from 'tap'
import { run } from '../../dist/cli/main.js'
import type { CliContext } from '../../dist/cli/context.js'
import { tempDir } from './app'
import { start, type ChildOptions, type ChildResult } from './child'

/** The plain-JavaScript generator of scripts/generate-logs.js, as the tests use it. */
export interface GeneratedRequest {
  id: string
  method: string
  endpoint: string | null
  path: string
  status: number
  ms: number
  slow: boolean
  time: number
}
interface LogRecordShape {
  time: number
  level: number
  logger: string
  message: string
  origin: { module: string, function: string, line: number }
  requestId: string | null
  fields: Record<string, unknown> | null
}
interface Generator {
  requestRecords: (options: { seed?: number, start: number, spanMs: number, requests: number, slowThresholdMs?: number }) => Iterable<{ record: LogRecordShape, request?: GeneratedRequest }>
  jsonLine: (record: LogRecordShape) => string
}
// A plain CommonJS script (also run by hand for the speed measurements); it has no type declarations.
const generator = require(resolve(__dirname, '..', '..', 'scripts', 'generate-logs.js')) as Generator

export const BIN = resolve(__dirname, '..', '..', 'bin', 'api-logs.js')

/** Lines of `requests` requests from `start` over `spanMs`, and the facts of each request. */
export function generate (options: { seed?: number, start: number, spanMs: number, requests: number, slowThresholdMs?: number }): { lines: string[], requests: GeneratedRequest[] } {
  const lines: string[] = []
  const requests: GeneratedRequest[] = []
  for (const { record, request } of generator.requestRecords(options)) {
    lines.push(generator.jsonLine(record).slice(0, -1))
    if (request !== undefined) requests.push(request)
  }
  return { lines, requests }
}

export interface FileSpec {
  /** Lines without their newline. */
  lines: string[]
  gzip?: boolean
  /** Written after the last newline, unterminated (a torn last line). */
  tail?: string
  /** Last modification time. */
  mtime?: Date
}

/** A temp folder holding the given files. */
export function logFolder (t: Test, files: Record<string, FileSpec>): string {
  const dir = tempDir(t, 'api-logs-')
  for (const [name, spec] of Object.entries(files)) {
    const text = spec.lines.map((line) => line + '\n').join('') + (spec.tail ?? '')
    const path = join(dir, name)
    writeFileSync(path, spec.gzip === true ? gzipSync(text) : text)
    if (spec.mtime !== undefined) utimesSync(path, spec.mtime, spec.mtime)
  }
  return dir
}

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs `api-logs args…` in this process (fast, and covered), capturing its output. */
export async function cli (args: string[], context: Partial<CliContext> & { tty?: boolean, stderrTty?: boolean } = {}): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  const code = await run(args, {
    stdout: { write: (text: string) => { stdout += text }, isTTY: context.tty },
    stderr: { write: (text: string) => { stderr += text }, isTTY: context.stderrTty },
    now: Date.now,
    ...context
  })
  return { code, stdout, stderr }
}

/** Runs the installed-style executable (`bin/api-logs.js`) in a child process. */
export function cliProcess (args: string[], options: ChildOptions = {}): Promise<ChildResult> {
  return start(process.execPath, [BIN, ...args], { timeoutMs: 60_000, ...options }).result
}

/** Nearest-rank percentile of the values: the value of rank ⌈q·n⌉. */
export function exactPercentile (values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]
}

/** The rows of an aligned table, split on runs of two or more spaces. */
export function tableRows (text: string): string[][] {
  return text.trimEnd().split('\n').map((line) => line.split(/\s{2,}/))
}
