import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CliError, commandHelp, EXIT_USAGE, parseCommandArgs } from './args'
import type { CliContext, Command } from './context'

// Each command's module is loaded when it runs: a short run spends much of its time loading code.
const LOADERS: ReadonlyArray<readonly [string, () => Command]> = [
  ['trace', () => (require('./commands/trace') as typeof import('./commands/trace')).trace],
  ['report', () => (require('./commands/report') as typeof import('./commands/report')).report],
  ['slow', () => (require('./commands/list') as typeof import('./commands/list')).slow],
  ['errors', () => (require('./commands/list') as typeof import('./commands/list')).errors],
  ['check', () => (require('./commands/check') as typeof import('./commands/check')).check],
  ['tail', () => (require('./commands/tail') as typeof import('./commands/tail')).tail]
]
const NAMES = LOADERS.map(([name]) => name)

function load (name: string | undefined): Command | undefined {
  return LOADERS.find(([candidate]) => candidate === name)?.[1]()
}

function version (): string {
  // dist/cli/main.js → the package's own package.json
  return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version
}

function generalHelp (): string {
  const COMMANDS = LOADERS.map(([, loader]) => loader())
  const width = Math.max(...COMMANDS.map((command) => command.spec.name.length))
  return 'Usage: api-logs <command> [options]\n\n' +
    'Answers questions about the JSON logs of fastify-api-logging (api_structured.jsonl, its dated\n' +
    'backups and their .gz copies) without loading them into memory.\n\n' +
    'Commands:\n' +
    COMMANDS.map((command) => `  ${command.spec.name.padEnd(width)}  ${command.spec.summary}`).join('\n') + '\n\n' +
    'Every command takes --dir DIR (default: LOG_DIR from the environment or .env, else logs) and --help.\n' +
    'api-logs <command> --help shows its options. Documentation: docs/cli.md of fastify-api-logging.\n'
}

/** Runs one command line; resolves with the exit status. Every failure is one line on stderr. */
export async function run (argv: string[], context: CliContext): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? load(rest[0]) : undefined
    context.stdout.write(topic === undefined ? generalHelp() : commandHelp(topic.spec))
    return name === undefined ? EXIT_USAGE : 0
  }
  if (name === '--version' || name === '-v') {
    context.stdout.write(version() + '\n')
    return 0
  }
  const command = load(name)
  try {
    if (command === undefined) {
      throw new CliError(`unknown command ${JSON.stringify(name)}; the commands are ${NAMES.join(', ')} (api-logs --help)`)
    }
    const args = parseCommandArgs(command.spec, rest)
    if (args.values.help === true) {
      context.stdout.write(commandHelp(command.spec))
      return 0
    }
    return await command.run(args, context)
  } catch (err) {
    if (err instanceof CliError) {
      context.stderr.write(`api-logs: ${err.message}\n`)
      return err.exitCode
    }
    context.stderr.write(`api-logs: ${(err as Error).stack ?? String(err)}\n`)
    return 1
  }
}

/** The `api-logs` executable. */
export function main (): void {
  // A reader that goes away (`api-logs trace … | head -1`) ends the run quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 0 : 1))
  run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, now: Date.now }).then((code) => {
    process.exitCode = code
  })
}
