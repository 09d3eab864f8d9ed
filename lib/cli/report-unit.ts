import { endpointMatcher } from './filters'
import type { RunUnit } from './parallel'
import { scanFile } from './reader'
import { ReportStats, type ReportStatsData } from './stats'
import { inWindow, type TimeWindow } from './time'

/** What every thread of a `report` run needs to count a unit's lines (plain data, for a worker). */
export interface ReportUnitOptions {
  readonly window: TimeWindow
  readonly endpoint: string | null
  readonly slowest: number
  readonly timeline: boolean
  readonly exactLimit?: number
}

/** `report`'s work on one unit, on whichever thread runs it. */
export const runUnit: RunUnit<ReportStatsData> = async (unit, options: ReportUnitOptions, onBytes) => {
  const stats = new ReportStats(options)
  const matches = endpointMatcher(options.endpoint ?? undefined)
  const window = options.window
  const scan = await scanFile(unit.file, {
    onBytes,
    onRecord (view) {
      const c = view.completion
      if (c === null || !inWindow(window, c.time) || (matches !== null && !matches(c.endpoint, c.path))) return
      stats.add(c)
    }
  }, unit.range)
  return { scan, data: stats.toData() }
}
