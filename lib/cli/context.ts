import { isAbsolute, relative, resolve } from 'node:path'
import { CliError, type CommandSpec, type ParsedArgs } from './args'
import type { Output } from './output'
import { progress } from './progress'
import { scanFolder, type FolderScan, type FolderScanOptions } from './reader'

/** What a command runs with: where it writes, the clock, and how it is stopped. */
export interface CliContext extends Output {
  readonly now: () => number
  /** Ends `tail -f`; without one, SIGINT and SIGTERM do. */
  readonly signal?: AbortSignal
  /** Progress on stderr after this long (when stderr is a terminal). */
  readonly progressDelayMs?: number
  /** `report`: read on several threads from this many bytes on (tests lower it). */
  readonly parallelMinBytes?: number
  /** `report`: the size of the ranges plain files are cut into for the threads. */
  readonly rangeBytes?: number
  /** Values kept for exact percentiles per endpoint (tests lower it to reach the sketch). */
  readonly exactLimit?: number
}

export interface Command {
  readonly spec: CommandSpec
  run (args: ParsedArgs, context: CliContext): Promise<number>
}

/**
 * `--dir`, else the plugin's own `LOG_DIR` (the environment, then `.env` in the working
 * directory, then its default `logs`). Relative to the working directory when it is inside it
 * (`logs`, as people write it in messages), absolute otherwise.
 */
export function logDir (values: ParsedArgs['values']): string {
  const dir = values.dir
  if (typeof dir === 'string') {
    if (dir.trim() === '') throw new CliError('--dir needs a folder')
    return shortest(dir)
  }
  try {
    // The settings schema and its validator are loaded only when they are needed: most of a
    // short run's start-up time otherwise.
    const { loadConfig } = require('../config') as typeof import('../config')
    return shortest(loadConfig().logDir)
  } catch (err) {
    // The plugin's message names each bad setting on a line of its own: one line here.
    const message = (err as Error).message.split('\n').map((line) => line.trim()).filter((line) => line !== '').join(' ')
    throw new CliError(`cannot read LOG_DIR from the environment or .env (${message}); give the folder with --dir`)
  }
}

function shortest (dir: string): string {
  const absolute = resolve(dir)
  const inside = relative(process.cwd(), absolute)
  return inside === '' ? '.' : inside.startsWith('..') || isAbsolute(inside) ? absolute : inside
}

/** Writes each line to stderr as `api-logs: line`. */
export function warn (context: CliContext, lines: string[]): void {
  for (const line of lines) context.stderr.write(`api-logs: ${line}\n`)
}

/** Reads the folder, with a progress line on a terminal's stderr for runs of more than a second. */
export async function readLogs (context: CliContext, dir: string, options: Omit<FolderScanOptions, 'onFiles' | 'onFile' | 'onBytes'>): Promise<FolderScan> {
  const shown = progress(context.stderr, context.progressDelayMs)
  try {
    return await scanFolder(dir, { ...options, onFiles: shown.files, onFile: shown.file, onBytes: shown.add })
  } finally {
    shown.stop()
  }
}
