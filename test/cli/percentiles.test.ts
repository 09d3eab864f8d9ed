import t from 'tap'
import { DDSketch, Latency, RELATIVE_ACCURACY } from '../../dist/cli/latency.js'
import { MAX_BINS, Timeline } from '../../dist/cli/timeline.js'
import { TopN } from '../../dist/cli/top.js'
import { Rng } from '../helpers/generate'
import { exactPercentile } from '../helpers/cli'

const QUANTILES = [0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1]

function distributions (rng: Rng): Record<string, number[]> {
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next())
  const n = 50_000
  return {
    'log-normal (median 20 ms)': Array.from({ length: n }, () => Math.round(20 * Math.exp(normal()) * 100) / 100),
    'uniform 0-5000 ms, two decimals': Array.from({ length: n }, () => Math.round(rng.next() * 500000) / 100),
    'mostly zero and sub-millisecond': Array.from({ length: n }, () => rng.chance(0.3) ? 0 : Math.round(rng.next() * 100) / 100),
    'bimodal: cache hits and a slow backend': Array.from({ length: n }, () => rng.chance(0.9) ? 0.3 + rng.next() : 2000 + rng.next() * 8000),
    'one value': Array.from({ length: n }, () => 42.42)
  }
}

t.test(`the sketch is within ${RELATIVE_ACCURACY * 100}% of the exact nearest-rank percentile`, async (t) => {
  const rng = new Rng(7)
  for (const [name, values] of Object.entries(distributions(rng))) {
    const latency = new Latency(1000)
    for (const v of values) latency.add(v)
    t.ok(latency.approximate, `${name}: past the exact limit, the sketch answers`)
    let worst = 0
    for (const q of QUANTILES) {
      const exact = exactPercentile(values, q)
      const estimate = latency.quantile(q)
      const error = exact === 0 ? Math.abs(estimate) : Math.abs(estimate - exact) / exact
      worst = Math.max(worst, error)
    }
    t.ok(worst <= RELATIVE_ACCURACY + 1e-12, `${name}: worst relative error ${(worst * 100).toFixed(3)}%`)
    t.equal(latency.quantile(1), Math.max(...values), `${name}: the maximum is exact`)
    t.equal(latency.count, values.length)
    t.ok(Math.abs(latency.mean - values.reduce((a, b) => a + b, 0) / values.length) < 1e-6, `${name}: the mean is exact`)
  }
})

t.test('exact up to the limit: percentiles are the exact ones', async (t) => {
  const rng = new Rng(11)
  const values = Array.from({ length: 999 }, () => Math.round(rng.next() * 1e5) / 100)
  const latency = new Latency(1000)
  for (const v of values) latency.add(v)
  t.notOk(latency.approximate)
  for (const q of QUANTILES) t.equal(latency.quantile(q), exactPercentile(values, q), `p${q * 100}`)
  t.ok(Number.isNaN(new Latency().quantile(0.5)), 'no value, no percentile')
  t.ok(Number.isNaN(new Latency().mean))
})

t.test('merging: exact parts stay exact while they fit, sketches merge bucket by bucket', async (t) => {
  const rng = new Rng(3)
  const values = Array.from({ length: 30_000 }, () => Math.round(rng.next() * rng.next() * 1e6) / 100)
  const parts = [values.slice(0, 400), values.slice(400, 900), values.slice(900, 12_000), values.slice(12_000)]
  const whole = new Latency(1000)
  for (const v of values) whole.add(v)

  const small = new Latency(1000)
  for (const part of parts.slice(0, 2)) {
    const latency = new Latency(1000)
    for (const v of part) latency.add(v)
    small.merge(Latency.fromData(latency.toData()))
  }
  t.notOk(small.approximate, '900 values merged: still exact')
  t.equal(small.quantile(0.5), exactPercentile(values.slice(0, 900), 0.5))

  const merged = new Latency(1000)
  merged.merge(new Latency(1000))
  for (const part of parts) {
    const latency = new Latency(1000)
    for (const v of part) latency.add(v)
    merged.merge(Latency.fromData(latency.toData()))
  }
  t.ok(merged.approximate)
  for (const q of QUANTILES) t.equal(merged.quantile(q), whole.quantile(q), `p${q * 100} of the merged parts is the whole's`)
  t.equal(merged.count, whole.count)
  t.equal(merged.max, whole.max)
  t.equal(merged.min, whole.min)

  const sketch = new DDSketch()
  sketch.merge(DDSketch.fromData(new DDSketch().toData()))
  t.equal(sketch.valueAtRank(1), 0, 'an empty sketch answers 0')
  sketch.add(0.001)
  sketch.add(5)
  sketch.add(0)
  t.equal(sketch.valueAtRank(1), 0, 'zeros first')
  t.equal(sketch.valueAtRank(9), sketch.valueAtRank(3), 'a rank past the end is the last bucket')
})

