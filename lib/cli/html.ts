import type { ReportModel } from './commands/report'
import { bytes, count, ms, percent, plural } from './output'
import type { ReportRow } from './stats'
import type { TimelineBin } from './timeline'

/**
 * The report as one HTML file: the charts are SVG drawn here, the styles inline, and a content
 * security policy that allows no request at all, so the page opens offline and fetches nothing.
 * The one script only makes the endpoint table sortable; the page is complete without it.
 */

const WIDTH = 1000
const HEIGHT = 260
const PAD = { left: 64, right: 16, top: 16, bottom: 36 }
const PLOT_W = WIDTH - PAD.left - PAD.right
const PLOT_H = HEIGHT - PAD.top - PAD.bottom

function esc (value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function round (n: number): string {
  return String(Math.round(n * 10) / 10)
}

/** The smallest 1, 2, 2.5 or 5 × 10^k at or above `value`. */
function niceCeil (value: number): number {
  if (!(value > 0)) return 1
  const base = Math.pow(10, Math.floor(Math.log10(value)))
  for (const step of [1, 2, 2.5, 5]) if (step * base >= value) return step * base
  return 10 * base
}

function route (row: { method: string, endpoint: string | null }): string {
  return `${row.method} ${row.endpoint ?? '(no route)'}`
}

function timeLabel (iso: string, long: boolean): string {
  return long ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16)
}

function xAxis (bins: TimelineBin[], binWidth: number): string {
  if (bins.length === 0) return ''
  const long = bins[0].start.slice(0, 10) !== bins[bins.length - 1].start.slice(0, 10)
  const every = Math.max(1, Math.ceil(bins.length / 8))
  let out = ''
  for (let i = 0; i < bins.length; i += every) {
    const x = PAD.left + i * binWidth + binWidth / 2
    out += `<text class="tick" x="${round(x)}" y="${HEIGHT - 12}" text-anchor="middle">${esc(timeLabel(bins[i].start, long))}</text>`
  }
  return out
}

function requestsChart (bins: TimelineBin[], binMinutes: number): string {
  const perMinute = (n: number): number => n / binMinutes
  const highest = Math.max(...bins.map((bin) => perMinute(bin.requests)), 1)
  // Round steps (1, 2, 2.5, 5 × 10^k), four or fewer of them.
  const step = niceCeil(highest / 4)
  const ticks = Math.ceil(highest / step)
  const top = step * ticks
  const bw = PLOT_W / Math.max(1, bins.length)
  const y = (v: number): number => PAD.top + PLOT_H - (v / top) * PLOT_H
  let out = `<svg class="chart" data-chart="requests" data-bins="${bins.length}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="Requests and errors per minute">`
  for (let i = 0; i <= ticks; i++) {
    const v = step * i
    out += `<line class="grid" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${round(y(v))}" y2="${round(y(v))}"/><text class="tick" x="${PAD.left - 6}" y="${round(y(v) + 4)}" text-anchor="end">${esc(round(v))}</text>`
  }
  bins.forEach((bin, i) => {
    if (bin.requests === 0) return
    const x = PAD.left + i * bw
    const w = Math.max(1, bw - (bw > 4 ? 1 : 0))
    const ok = bin.requests - bin.clientErrors - bin.serverErrors
    let base = PAD.top + PLOT_H
    out += `<g class="bin" data-requests="${bin.requests}" data-errors="${bin.clientErrors + bin.serverErrors}"><title>${esc(`${bin.start} (${binMinutes} min): ${bin.requests} requests, ${bin.clientErrors} 4xx, ${bin.serverErrors} 5xx, ${bin.slow} slow`)}</title>`
    for (const [klass, count] of [['ok', ok], ['c4', bin.clientErrors], ['c5', bin.serverErrors]] as const) {
      if (count === 0) continue
      const h = (perMinute(count) / top) * PLOT_H
      base -= h
      out += `<rect class="bar ${klass}" x="${round(x)}" y="${round(base)}" width="${round(w)}" height="${round(h)}"/>`
    }
    out += '</g>'
  })
  return out + xAxis(bins, bw) + '</svg>'
}

