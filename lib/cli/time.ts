import { CliError } from './args'

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }
const DURATION = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/
const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i

const EXPECTED = 'a duration before now (30s, 15m, 1h, 7d, 2w) or a date (2025-01-14, 2025-01-14T10:00, 2025-01-14T10:00:00Z, 2025-01-14T12:00+02:00; without a zone it is UTC)'

/**
 * `--since` / `--until`: a duration back from `now`, or a date. A date without a zone is UTC,
 * like the file's timestamps and like every time `report` prints.
 */
export function parseTime (text: string, flag: string, now: number): number {
  const trimmed = text.trim()
  const duration = DURATION.exec(trimmed)
  if (duration !== null) {
    const ms = now - Number(duration[1]) * UNITS[duration[2]]
    // Dates reach back 270,000 years; a duration past that names no time.
    if (Number.isFinite(new Date(ms).getTime()) && ms >= 0) return ms
    throw new CliError(`--${flag}: ${JSON.stringify(text)} reaches back before 1970`)
  }
  const date = DATE.exec(trimmed)
  if (date !== null) {
    const [, y, mo, d, h = '00', mi = '00', s = '00', ms = '0', zone = 'Z'] = date
    const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(ms.padEnd(3, '0')))
    const check = new Date(local)
    // Date.UTC rolls 2025-02-30 over into March: a date that does not round-trip does not exist.
    if (check.getUTCMonth() === Number(mo) - 1 && check.getUTCDate() === Number(d) && Number(h) < 24 && Number(mi) < 60 && Number(s) < 60) {
      return local - zoneOffsetMs(zone)
    }
  }
  throw new CliError(`--${flag}: ${JSON.stringify(text)} is not ${EXPECTED}`)
}

function zoneOffsetMs (zone: string): number {
  if (zone.toUpperCase() === 'Z') return 0
  const sign = zone[0] === '-' ? -1 : 1
  const digits = zone.slice(1).replace(':', '')
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000
}

/** The window of `--since` and `--until`: since included, until excluded. */
export interface TimeWindow {
  readonly since: number | null
  readonly until: number | null
  /** The bounds as the file writes timestamps, so a record is compared as a string. */
  readonly sinceIso: string | null
  readonly untilIso: string | null
}

export function timeWindow (since: string | undefined, until: string | undefined, now: number): TimeWindow {
  const from = since === undefined ? null : parseTime(since, 'since', now)
  const to = until === undefined ? null : parseTime(until, 'until', now)
  if (from !== null && to !== null && from >= to) {
    throw new CliError(`--since (${isoOf(from)}) must be before --until (${isoOf(to)})`)
  }
  return { since: from, until: to, sinceIso: from === null ? null : isoOf(from), untilIso: to === null ? null : isoOf(to) }
}

/** Whether an ISO timestamp (`2025-01-14T10:30:15.123Z`) is inside the window. */
export function inWindow (window: TimeWindow, iso: string): boolean {
  return (window.sinceIso === null || iso >= window.sinceIso) && (window.untilIso === null || iso < window.untilIso)
}

/**
 * The timestamp in the file's own format (UTC, milliseconds), or null when it is not a date.
 * Timestamps written by the plugin are already in it; this is for lines from elsewhere.
 */
export function normalizeTimestamp (value: unknown): string | null {
  if (typeof value !== 'string') return null
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) return null
  const iso = isoOf(ms)
  return iso.length === 24 ? iso : null
}

function isoOf (ms: number): string {
  return new Date(ms).toISOString()
}

/** A duration the way people say it: `15m`, `2h 5m`, `3d`. */
export function describeDuration (ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`
  const minutes = Math.round(ms / 60_000)
  if (minutes < 60) return `${minutes}m`
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return minutes % 60 === 0 ? `${hours}h` : `${hours}h ${minutes % 60}m`
  const days = Math.floor(hours / 24)
  return hours % 24 === 0 ? `${days}d` : `${days}d ${hours % 24}h`
}