t.test('a bin\'s latency merged from a sketched part keeps the error bound', async (t) => {
  const values = Array.from({ length: 500 }, (_, i) => 1 + i)
  const exact = new Latency(1000)
  for (const v of values.slice(0, 10)) exact.add(v)
  const sketched = new Latency(20)
  for (const v of values.slice(10)) sketched.add(v)
  exact.merge(sketched)
  t.ok(exact.approximate)
  const p50 = exactPercentile(values, 0.5)
  t.ok(Math.abs(exact.quantile(0.5) - p50) / p50 <= RELATIVE_ACCURACY)
})

t.test('the timeline widens its bins to stay within MAX_BINS, and merges across widths', async (t) => {
  const start = Date.parse('2025-01-14T00:00:00.000Z')
  const one = new Timeline()
  for (let minute = 0; minute < 100; minute++) one.add(new Date(start + minute * 60_000 + 5000).toISOString(), minute % 10 === 0 ? 503 : minute % 7 === 0 ? 404 : 200, minute, minute % 3 === 0)
  t.equal(one.width, 1, '100 minutes: one-minute bins')
  const series = one.series()
  t.equal(series.length, 100)
  t.same(series[0], { start: '2025-01-14T00:00:00.000Z', requests: 1, clientErrors: 0, serverErrors: 1, slow: 1, p50: 0, p95: 0, p99: 0 })

  const day = new Timeline()
  for (let minute = 0; minute < 3 * 1440; minute += 7) day.add(new Date(start + minute * 60_000).toISOString(), 200, 5, false)
  t.ok(day.width >= 15, `three days: ${day.width}-minute bins`)
  t.ok(day.series().length <= MAX_BINS)
  t.equal(day.series().reduce((sum, bin) => sum + bin.requests, 0), Math.ceil(3 * 1440 / 7), 'no request lost in widening')

  const gap = new Timeline()
  gap.add('2025-01-14T00:00:10.000Z', 200, 1, false)
  gap.add('2025-01-14T00:03:10.000Z', 200, 2, false)
  t.same(gap.series().map((bin) => bin.requests), [1, 0, 0, 1], 'empty bins in between')
  t.equal(gap.series()[1].p50, null)

  const merged = Timeline.fromData(one.toData())
  merged.merge(Timeline.fromData(day.toData()))
  t.equal(merged.width, day.width, 'merged at the wider width')
  t.equal(merged.series().reduce((sum, bin) => sum + bin.requests, 0), 100 + Math.ceil(3 * 1440 / 7))
  const narrow = Timeline.fromData(day.toData())
  narrow.merge(Timeline.fromData(one.toData()))
  t.same(narrow.series(), merged.series(), 'the same whichever way round')
  t.same(new Timeline().series(), [])
  const decade = new Timeline()
  decade.add('2015-01-01T00:00:00.000Z', 200, 1, false)
  decade.add('2025-01-01T00:00:00.000Z', 200, 1, false)
  t.ok(decade.series().length <= MAX_BINS, `ten years: ${decade.width}-minute bins`)
})

t.test('TopN keeps the best items in bounded memory', async (t) => {
  const top = new TopN<number>(3, (a, b) => a > b)
  t.equal(top.worst(), undefined)
  for (const n of [5, 1, 9, 3, 7, 7, 2, 8]) top.add(n)
  t.same(top.sorted(), [9, 8, 7])
  t.equal(top.size, 3)
  t.equal(top.worst(), 7)
  t.notOk(top.wants(6))
  t.ok(top.wants(10))
})