function latencyChart (bins: TimelineBin[]): string {
  const values = bins.flatMap((bin) => [bin.p50, bin.p99]).filter((v): v is number => v !== null && v > 0)
  const low = Math.pow(10, Math.floor(Math.log10(Math.max(0.01, Math.min(...values, 1)))))
  const high = Math.pow(10, Math.ceil(Math.log10(Math.max(...values, low * 10))))
  const bw = PLOT_W / Math.max(1, bins.length)
  const y = (v: number): number => PAD.top + PLOT_H - ((Math.log10(Math.max(v, low)) - Math.log10(low)) / (Math.log10(high) - Math.log10(low))) * PLOT_H
  let out = `<svg class="chart" data-chart="latency" data-bins="${bins.length}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="Response time percentiles over time">`
  for (let v = low; v <= high * 1.001; v *= 10) {
    out += `<line class="grid" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${round(y(v))}" y2="${round(y(v))}"/><text class="tick" x="${PAD.left - 6}" y="${round(y(v) + 4)}" text-anchor="end">${esc(v >= 1000 ? `${v / 1000} s` : `${v} ms`)}</text>`
  }
  for (const key of ['p50', 'p95', 'p99'] as const) {
    let d = ''
    let points = 0
    let open = false
    bins.forEach((bin, i) => {
      const v = bin[key]
      if (v === null) {
        open = false
        return
      }
      d += `${open ? 'L' : 'M'}${round(PAD.left + i * bw + bw / 2)} ${round(y(v))}`
      open = true
      points++
    })
    out += `<path class="line ${key}" data-points="${points}" d="${d}"/>`
  }
  bins.forEach((bin, i) => {
    if (bin.p50 === null) return
    out += `<rect class="hover" x="${round(PAD.left + i * bw)}" y="${PAD.top}" width="${round(bw)}" height="${PLOT_H}"><title>${esc(`${bin.start}: p50 ${ms(bin.p50)} ms, p95 ${ms(bin.p95 as number)} ms, p99 ${ms(bin.p99 as number)} ms`)}</title></rect>`
  })
  return out + xAxis(bins, bw) + '</svg>'
}

function endpointsChart (rows: ReportRow[]): string {
  const shown = [...rows].sort((a, b) => b.p95Ms - a.p95Ms).slice(0, 12)
  const rowH = 26
  const left = 300
  const height = PAD.top + shown.length * rowH + 28
  const top = niceCeil(Math.max(...shown.map((row) => row.p99Ms), 1))
  const x = (v: number): number => left + (v / top) * (WIDTH - left - 230)
  let out = `<svg class="chart" data-chart="endpoints" data-rows="${shown.length}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="Slowest endpoints by p95">`
  shown.forEach((row, i) => {
    const y = PAD.top + i * rowH
    out += `<g class="endpoint" data-endpoint="${esc(route(row))}" data-p95="${ms(row.p95Ms)}"><title>${esc(`${route(row)}: ${row.requests} requests, p50 ${ms(row.p50Ms)} ms, p95 ${ms(row.p95Ms)} ms, p99 ${ms(row.p99Ms)} ms, max ${ms(row.maxMs)} ms`)}</title>` +
      `<text class="label" x="${left - 8}" y="${y + 16}" text-anchor="end">${esc(route(row).slice(0, 44))}</text>` +
      `<rect class="bar p95" x="${left}" y="${y + 4}" width="${round(Math.max(1, x(row.p95Ms) - left))}" height="${rowH - 8}"/>` +
      `<line class="mark p50" x1="${round(x(row.p50Ms))}" x2="${round(x(row.p50Ms))}" y1="${y + 2}" y2="${y + rowH - 2}"/>` +
      `<line class="mark p99" x1="${round(x(row.p99Ms))}" x2="${round(x(row.p99Ms))}" y1="${y + 2}" y2="${y + rowH - 2}"/>` +
      `<text class="value" x="${round(x(Math.max(row.p95Ms, row.p99Ms)) + 6)}" y="${y + 16}">${esc(`p95 ${ms(row.p95Ms)} ms · p99 ${ms(row.p99Ms)} ms`)}</text></g>`
  })
  return out + '</svg>'
}

