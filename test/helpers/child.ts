import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { resolve } from 'node:path'
import { ENV_NAMES } from '../../dist/index.js'

/** The package root: children `require` it (and fastify through it) by this absolute path. */
export const PACKAGE_ROOT = resolve(__dirname, '..', '..')

/** Absolute path of a script in test/fixtures. */
export function fixture (name: string): string {
  return resolve(__dirname, '..', 'fixtures', name)
}

export interface ChildResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface ChildOptions {
  /** Added to (or, when undefined, removed from) the child's environment. */
  env?: Record<string, string | undefined>
  cwd?: string
  /** The child is killed (SIGKILL) after this long; the result then shows the signal. */
  timeoutMs?: number
}

/**
 * This process's environment without the plugin's own settings (so a developer's LOG_LEVEL or
 * LOG_DIR cannot change what a fixture does), with `extra` applied on top.
 */
export function childEnv (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const name of Object.values(ENV_NAMES)) delete env[name]
  delete env.NO_COLOR
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  return env
}

export interface RunningChild {
  child: ChildProcess
  /** Everything the child wrote to stdout so far. */
  stdout (): string
  /** Resolves with the first stdout line matching `pattern`; rejects if the child exits first. */
  waitForLine (pattern: RegExp): Promise<RegExpMatchArray>
  /** Resolves when the child has exited and its pipes are drained. */
  result: Promise<ChildResult>
}

/** Starts `command args` with piped stdio. */
export function start (command: string, args: string[], options: ChildOptions = {}): RunningChild {
  const child = spawn(command, args, { cwd: options.cwd, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  let exited = false
  const listeners = new Set<() => void>()
  child.stdout?.setEncoding('utf8').on('data', (data: string) => {
    stdout += data
    for (const listener of listeners) listener()
  })
  child.stderr?.setEncoding('utf8').on('data', (data: string) => { stderr += data })
  const timer = options.timeoutMs === undefined ? null : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
  const result = new Promise<ChildResult>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => {
      exited = true
      if (timer !== null) clearTimeout(timer)
      for (const listener of listeners) listener()
      resolve({ code, signal, stdout, stderr })
    })
  })
  function waitForLine (pattern: RegExp): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        for (const line of stdout.split('\n')) {
          const match = pattern.exec(line)
          if (match !== null) {
            listeners.delete(check)
            resolve(match)
            return
          }
        }
        if (exited) {
          listeners.delete(check)
          reject(new Error(`child exited before printing ${String(pattern)}; stdout: ${stdout}; stderr: ${stderr}`))
        }
      }
      listeners.add(check)
      check()
    })
  }
  return { child, stdout: () => stdout, waitForLine, result }
}

/** Runs a fixture script with this Node binary and resolves with its exit status and output. */
export function runFixture (name: string, args: string[] = [], options: ChildOptions = {}): Promise<ChildResult> {
  return start(process.execPath, [fixture(name), ...args], { timeoutMs: 60_000, ...options }).result
}

/** Whether `command` can be run from PATH. */
export function hasCommand (command: string): boolean {
  const found = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' })
  return found.status === 0
}

/** A word quoted for sh. */
export function shellQuote (word: string): string {
  return `'${word.replace(/'/g, '\'\\\'\'')}'`
}
