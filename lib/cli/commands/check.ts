import { statfs } from 'node:fs/promises'
import { nonNegativeNumber, stringOption, type CommandSpec } from '../args'
import { logDir, readLogs, warn, type Command } from '../context'
import { bytes, percent, plural, table } from '../output'
import { problems } from '../problems'
import { describeDuration, inWindow, timeWindow } from '../time'

const spec: CommandSpec = {
  name: 'check',
  usage: '[options]',
  summary: 'The alert thresholds: error rate, slow requests, 5xx rate over the last --since, and free disk.',
  description: 'Prints each check with its value and threshold. Exit status: 0 when every check passes, 1 when\n' +
    'any is breached, 2 when the check cannot run (a bad flag, a missing folder): usable from cron, CI\n' +
    'or a Kubernetes probe. A rate is breached above its threshold; free disk below its minimum.',
  positionals: 0,
  options: {
    'error-rate': { type: 'string', value: 'PERCENT', help: 'most requests answered 4xx or 5xx (default 5)' },
    'slow-rate': { type: 'string', value: 'PERCENT', help: 'most slow requests (default 10)' },
    'server-error-rate': { type: 'string', value: 'PERCENT', help: 'most requests answered 5xx (default 0.1)' },
    'min-free-disk': { type: 'string', value: 'PERCENT', help: 'least free space on the log folder\'s disk (default 10)' },
    since: { type: 'string', value: 'WHEN', help: 'the window of the rates (default 15m)' },
    json: { type: 'boolean', help: 'the checks as one JSON document' }
  }
}

interface Check {
  readonly name: string
  readonly value: number
  readonly threshold: number
  /** `max`: breached above the threshold; `min`: breached below it. */
  readonly kind: 'max' | 'min'
  readonly ok: boolean
  readonly detail: string
}

function rateCheck (name: string, count: number, requests: number, threshold: number, what: string): Check {
  const value = requests === 0 ? 0 : (count / requests) * 100
  return { name, value, threshold, kind: 'max', ok: value <= threshold, detail: `${count} of ${plural(requests, 'request')} ${what}` }
}

export const check: Command = {
  spec,
  async run ({ values }, context) {
    const limits = {
      errorRate: nonNegativeNumber(values, 'error-rate', 5, 100, ' (a percentage)'),
      slowRate: nonNegativeNumber(values, 'slow-rate', 10, 100, ' (a percentage)'),
      serverErrorRate: nonNegativeNumber(values, 'server-error-rate', 0.1, 100, ' (a percentage)'),
      minFreeDisk: nonNegativeNumber(values, 'min-free-disk', 10, 100, ' (a percentage)')
    }
    const dir = logDir(values)
    const now = context.now()
    const since = stringOption(values, 'since') ?? '15m'
    const window = timeWindow(since, undefined, now)
    let requests = 0
    let errors = 0
    let serverErrors = 0
    let slow = 0
    const scan = await readLogs(context, dir, {
      since: window.since,
      onRecord (view) {
        const c = view.completion
        if (c === null || !inWindow(window, c.time)) return
        requests++
        if (c.status >= 400) errors++
        if (c.status >= 500) serverErrors++
        if (c.slow) slow++
      }
    })
    warn(context, problems(scan))
    const disk = await statfs(dir)
    const free = disk.blocks === 0 ? 100 : (disk.bavail / disk.blocks) * 100
    const checks: Check[] = [
      rateCheck('error rate', errors, requests, limits.errorRate, 'answered 4xx or 5xx'),
      rateCheck('slow requests', slow, requests, limits.slowRate, 'slow'),
      rateCheck('5xx rate', serverErrors, requests, limits.serverErrorRate, 'answered 5xx'),
      { name: 'free disk', value: free, threshold: limits.minFreeDisk, kind: 'min', ok: free >= limits.minFreeDisk, detail: `${bytes(disk.bavail * disk.bsize)} free of ${bytes(disk.blocks * disk.bsize)}` }
    ]
    const failed = checks.filter((c) => !c.ok).length
    const windowText = `the last ${describeDuration(now - (window.since as number))} (since ${window.sinceIso})`
    if (values.json === true) {
      context.stdout.write(JSON.stringify({ dir, since: window.sinceIso, requests, ok: failed === 0, checks }, null, 2) + '\n')
    } else {
      context.stdout.write(`${dir}, ${windowText}: ${plural(requests, 'request')}\n`)
      context.stdout.write(table(['RESULT', 'CHECK', 'VALUE', 'THRESHOLD', 'DETAIL'], checks.map((c) => [
        c.ok ? 'OK' : 'BREACHED', c.name, percent(c.value), `${c.kind === 'max' ? 'at most' : 'at least'} ${c.threshold}%`, c.detail
      ]), ['left', 'left', 'right', 'left', 'left']))
      context.stdout.write(failed === 0 ? `all ${checks.length} checks pass\n` : `${failed} of ${checks.length} checks breached\n`)
    }
    return failed === 0 ? 0 : 1
  }
}
