/** Canonical level names, as accepted in `LOG_LEVEL` after case folding and aliasing. */
export const LEVEL_NAMES = ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL', 'SILENT'] as const
/** A canonical level name, as `config.level` holds it. */
export type LevelName = typeof LEVEL_NAMES[number]

/** What users may write in `LOG_LEVEL` / `level`, any case: the Python-style names and pino's. */
export const ACCEPTED_LEVELS = 'DEBUG, INFO, WARNING, ERROR, CRITICAL, trace, debug, info, warn, error, fatal, silent (any case)'

const ALIASES: Record<string, LevelName> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  warning: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
  critical: 'CRITICAL',
  silent: 'SILENT'
}

/** pino's numeric levels, so pino loggers and our own lines compare on one scale. */
export const LEVEL_VALUES: Record<LevelName, number> = {
  TRACE: 10,
  DEBUG: 20,
  INFO: 30,
  WARNING: 40,
  ERROR: 50,
  CRITICAL: 60,
  SILENT: Infinity
}

export const TRACE = 10
export const DEBUG = 20
export const INFO = 30
export const WARNING = 40
export const ERROR = 50
export const CRITICAL = 60

/**
 * Returns the canonical name for a user-written level, or undefined when it is not one.
 */
export function normalizeLevel (value: unknown): LevelName | undefined {
  if (typeof value !== 'string') return undefined
  return ALIASES[value.trim().toLowerCase()]
}

// Records carry one of five labels so shippers can rely on a closed set; trace lines read DEBUG.
const LABELS: Record<number, string> = { 10: 'DEBUG', 20: 'DEBUG', 30: 'INFO', 40: 'WARNING', 50: 'ERROR', 60: 'CRITICAL' }

export function levelLabel (value: number): string {
  return LABELS[value] ?? (value >= CRITICAL ? 'CRITICAL' : value >= ERROR ? 'ERROR' : value >= WARNING ? 'WARNING' : value >= INFO ? 'INFO' : 'DEBUG')
}

/** What the typed `level` option takes: the canonical names, lower case, and pino's `warn`/`fatal`. */
export type LevelInput = LevelName | Lowercase<LevelName> | 'warn' | 'fatal' | 'WARN' | 'FATAL'

/** pino's name for a minimum level: `info` for 30, `silent` for Infinity. */
export function pinoLevelOf (minLevel: number): string {
  if (minLevel === Infinity) return 'silent'
  return PINO_LABELS[minLevel] ?? 'info'
}

const PINO_LABELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }
