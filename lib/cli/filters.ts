import { LEVEL_VALUES, normalizeLevel } from '../levels'
import { CliError } from './args'

/**
 * `--endpoint PATTERN`: a route pattern as the file writes it (`/api/tracks/:id`), where `*`
 * matches anything and a `:name` segment matches any one segment. It is matched against a
 * record's `endpoint`, or, when the record has none (start lines, 404s), against its `path`
 * without the query string: `/api/tracks/:id` finds `/api/tracks/7` too.
 */
export function endpointMatcher (pattern: string | undefined): ((endpoint: string | null, path: string) => boolean) | null {
  if (pattern === undefined) return null
  const source = pattern.split(/(\*|(?<=^|\/):[^/]+)/).map((part, i) => {
    if (i % 2 === 0) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    return part === '*' ? '.*' : '[^/]+'
  }).join('')
  const regex = new RegExp(`^${source}$`)
  const cache = new Map<string, boolean>()
  return function matches (endpoint, path) {
    const subject = endpoint ?? stripQuery(path)
    let hit = cache.get(subject)
    if (hit === undefined) {
      hit = regex.test(subject)
      if (cache.size < 10_000) cache.set(subject, hit)
    }
    return hit
  }
}

function stripQuery (path: string): string {
  const q = path.indexOf('?')
  return q === -1 ? path : path.slice(0, q)
}

/** `--status 5xx|4xx|CODE`, several allowed: a test on a status code. */
export function statusMatcher (specs: string[]): (status: number) => boolean {
  const tests = specs.flatMap((spec) => spec.split(',')).map((raw) => {
    const spec = raw.trim().toLowerCase()
    const klass = /^([1-5])xx$/.exec(spec)
    if (klass !== null) {
      const low = Number(klass[1]) * 100
      return (status: number) => status >= low && status < low + 100
    }
    if (/^[1-5]\d\d$/.test(spec)) {
      const code = Number(spec)
      return (status: number) => status === code
    }
    throw new CliError(`--status: ${JSON.stringify(raw)} is not a status class (4xx, 5xx) or a code (503)`)
  })
  return (status) => tests.some((test) => test(status))
}

/** `--level WARNING`: the lowest level shown, in the plugin's names or pino's, any case. */
export function minimumLevel (text: string | undefined): number {
  if (text === undefined) return 0
  const name = normalizeLevel(text)
  if (name === undefined || name === 'SILENT') {
    throw new CliError(`--level: ${JSON.stringify(text)} is not a level (DEBUG, INFO, WARNING, ERROR, CRITICAL)`)
  }
  return LEVEL_VALUES[name]
}
