'use strict'

// Measures `api-logs report` against the jq recipes it replaces, in the same run, on a 113 MB
// api_structured.jsonl and on a 1 GB folder (ten days, the oldest gzipped), both made by
// scripts/generate-logs.js. Run it by hand on an otherwise idle machine (it keeps both cores and
// several GB of memory busy for minutes; jq -s holds the whole folder in memory):
//
//   npm run build && node scripts/measure-cli.js [WORK_DIR] [--rounds 5]
//
// WORK_DIR (default: a folder under the OS temp dir) keeps the generated logs between runs.
// Needs jq and GNU time (/usr/bin/time) on PATH. Prints a Markdown table of medians.

const { execFileSync, spawnSync } = require('node:child_process')
const { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join, resolve } = require('node:path')
const { parseArgs } = require('node:util')

const ROOT = resolve(__dirname, '..')
const BIN = join(ROOT, 'bin', 'api-logs.js')

// "Average response time by endpoint" as jq is usually asked it (-s, group_by), and the p95 and
// slow-requests recipes of docs/integrations.md as written there.
const RECIPES = {
  'jq: average response time by endpoint': ['-s', '-r', 'map(select(.status_code != null)) | group_by(.method + " " + (.endpoint // "(no route)")) | map({route: (.[0].method + " " + (.[0].endpoint // "(no route)")), count: length, avg: (map(.response_time_ms) | add / length)}) | sort_by(-.avg) | .[] | "\\(.avg)\\t\\(.count)\\t\\(.route)"'],
  'jq: top endpoints by p95': ['-s', '-r', 'map(select(.status_code != null)) | group_by(.method + " " + (.endpoint // "(no route)")) | map((map(.response_time_ms) | sort) as $t | {route: (.[0].method + " " + (.[0].endpoint // "(no route)")), count: ($t | length), p95: $t[(($t | length) * 0.95 | ceil) - 1]}) | sort_by(-.p95) | .[] | "\\(.p95)\\t\\(.count)\\t\\(.route)"'],
  'jq: slow requests': ['-c', 'select(.slow_request == true) | {timestamp, request_id, method, path, status_code, response_time_ms}']
}

function generate (dir, args) {
  if (existsSync(dir) && readdirSync(dir).length > 0) return
  mkdirSync(dir, { recursive: true })
  execFileSync(process.execPath, [join(__dirname, 'generate-logs.js'), dir, ...args], { stdio: 'inherit' })
}

/** Wall seconds and peak RSS (MB) of one command, by GNU time. */
function timed (command, args, options = {}) {
  const out = join(tmpdir(), `api-logs-measure-${process.pid}.time`)
  const result = spawnSync('/usr/bin/time', ['-o', out, '-f', '%e %M', command, ...args], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30, ...options })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`)
  const [seconds, kb] = readFileSync(out, 'utf8').trim().split('\n').pop().split(' ').map(Number)
  rmSync(out)
  return { seconds, rss: kb / 1024 }
}

function median (values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

function folderBytes (dir) {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0)
}

// jq reads one stream: the files oldest first, the .gz ones through zcat, as a user would.
function jqOver (dir, recipe) {
  const files = readdirSync(dir).filter((name) => name.startsWith('api_structured')).sort((a, b) => (a === 'api_structured.jsonl') - (b === 'api_structured.jsonl') || a.localeCompare(b))
  if (files.every((name) => !name.endsWith('.gz'))) return ['jq', [...recipe, ...files.map((name) => join(dir, name))]]
  const quoted = recipe.map((arg) => `'${arg.replace(/'/g, "'\\''")}'`).join(' ')
  return ['sh', ['-c', `zcat -f ${files.map((name) => `'${join(dir, name)}'`).join(' ')} | jq ${quoted}`]]
}

function measure (label, dir, rounds, jqRounds) {
  const rows = new Map()
  const add = (name, sample) => rows.set(name, [...(rows.get(name) ?? []), sample])
  for (let round = 0; round < rounds; round++) {
    // Interleaved, so a change in the machine's load hits every command alike.
    add('api-logs report', timed(process.execPath, [BIN, 'report', '--dir', dir]))
    add('api-logs report --jobs 1', timed(process.execPath, [BIN, 'report', '--jobs', '1', '--dir', dir]))
    if (round < jqRounds) for (const [name, recipe] of Object.entries(RECIPES)) add(name, timed(...jqOver(dir, recipe)))
  }
  const base = median(rows.get('api-logs report').map((s) => s.seconds))
  const jqAverage = median(rows.get('jq: average response time by endpoint').map((s) => s.seconds))
  process.stdout.write(`\n${label}: ${(folderBytes(dir) / 1e6).toFixed(0)} MB on disk, ${rounds} rounds (jq: ${jqRounds})\n\n`)
  process.stdout.write('| command | wall time (median) | peak RSS | vs jq average recipe |\n|---|---|---|---|\n')
  for (const [name, samples] of rows) {
    const seconds = median(samples.map((s) => s.seconds))
    process.stdout.write(`| ${name} | ${seconds.toFixed(2)} s | ${median(samples.map((s) => s.rss)).toFixed(0)} MB | ${(jqAverage / seconds).toFixed(1)}× |\n`)
  }
  return { base, jqAverage }
}

function main () {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { rounds: { type: 'string', default: '5' } } })
  const work = resolve(positionals[0] ?? join(tmpdir(), 'api-logs-measure'))
  const rounds = Number(values.rounds)
  const one = join(work, '113mb')
  const big = join(work, '1gb')
  generate(one, ['--bytes', '113m', '--days', '1'])
  generate(big, ['--bytes', '113m', '--days', '10', '--gzip-days', '1'])
  process.stdout.write(`node ${process.version}, ${execFileSync('jq', ['--version'], { encoding: 'utf8' }).trim()}, ${require('node:os').cpus().length} cores\n`)
  measure('113 MB, one file', one, rounds, rounds)
  measure('1 GB folder, ten files (the oldest .gz)', big, Math.max(1, Math.ceil(rounds / 2)), 1)
}

main()
