import { parseArgs } from 'node:util'

/** Exit status of a run that could not start: a bad flag, a bad value, a missing folder. */
export const EXIT_USAGE = 2

/** An error the CLI reports as one line on stderr, then exits with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: number
  constructor (message: string, exitCode = EXIT_USAGE) {
    super(message)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}

export interface OptionSpec {
  readonly type: 'string' | 'boolean'
  readonly short?: string
  readonly multiple?: boolean
  /** Shown after the flag in the help: `--since WHEN`. */
  readonly value?: string
  readonly help: string
}

export interface CommandSpec {
  readonly name: string
  /** The rest of the usage line: `<request-id> [options]`. */
  readonly usage: string
  readonly summary: string
  /** Paragraphs printed under the usage line. */
  readonly description: string
  readonly options: Readonly<Record<string, OptionSpec>>
  /** How many positional arguments it takes. */
  readonly positionals: number
}

export interface ParsedArgs {
  readonly values: Record<string, string | boolean | string[] | undefined>
  readonly positionals: string[]
}

/** The options every command takes. */
export const COMMON_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  dir: { type: 'string', value: 'DIR', help: 'log folder (default: LOG_DIR from the environment or .env, else logs)' },
  help: { type: 'boolean', short: 'h', help: 'show this help' }
}

/**
 * `node:util` parseArgs, strict, with its errors turned into one line that names the command.
 * `--help` wins over a missing positional, so `api-logs trace --help` always helps.
 */
export function parseCommandArgs (spec: CommandSpec, argv: string[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean', short?: string, multiple?: boolean }> = {}
  for (const [name, option] of Object.entries({ ...spec.options, ...COMMON_OPTIONS })) {
    options[name] = { type: option.type, ...(option.short === undefined ? {} : { short: option.short }), ...(option.multiple === true ? { multiple: true } : {}) }
  }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
  } catch (err) {
    throw new CliError(`${spec.name}: ${parseError(err)} (api-logs ${spec.name} --help lists the options)`)
  }
  const values = parsed.values as ParsedArgs['values']
  if (values.help !== true && parsed.positionals.length !== spec.positionals) {
    const wanted = spec.positionals === 0 ? 'takes no argument' : `takes ${spec.positionals === 1 ? 'one argument' : `${spec.positionals} arguments`}: ${spec.usage.replace(/\s*\[options\]$/, '')}`
    throw new CliError(`${spec.name} ${wanted}${parsed.positionals.length > spec.positionals ? `, not ${parsed.positionals.slice(spec.positionals).map((p) => JSON.stringify(p)).join(' ')}` : ''}`)
  }
  return { values, positionals: parsed.positionals }
}

// parseArgs explains itself in a sentence or two ("Unknown option '--x'. To specify a positional
// argument starting with a '-', …"); the first sentence is the one line we keep.
function parseError (err: unknown): string {
  const first = (err as Error).message.split(/\.(?:\s|$)/)[0]
  return first.charAt(0).toLowerCase() + first.slice(1)
}

/** The help of one command, from its spec. */
export function commandHelp (spec: CommandSpec): string {
  const rows = Object.entries({ ...spec.options, ...COMMON_OPTIONS }).map(([name, option]) => {
    const flag = (option.short === undefined ? '    ' : `-${option.short}, `) + `--${name}` + (option.value === undefined ? '' : ` ${option.value}`)
    return [flag, option.help]
  })
  const width = Math.max(...rows.map(([flag]) => flag.length))
  return `Usage: api-logs ${spec.name} ${spec.usage}\n\n${spec.summary}\n\n${spec.description}${spec.description === '' ? '' : '\n\n'}Options:\n` +
    rows.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`).join('\n') + '\n'
}

function valueOf (values: ParsedArgs['values'], name: string): string | undefined {
  const value = values[name]
  return typeof value === 'string' ? value : undefined
}

/** A whole number ≥ 1 (`--limit`), or `fallback` when the flag is absent. */
export function positiveInteger (values: ParsedArgs['values'], name: string, fallback: number): number {
  const text = valueOf(values, name)
  if (text === undefined) return fallback
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new CliError(`--${name} must be a whole number of 1 or more, not ${JSON.stringify(text)}`)
  }
  return Number(text)
}

/** A number ≥ 0, within `max` when given (`--threshold`, `--error-rate`). */
export function nonNegativeNumber (values: ParsedArgs['values'], name: string, fallback: number, max = Infinity, unit = ''): number {
  const text = valueOf(values, name)
  if (text === undefined) return fallback
  const trimmed = text.trim().replace(/%$/, '')
  const value = /^\d+(?:\.\d+)?$|^\.\d+$/.test(trimmed) ? Number(trimmed) : NaN
  if (!(value >= 0 && value <= max)) {
    throw new CliError(`--${name} must be a number${max === Infinity ? ' of 0 or more' : ` from 0 to ${max}`}${unit}, not ${JSON.stringify(text)}`)
  }
  return value
}

/** A string option's value, or undefined. */
export function stringOption (values: ParsedArgs['values'], name: string): string | undefined {
  const text = valueOf(values, name)
  if (text !== undefined && text.trim() === '') throw new CliError(`--${name} needs a value`)
  return text
}
