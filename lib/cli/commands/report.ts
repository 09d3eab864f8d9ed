import { constants } from 'node:fs'
import { availableParallelism } from 'node:os'
import { access, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { CliError, positiveInteger, stringOption, type CommandSpec } from '../args'
import { logDir, warn, type Command } from '../context'
import { EXACT_LIMIT, RELATIVE_ACCURACY } from '../latency'
import { bytes, count, csvLine, ms, percent, plural, table } from '../output'
import { lineCounts, problems, type LineCounts } from '../problems'
import { planUnits, runUnits, type UnitResult } from '../parallel'
import { progress } from '../progress'
import { filesToRead, joinScans, type FileScan, type FolderScan } from '../reader'
import { runUnit, type ReportUnitOptions } from '../report-unit'
import { ReportStats, type ReportRow, type ReportStatsData, type RequestSummary } from '../stats'
import { timeWindow } from '../time'
import type { TimelineBin } from '../timeline'
import { escapeText } from '../../format/escape'

const spec: CommandSpec = {
  name: 'report',
  usage: '[options]',
  summary: 'Per endpoint and method: requests, 4xx and 5xx, slow requests, response times (avg, p50, p95, p99, max); totals; the slowest requests.',
  description: 'Reads api_structured.jsonl, its dated backups and their .gz copies. One request is one completion line\n' +
    '(API Response, API Error or API Request Aborted). Percentiles are nearest-rank, exact up to ' + count(EXACT_LIMIT) + ' requests\nper endpoint, ' +
    `then from a DDSketch within ${RELATIVE_ACCURACY * 100}% (marked ~).`,
  positionals: 0,
  options: {
    since: { type: 'string', value: 'WHEN', help: 'from this time: 15m, 1h, 7d, or a date (2025-01-14T10:00, UTC without a zone)' },
    until: { type: 'string', value: 'WHEN', help: 'before this time (same forms)' },
    endpoint: { type: 'string', value: 'PATTERN', help: 'only this route pattern; * matches anything: /api/videos/:id, /api/*' },
    top: { type: 'string', value: 'N', help: 'how many of the slowest requests to list (default 10)' },
    json: { type: 'boolean', help: 'the report as one JSON document' },
    csv: { type: 'boolean', help: 'one CSV row per endpoint, and the total' },
    html: { type: 'string', value: 'FILE', help: 'write the report as a self-contained HTML page with charts' },
    jobs: { type: 'string', value: 'N', help: 'threads reading a folder of 256 MB or more (default 2, or 1 on one core)' }
  }
}

/**
 * Below this many bytes to read, one thread does it all, whatever --jobs says: on a 113 MB file a
 * second thread (its start, and its code compiled again) cost as much as it saved.
 */
const PARALLEL_MIN_BYTES = 256 << 20
/** Plain files are cut into ranges of about this size, for the threads to share. */
const RANGE_BYTES = 32 << 20

/** Everything the report shows, in every format. */
export interface ReportModel {
  readonly dir: string
  readonly generatedAt: string
  readonly window: { readonly since: string | null, readonly until: string | null }
  readonly endpointPattern: string | null
  /** Times of the first and last request counted. */
  readonly first: string | null
  readonly last: string | null
  readonly files: Array<{ readonly name: string, readonly bytes: number, readonly records: number }>
  readonly lines: LineCounts
  readonly problems: string[]
  readonly totals: ReportRow
  readonly endpoints: ReportRow[]
  readonly slowest: RequestSummary[]
  readonly percentiles: { readonly rank: 'nearest'; readonly exactUpTo: number, readonly sketch: 'DDSketch', readonly relativeAccuracy: number }
  readonly timeline: { readonly binMinutes: number, readonly bins: TimelineBin[] } | null
}

export const report: Command = {
  spec,
  async run ({ values }, context) {
    const formats = ['json', 'csv', 'html'].filter((name) => values[name] !== undefined)
    if (formats.length > 1) throw new CliError(`report: choose one of --json, --csv and --html, not ${formats.map((f) => '--' + f).join(' and ')}`)
    const dir = logDir(values)
    const now = context.now()
    const window = timeWindow(stringOption(values, 'since'), stringOption(values, 'until'), now)
    const pattern = stringOption(values, 'endpoint')
    const html = stringOption(values, 'html')
    // Before reading the folder: a gigabyte read for a page that cannot be written is a long wait for nothing.
    if (html !== undefined) await access(dirname(resolve(html)), constants.W_OK).catch((err: Error) => { throw new CliError(`--html: cannot write ${resolve(html)}: ${err.message}`) })
    // Two threads where there are two cores: a second one took a third off the time on a 1 GB
    // folder for about 50 MB (docs/cli.md); more only when asked for, each costs as much memory.
    const jobs = positiveInteger(values, 'jobs', Math.min(2, availableParallelism()))
    const options: ReportUnitOptions = { window, endpoint: pattern ?? null, slowest: positiveInteger(values, 'top', 10), timeline: html !== undefined, exactLimit: context.exactLimit }
    const { files, skipped, duplicates } = await filesToRead(dir, window.since)
    const total = files.reduce((sum, file) => sum + file.size, 0)
    // Threads pay for themselves on large folders only (starting one costs tens of milliseconds).
    const parallel = jobs > 1 && total >= (context.parallelMinBytes ?? PARALLEL_MIN_BYTES)
    const units = planUnits(files, parallel ? context.rangeBytes ?? RANGE_BYTES : Infinity)
    const shown = progress(context.stderr, context.progressDelayMs)
    shown.files(files)
    let results: Array<UnitResult<ReportStatsData>>
    try {
      results = await runUnits(units, parallel ? jobs : 1, { module: join(__dirname, '..', 'report-unit.js'), options }, runUnit, shown.add)
    } finally {
      shown.stop()
    }
    const stats = new ReportStats(options)
    const scans: FileScan[] = []
    for (const file of files) {
      const parts = results.filter((_, i) => units[i].file === file)
      for (const part of parts) stats.merge(part.data)
      scans.push(joinScans(parts.map((part) => part.scan)))
    }
    const scan: FolderScan = { dir, scans, skipped, duplicates }
    const model: ReportModel = {
      dir,
      generatedAt: new Date(now).toISOString(),
      window: { since: window.sinceIso, until: window.untilIso },
      endpointPattern: pattern ?? null,
      first: stats.first,
      last: stats.last,
      files: scan.scans.map((file) => ({ name: file.file.name, bytes: file.file.size, records: file.records })),
      lines: lineCounts(scan),
      problems: problems(scan),
      totals: stats.totals(),
      endpoints: stats.rows(),
      slowest: stats.slowestRequests(),
      percentiles: { rank: 'nearest', exactUpTo: EXACT_LIMIT, sketch: 'DDSketch', relativeAccuracy: RELATIVE_ACCURACY },
      timeline: stats.timeline === null ? null : { binMinutes: stats.timeline.width, bins: stats.series() }
    }
    warn(context, model.problems)
    if (html !== undefined) {
      const path = resolve(html)
      const page = (require('../html') as typeof import('../html')).renderHtml(model)
      try {
        await writeFile(path, page)
      } catch (err) {
        throw new CliError(`--html: cannot write ${path}: ${(err as Error).message}`)
      }
      context.stdout.write(`wrote ${html} (${bytes(Buffer.byteLength(page))}, ${plural(model.totals.requests, 'request')})\n`)
    } else if (values.json === true) {
      context.stdout.write(JSON.stringify(model, jsonNumbers, 2) + '\n')
    } else if (values.csv === true) {
      context.stdout.write(renderCsv(model))
    } else {
      context.stdout.write(renderText(model))
    }
    return 0
  }
}

// NaN (no request) is null in JSON, and milliseconds keep the files' two decimals.
function jsonNumbers (key: string, value: unknown): unknown {
  if (typeof value !== 'number') return value
  if (!Number.isFinite(value)) return null
  return key.endsWith('Ms') || key.endsWith('Rate') || key === 'ms' || /^p\d+$/.test(key) ? Math.round(value * 100) / 100 : value
}

/** `GET /api/videos/:id`, or `GET (no route)`. */
export function routeName (method: string, endpoint: string | null): string {
  return `${method} ${endpoint ?? '(no route)'}`
}

const HEADERS = ['ENDPOINT', 'REQUESTS', '4XX', '4XX%', '5XX', '5XX%', 'SLOW', 'SLOW%', 'AVG MS', 'P50', 'P95', 'P99', 'MAX']

function cells (row: ReportRow, name: string): string[] {
  const mark = row.approximate ? '~' : ''
  return [name, String(row.requests), String(row.clientErrors), percent(row.clientErrorRate), String(row.serverErrors), percent(row.serverErrorRate),
    String(row.slow), percent(row.slowRate), ms(row.avgMs), mark + ms(row.p50Ms), mark + ms(row.p95Ms), mark + ms(row.p99Ms), ms(row.maxMs)]
}

function renderText (model: ReportModel): string {
  const { lines, totals } = model
  let out = `${plural(totals.requests, 'request')} in ${plural(lines.files, 'file')} of ${model.dir} (${bytes(lines.bytes)}, ${plural(lines.lines, 'line')})\n`
  const scope = [model.window.since === null ? null : `since ${model.window.since}`, model.window.until === null ? null : `until ${model.window.until}`,
    model.endpointPattern === null ? null : `endpoint ${model.endpointPattern}`].filter((part) => part !== null)
  if (scope.length > 0) out += `Only ${scope.join(', ')}\n`
  if (model.first !== null) out += `From ${model.first} to ${model.last}\n`
  if (totals.requests === 0) return out + 'No request found.\n'
  const rows = model.endpoints.map((row) => cells(row, escapeText(routeName(row.method, row.endpoint))))
  rows.push(cells(totals, 'TOTAL'))
  out += '\n' + table(HEADERS, rows, HEADERS.map((_, i) => i === 0 ? 'left' : 'right'))
  if (model.endpoints.some((row) => row.approximate) || totals.approximate) {
    out += `~ from a DDSketch, within ${model.percentiles.relativeAccuracy * 100}% of the exact value (more than ${count(model.percentiles.exactUpTo)} requests)\n`
  }
  out += '\nSlowest requests\n' + table(['TIME', 'MS', 'STATUS', 'REQUEST', 'REQUEST ID'], model.slowest.map((request) => [
    request.time, ms(request.ms), String(request.status), escapeText(`${request.method} ${request.path}`), escapeText(request.requestId ?? '-')
  ]), ['left', 'right', 'right', 'left', 'left'])
  return out
}

const CSV_HEADERS = ['method', 'endpoint', 'requests', 'client_errors', 'client_error_rate', 'server_errors', 'server_error_rate', 'slow', 'slow_rate', 'avg_ms', 'p50_ms', 'p95_ms', 'p99_ms', 'max_ms', 'approximate']

function csvRow (row: ReportRow, method: string, endpoint: string | null): string {
  const round = (n: number): number | null => Number.isFinite(n) ? Math.round(n * 100) / 100 : null
  return csvLine([method, endpoint, row.requests, row.clientErrors, round(row.clientErrorRate), row.serverErrors, round(row.serverErrorRate), row.slow, round(row.slowRate),
    round(row.avgMs), round(row.p50Ms), round(row.p95Ms), round(row.p99Ms), round(row.maxMs), row.approximate])
}

function renderCsv (model: ReportModel): string {
  return csvLine(CSV_HEADERS) + model.endpoints.map((row) => csvRow(row, row.method, row.endpoint ?? '(no route)')).join('') + csvRow(model.totals, 'TOTAL', '')
}
