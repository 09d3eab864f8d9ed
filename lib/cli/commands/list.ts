import { levelLabel } from '../../levels'
import { escapeText } from '../../format/escape'
import { nonNegativeNumber, positiveInteger, stringOption, type OptionSpec, type ParsedArgs } from '../args'
import { logDir, readLogs, warn, type CliContext, type Command } from '../context'
import { endpointMatcher, statusMatcher } from '../filters'
import type { Completion, LineView } from '../line'
import { ms, table } from '../output'
import { problems } from '../problems'
import { inWindow, timeWindow } from '../time'
import { TopN } from '../top'

const FILTERS: Record<string, OptionSpec> = {
  since: { type: 'string', value: 'WHEN', help: 'from this time: 15m, 1h, 7d, or a date (2025-01-14T10:00, UTC without a zone)' },
  until: { type: 'string', value: 'WHEN', help: 'before this time (same forms)' },
  endpoint: { type: 'string', value: 'PATTERN', help: 'only this route pattern; * matches anything: /api/videos/:id, /api/*' },
  limit: { type: 'string', value: 'N', help: 'how many records, newest first (default 20)' },
  json: { type: 'boolean', help: 'print the JSON lines as they are in the files' }
}

interface Entry {
  readonly time: string
  readonly order: number
  text: string
  cells: string[]
}

const newer = (a: Entry, b: Entry): boolean => a.time > b.time || (a.time === b.time && a.order > b.order)

function cut (text: string, max: number): string {
  const safe = escapeText(text)
  return safe.length > max ? safe.slice(0, max - 1) + '…' : safe
}

function exceptionOf (object: Record<string, unknown>): string {
  if (typeof object.exception_message !== 'string') return ''
  return (typeof object.exception_type === 'string' ? object.exception_type + ': ' : '') + object.exception_message
}

/**
 * Reads the folder and keeps the `limit` newest records `select` picks (it returns the table
 * cells of a record, or null), then prints them newest first.
 */
async function listNewest (context: CliContext, values: ParsedArgs['values'], headers: string[], right: number[], empty: string,
  select: (view: LineView, completion: Completion | null) => string[] | null): Promise<number> {
  const dir = logDir(values)
  const window = timeWindow(stringOption(values, 'since'), stringOption(values, 'until'), context.now())
  const matches = endpointMatcher(stringOption(values, 'endpoint'))
  const newest = new TopN<Entry>(positiveInteger(values, 'limit', 20), newer)
  let order = 0
  const scan = await readLogs(context, dir, {
    since: window.since,
    onRecord (view) {
      const c = view.completion
      if (matches !== null && (c === null || !matches(c.endpoint, c.path))) return
      const probe: Entry = { time: c === null ? view.time() : c.time, order: order++, text: '', cells: [] }
      if (!inWindow(window, probe.time) || !newest.wants(probe)) return
      const cells = select(view, c)
      if (cells === null) return
      probe.text = view.text()
      probe.cells = cells
      newest.add(probe)
    }
  })
  warn(context, problems(scan))
  const entries = newest.sorted()
  if (entries.length === 0) {
    context.stderr.write(`api-logs: ${empty}\n`)
  } else if (values.json === true) {
    for (const entry of entries) context.stdout.write(entry.text + '\n')
  } else {
    context.stdout.write(table(headers, entries.map((entry) => entry.cells), headers.map((_, i) => right.includes(i) ? 'right' : 'left')))
  }
  return 0
}

export const slow: Command = {
  spec: {
    name: 'slow',
    usage: '[options]',
    summary: 'Slow requests, newest first: those the plugin marked slow_request, or slower than --threshold.',
    description: '',
    positionals: 0,
    options: { threshold: { type: 'string', value: 'MS', help: 'slower than this many milliseconds (default: the slow_request field)' }, ...FILTERS }
  },
  async run ({ values }, context) {
    const threshold = values.threshold === undefined ? null : nonNegativeNumber(values, 'threshold', 0, Infinity, ' (milliseconds)')
    const what = threshold === null ? 'marked slow_request' : `slower than ${threshold} ms`
    return await listNewest(context, values, ['TIME', 'MS', 'STATUS', 'REQUEST', 'REQUEST ID'], [1, 2], `no request ${what} found`, (view, c) => {
      if (c === null || (threshold === null ? !c.slow : !(c.ms > threshold))) return null
      return [c.time, ms(c.ms), String(c.status), cut(`${c.method} ${c.path}`, 80), escapeText(c.requestId ?? '-')]
    })
  }
}

export const errors: Command = {
  spec: {
    name: 'errors',
    usage: '[options]',
    summary: 'Errors, newest first: 5xx requests and every other ERROR or CRITICAL record, or the requests of --status.',
    description: 'Without --status: requests answered 5xx, and the application\'s ERROR and CRITICAL records (failed\nlogApiCall calls, uncaught exceptions, a logger\'s error() calls). With --status: only requests.',
    positionals: 0,
    options: { status: { type: 'string', multiple: true, value: '5xx|4xx|CODE', help: 'requests answered with this status class or code (repeat, or 500,503)' }, ...FILTERS }
  },
  async run ({ values }, context) {
    const specs = values.status as string[] | undefined
    const matches = specs === undefined ? null : statusMatcher(specs)
    const headers = ['TIME', 'STATUS', 'REQUEST', 'REQUEST ID', 'ERROR']
    return await listNewest(context, values, headers, [], matches === null ? 'no error found' : `no request with status ${specs?.join(',')} found`, (view, c) => {
      if (c !== null && (matches === null ? c.status >= 500 : matches(c.status))) {
        return [c.time, String(c.status), cut(`${c.method} ${c.path}`, 70), escapeText(c.requestId ?? '-'), cut(exceptionOf(view.object()), 100)]
      }
      if (c !== null || matches !== null || view.level < 50) return null
      const object = view.object()
      const requestId = typeof object.request_id === 'string' ? object.request_id : '-'
      return [view.time(), levelLabel(view.level), cut(`[${String(object.logger)}] ${String(object.message)}`, 70), escapeText(requestId), cut(exceptionOf(object), 100)]
    })
  }
}