function tile (label: string, value: string, warn = false): string {
  return `<div class="tile${warn ? ' warn' : ''}"><div class="value">${esc(value)}</div><div class="label">${esc(label)}</div></div>`
}

function endpointRow (row: ReportRow, name: string): string {
  const mark = row.approximate ? '~' : ''
  const cells = [row.requests, row.clientErrors, percent(row.clientErrorRate), row.serverErrors, percent(row.serverErrorRate), row.slow, percent(row.slowRate),
    ms(row.avgMs), mark + ms(row.p50Ms), mark + ms(row.p95Ms), mark + ms(row.p99Ms), ms(row.maxMs)]
  return `<tr><td>${esc(name)}</td>${cells.map((cell) => `<td class="num">${esc(cell)}</td>`).join('')}</tr>`
}

const STYLE = `
:root { color-scheme: light; --ok: #4c78a8; --c4: #f2a93b; --c5: #d64545; --ink: #1f2933; --muted: #66768a; --grid: #e4e8ee; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f6f8fb; }
main { max-width: 1180px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; }
.meta { color: var(--muted); margin: 0 0 16px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 12px; }
.tile { background: #fff; border-radius: 8px; padding: 12px 14px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.tile .value { font-size: 20px; font-weight: 600; white-space: nowrap; } .tile .label { color: var(--muted); font-size: 12px; }
.tile.warn .value { color: var(--c5); }
.panel { background: #fff; border-radius: 8px; padding: 12px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.chart { width: 100%; height: auto; display: block; }
.grid { stroke: var(--grid); } .tick { fill: var(--muted); font-size: 11px; } .label, .value { fill: var(--ink); font-size: 12px; }
.bar.ok { fill: var(--ok); } .bar.c4 { fill: var(--c4); } .bar.c5 { fill: var(--c5); } .bar.p95 { fill: var(--ok); opacity: .85; }
.line { fill: none; stroke-width: 2; } .line.p50 { stroke: #4c9f70; } .line.p95 { stroke: var(--c4); } .line.p99 { stroke: var(--c5); }
.hover { fill: transparent; } .hover:hover { fill: rgba(76,120,168,.08); }
.mark { stroke-width: 2; } .mark.p50 { stroke: #4c9f70; } .mark.p99 { stroke: var(--c5); }
.legend { color: var(--muted); font-size: 12px; margin: 4px 0 0; } .legend i { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px; border-radius: 2px; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 13px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--grid); text-align: left; white-space: nowrap; }
th { font-weight: 600; color: var(--muted); cursor: pointer; user-select: none; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; } code { font-size: 12px; }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
`

// Sorts the endpoint table by the clicked column; numbers compare as numbers.
const SCRIPT = `
document.querySelectorAll('table[data-sortable]').forEach(function (table) {
  table.setAttribute('data-sortable', 'ready')
  table.querySelectorAll('th').forEach(function (th, column) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0]
      var rows = Array.prototype.slice.call(body.rows)
      var down = th.getAttribute('data-order') !== 'desc'
      table.querySelectorAll('th').forEach(function (other) { other.removeAttribute('data-order') })
      th.setAttribute('data-order', down ? 'desc' : 'asc')
      function key (row) { var text = row.cells[column].textContent.replace(/[~%,]/g, ''); var n = parseFloat(text); return isNaN(n) ? text : n }
      rows.sort(function (a, b) { var x = key(a), y = key(b); var c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)); return down ? -c : c })
      rows.forEach(function (row) { body.appendChild(row) })
    })
  })
})
`

