import type { Completion } from './line'
import { EXACT_LIMIT } from './latency'
import { Tally, type TallyData } from './tally'
import { Timeline, type TimelineBin, type TimelineData } from './timeline'
import { TopN } from './top'

/** One request, as the slowest-requests list shows it. */
export interface RequestSummary {
  readonly time: string
  readonly ms: number
  readonly status: number
  readonly method: string
  readonly path: string
  readonly endpoint: string | null
  readonly requestId: string | null
}

/** One row of the report: an endpoint (method and route pattern), or the total. */
export interface ReportRow {
  readonly method: string
  /** The route pattern; null for requests no route matched, shown as `(no route)`. */
  readonly endpoint: string | null
  readonly requests: number
  readonly clientErrors: number
  readonly clientErrorRate: number
  readonly serverErrors: number
  readonly serverErrorRate: number
  readonly slow: number
  readonly slowRate: number
  readonly avgMs: number
  readonly p50Ms: number
  readonly p95Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  /** The percentiles come from the sketch (more than EXACT_LIMIT requests): within RELATIVE_ACCURACY. */
  readonly approximate: boolean
}

interface Group {
  readonly method: string
  readonly endpoint: string | null
  readonly tally: Tally
}

function row ({ method, endpoint, tally: group }: Group): ReportRow {
  const n = group.requests
  const rate = (count: number): number => n === 0 ? 0 : (count / n) * 100
  const latency = group.latency
  return {
    method,
    endpoint,
    requests: n,
    clientErrors: group.clientErrors,
    clientErrorRate: rate(group.clientErrors),
    serverErrors: group.serverErrors,
    serverErrorRate: rate(group.serverErrors),
    slow: group.slow,
    slowRate: rate(group.slow),
    avgMs: latency.mean,
    p50Ms: latency.quantile(0.5),
    p95Ms: latency.quantile(0.95),
    p99Ms: latency.quantile(0.99),
    maxMs: n === 0 ? NaN : latency.max,
    approximate: latency.approximate
  }
}

export interface ReportOptions {
  readonly slowest: number
  readonly timeline: boolean
  /** Values kept for exact percentiles per endpoint (tests lower it to exercise the sketch). */
  readonly exactLimit?: number
}

export interface ReportStatsData {
  groups: Array<{ method: string, endpoint: string | null, tally: TallyData }>
  total: TallyData
  slowest: RequestSummary[]
  timeline: TimelineData | null
  first: string | null
  last: string | null
}

/** Adds up completion lines: per endpoint, in total, the slowest requests, and over time. */
export class ReportStats {
  private readonly groups = new Map<string | null, Map<string, Group>>()
  private readonly total: Tally
  private readonly slowest: TopN<RequestSummary>
  readonly timeline: Timeline | null
  private readonly exactLimit: number
  first: string | null = null
  last: string | null = null

  constructor (options: ReportOptions) {
    this.exactLimit = options.exactLimit ?? EXACT_LIMIT
    this.total = new Tally(this.exactLimit)
    this.slowest = new TopN<RequestSummary>(options.slowest, (a, b) => a.ms > b.ms || (a.ms === b.ms && a.time > b.time))
    this.timeline = options.timeline ? new Timeline() : null
  }

  private group (method: string, endpoint: string | null): Group {
    // By endpoint, then method: no key string to build per line.
    let methods = this.groups.get(endpoint)
    if (methods === undefined) {
      methods = new Map()
      this.groups.set(endpoint, methods)
    }
    let group = methods.get(method)
    if (group === undefined) {
      group = { method, endpoint, tally: new Tally(this.exactLimit) }
      methods.set(method, group)
    }
    return group
  }

  add (c: Completion): void {
    this.group(c.method, c.endpoint).tally.add(c.status, c.ms, c.slow)
    this.total.add(c.status, c.ms, c.slow)
    this.seen(c.time)
    const floor = this.slowest.worst()
    if (floor === undefined || c.ms >= floor.ms) {
      const summary = { time: c.time, ms: c.ms, status: c.status, method: c.method, path: c.path, endpoint: c.endpoint, requestId: c.requestId }
      if (this.slowest.wants(summary)) this.slowest.add(summary)
    }
    this.timeline?.add(c.time, c.status, c.ms, c.slow)
  }

  private seen (time: string | null): void {
    if (time === null) return
    if (this.first === null || time < this.first) this.first = time
    if (this.last === null || time > this.last) this.last = time
  }

  /** What a worker thread sends back. */
  toData (): ReportStatsData {
    return {
      groups: [...this.groups.values()].flatMap((methods) => [...methods.values()]).map((g) => ({ method: g.method, endpoint: g.endpoint, tally: g.tally.toData() })),
      total: this.total.toData(),
      slowest: this.slowest.sorted(),
      timeline: this.timeline === null ? null : this.timeline.toData(),
      first: this.first,
      last: this.last
    }
  }

  /** Adds another part's counts, as if its lines had been added here. */
  merge (data: ReportStatsData): void {
    for (const g of data.groups) this.group(g.method, g.endpoint).tally.merge(Tally.fromData(g.tally))
    this.total.merge(Tally.fromData(data.total))
    for (const request of data.slowest) this.slowest.add(request)
    if (data.timeline !== null) (this.timeline as Timeline).merge(Timeline.fromData(data.timeline))
    this.seen(data.first)
    this.seen(data.last)
  }

  /** Endpoints, busiest first (then by method and pattern, so equal counts keep one order). */
  rows (): ReportRow[] {
    return [...this.groups.values()].flatMap((methods) => [...methods.values()]).map(row).sort((a, b) => b.requests - a.requests ||
      (a.endpoint ?? '').localeCompare(b.endpoint ?? '') || a.method.localeCompare(b.method))
  }

  totals (): ReportRow {
    return row({ method: '', endpoint: null, tally: this.total })
  }

  slowestRequests (): RequestSummary[] {
    return this.slowest.sorted()
  }

  series (): TimelineBin[] {
    return this.timeline === null ? [] : this.timeline.series()
  }
}