/** The whole page. */
export function renderHtml (model: ReportModel): string {
  const t = model.totals
  const bins = model.timeline?.bins ?? []
  const binMinutes = model.timeline?.binMinutes ?? 1
  const head = ['Endpoint', 'Requests', '4xx', '4xx %', '5xx', '5xx %', 'Slow', 'Slow %', 'Avg ms', 'p50', 'p95', 'p99', 'Max']
  const scope = [model.window.since === null ? '' : ` since ${model.window.since}`, model.window.until === null ? '' : ` until ${model.window.until}`,
    model.endpointPattern === null ? '' : `, endpoint ${model.endpointPattern}`].join('')
  const body = t.requests === 0
    ? '<p class="empty">No request found.</p>'
    : `<section class="tiles">${[
      tile('requests', count(t.requests)),
      tile('4xx', percent(t.clientErrorRate)),
      tile('5xx', percent(t.serverErrorRate), t.serverErrorRate > 0.1),
      tile('slow', percent(t.slowRate)),
      tile('p50', `${ms(t.p50Ms)} ms`),
      tile('p95', `${ms(t.p95Ms)} ms`),
      tile('p99', `${ms(t.p99Ms)} ms`),
      tile('max', `${ms(t.maxMs)} ms`)
    ].join('')}</section>
<h2>Requests and errors per minute${binMinutes > 1 ? ` (${binMinutes}-minute bins, UTC)` : ' (UTC)'}</h2>
<div class="panel">${requestsChart(bins, binMinutes)}<p class="legend"><i style="background:var(--ok)"></i>under 400<i style="background:var(--c4)"></i>4xx<i style="background:var(--c5)"></i>5xx</p></div>
<h2>Response time percentiles over time</h2>
<div class="panel">${latencyChart(bins)}<p class="legend"><i style="background:#4c9f70"></i>p50<i style="background:var(--c4)"></i>p95<i style="background:var(--c5)"></i>p99 (log scale)</p></div>
<h2>Slowest endpoints (p95; marks at p50 and p99)</h2>
<div class="panel">${endpointsChart(model.endpoints)}</div>
<h2>Endpoints</h2>
<div class="scroll"><table data-sortable="1"><thead><tr>${head.map((h, i) => `<th${i === 0 ? '' : ' class="num"'}>${h}</th>`).join('')}</tr></thead><tbody>
${model.endpoints.map((row) => endpointRow(row, route(row))).join('\n')}
</tbody><tfoot>${endpointRow(t, 'Total')}</tfoot></table></div>
<h2>Slowest requests</h2>
<div class="scroll"><table><thead><tr><th>Time</th><th class="num">ms</th><th class="num">Status</th><th>Request</th><th>Request id</th></tr></thead><tbody>
${model.slowest.map((r) => `<tr><td>${esc(r.time)}</td><td class="num">${esc(ms(r.ms))}</td><td class="num">${r.status}</td><td>${esc(`${r.method} ${r.path}`)}</td><td><code>${esc(r.requestId ?? '-')}</code></td></tr>`).join('\n')}
</tbody></table></div>`
  const problems = model.problems.length === 0 ? '' : `<h2>Not read</h2><ul>${model.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API report: ${esc(model.dir)}</title><style>${STYLE}</style></head>
<body><main>
<h1>API report</h1>
<p class="meta">${esc(model.dir)}${esc(scope)}: ${esc(plural(t.requests, 'request'))}${model.first === null ? '' : ` from ${esc(model.first)} to ${esc(model.last)}`}, read from ${esc(plural(model.lines.files, 'file'))} (${esc(bytes(model.lines.bytes))}, ${esc(plural(model.lines.lines, 'line'))}).</p>
${body}
${problems}
<footer>Generated by api-logs (fastify-api-logging) at ${esc(model.generatedAt)}. Percentiles are nearest-rank: exact up to ${count(model.percentiles.exactUpTo)} requests per endpoint, then from a DDSketch within ${model.percentiles.relativeAccuracy * 100}% (marked ~). Times are UTC.</footer>
</main><script>${SCRIPT}</script></body></html>
`
}
