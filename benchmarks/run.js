'use strict'

// Load benchmark: `npm run build && node benchmarks/run.js` (docs/benchmarks.md).
// Each mode runs in its own child process (server.js); autocannon drives it from here.
const { fork } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const readline = require('node:readline')
const autocannon = require('autocannon')

const SECONDS = envNumber('BENCH_SECONDS', 10, 1)
const ROUNDS = envNumber('BENCH_ROUNDS', 3, 1)
const WARMUP_SECONDS = envNumber('BENCH_WARMUP', 2, 0)
const CONNECTIONS = 50
const SIGTERM_LOAD_SECONDS = 6
const SIGTERM_AFTER_MS = 3000
const IPC_TIMEOUT_MS = 30_000
const KEEP_SCAN_MS = 200
const EXIT_TIMEOUT_MS = 30_000

const ALL_MODES = ['none', 'builtin', 'plugin-floor', 'plugin-prod', 'plugin-dev', 'plugin-dev-keys']
// Bare Fastify with one more piece of what the plugin does per request at each step, to see what
// each piece costs (run only when asked for, through BENCH_MODES).
const STEP_MODES = ['step-hook', 'step-id', 'step-close', 'step-als', 'step-prevalidation']
// The production profile with fewer lines, to price a change of profile (run only when asked for):
// plugin-lean without the "API Request" start line, plugin-json-only also without the text file.
const WHAT_IF_MODES = ['plugin-lean', 'plugin-json-only']
// BENCH_BUILDS=main=<dir>,idea=<dir> adds a mode `prod@<name>` per other build of this package
// (a folder with its package.json and dist/): that build in the production configuration, in the
// same interleaved rounds, to judge changes against main and against each other.
const BUILDS = parseBuilds(process.env.BENCH_BUILDS)
// BENCH_MODES=plugin-dev,... runs only those besides none, builtin and plugin-prod (always kept:
// every ratio and target is taken against them).
const MODES = selectModes(process.env.BENCH_MODES)
const PLUGIN_MODES = new Set(['plugin-prod', 'plugin-dev', 'plugin-dev-keys', ...WHAT_IF_MODES, ...Object.keys(BUILDS).map((name) => `prod@${name}`)])
// Modes that write no text file: only their JSON lines are counted.
const JSON_ONLY_MODES = new Set(['plugin-json-only'])
// BENCH_NODE=/path/to/node runs the servers on another Node binary (the load generator stays
// here); a comma-separated list runs every mode on each of them, interleaved in the same rounds.
const NODES = parseNodes(process.env.BENCH_NODE)
const SERVER = path.join(__dirname, 'server.js')
const RESULTS = path.join(__dirname, 'results.json')

const ECHO_BODY = makeBody(1024)
const ROUTES = [
  { name: 'hello', method: 'GET', path: '/hello' },
  { name: 'echo-1k', method: 'POST', path: '/echo-1k', headers: { 'content-type': 'application/json' }, body: ECHO_BODY }
]

const TARGETS = {
  addedCpuRatio: 0.5,
  reqPerSecRatio: 0.8,
  rssDeltaMB: 64
}

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'fastify-api-logging-bench-'))
const devNull = fs.openSync(os.devNull, 'w')
const children = new Set()

process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL')
  fs.rmSync(tmpRoot, { recursive: true, force: true })
})
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130))

// stats() has a counter object per sink, beside plain counters of its own (sampledOut, ...).
function droppedOf (stats) {
  return ['console', 'file', 'json'].reduce((sum, sink) => sum + (stats[sink]?.dropped ?? 0), 0)
}

function parseNodes (list) {
  const paths = (list ?? '').split(',').map((entry) => entry.trim()).filter(Boolean).map((entry) => path.resolve(entry))
  if (paths.length === 0) paths.push(process.execPath)
  return paths.map((execPath) => {
    const version = execPath === process.execPath ? process.version : require('node:child_process').execFileSync(execPath, ['--version'], { encoding: 'utf8' }).trim()
    return { execPath, version }
  })
}

function parseBuilds (list) {
  const builds = {}
  for (const item of (list ?? '').split(',').map((entry) => entry.trim()).filter(Boolean)) {
    const at = item.indexOf('=')
    const name = item.slice(0, at)
    if (at <= 0 || !/^[\w.-]+$/.test(name)) throw new Error(`BENCH_BUILDS: "${item}" is not name=directory`)
    const dir = path.resolve(item.slice(at + 1))
    if (!fs.existsSync(path.join(dir, 'dist', 'index.js'))) throw new Error(`BENCH_BUILDS: ${dir} has no dist/index.js (build it first)`)
    builds[name] = dir
  }
  return builds
}

function selectModes (list) {
  const known = [...ALL_MODES, ...WHAT_IF_MODES, ...STEP_MODES, ...Object.keys(BUILDS).map((name) => `prod@${name}`)]
  if (list === undefined || list.trim() === '') return known.filter((mode) => !STEP_MODES.includes(mode) && !WHAT_IF_MODES.includes(mode))
  const wanted = list.split(',').map((mode) => mode.trim()).filter(Boolean)
  const unknown = wanted.filter((mode) => !known.includes(mode))
  if (unknown.length > 0) throw new Error(`BENCH_MODES: unknown mode ${unknown.join(', ')}; known: ${known.join(', ')}`)
  return known.filter((mode) => mode === 'none' || mode === 'builtin' || mode === 'plugin-prod' || wanted.includes(mode))
}

function envNumber (name, fallback, min) {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min) throw new Error(`${name}=${raw} must be an integer >= ${min}`)
  return value
}

/** A JSON object of exactly `size` bytes, with secrets at two depths for the redaction to find. */
function makeBody (size) {
  const body = {
    user: 'bench-user',
    email: 'bench@example.com',
    password: 'hunter2-not-a-real-password',
    profile: { locale: 'en-GB', api_key: 'sk-bench-0123456789', theme: 'dark' },
    tags: ['alpha', 'beta', 'gamma'],
    note: ''
  }
  body.note = 'x'.repeat(size - JSON.stringify(body).length)
  return JSON.stringify(body)
}

function sleep (ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function median (values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

// ---- child servers ------------------------------------------------------------------------

/** A forked server.js; every wait on it is bounded by a timeout. */
class ServerChild {
  constructor (mode, logDir, grace, node) {
    this.mode = mode
    this.messages = []
    this.waiters = new Set()
    this.child = fork(SERVER, [mode, logDir, ...(grace ? ['grace'] : [])], {
      execPath: node.execPath,
      env: { ...process.env, ...(mode.startsWith('prod@') ? { BENCH_BUILD_DIR: BUILDS[mode.slice(5)] } : {}) },
      stdio: ['ignore', devNull, 'inherit', 'ipc']
    })
    children.add(this.child)
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        children.delete(this.child)
        this.exit = { code, signal }
        // Messages sent just before exiting may still be in the pipe: give them a moment.
        setTimeout(() => this.settle(), 200)
        resolve(this.exit)
      })
    })
    this.child.on('message', (message) => {
      this.messages.push(message)
      this.settle()
    })
  }

  waitFor (type, timeoutMs = IPC_TIMEOUT_MS) {
    return new Promise((resolve, reject) => {
      const waiter = { type, resolve, reject, timer: null }
      waiter.timer = setTimeout(() => {
        this.waiters.delete(waiter)
        reject(new Error(`${this.mode} server: no '${type}' message within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiters.add(waiter)
      this.settle()
    })
  }

  async request (command, reply) {
    const answer = this.waitFor(reply)
    this.child.send(command)
    return answer
  }

  settle () {
    for (const waiter of this.waiters) {
      const index = this.messages.findIndex((m) => m !== null && typeof m === 'object' && m.type === waiter.type)
      if (index !== -1) {
        const [message] = this.messages.splice(index, 1)
        this.finish(waiter, () => waiter.resolve(message))
      } else if (this.exit !== undefined) {
        const how = this.exit.signal ?? `code ${this.exit.code}`
        this.finish(waiter, () => waiter.reject(new Error(`${this.mode} server exited (${how}) before '${waiter.type}'`)))
      }
    }
  }

  finish (waiter, settle) {
    clearTimeout(waiter.timer)
    this.waiters.delete(waiter)
    settle()
  }

  async waitExit (timeoutMs = EXIT_TIMEOUT_MS) {
    let timer
    const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs) })
    const exit = await Promise.race([this.exited, timeout])
    clearTimeout(timer)
    if (exit === null) {
      this.child.kill('SIGKILL')
      throw new Error(`${this.mode} server did not exit within ${timeoutMs} ms`)
    }
    return exit
  }

  kill () {
    if (this.exit === undefined) this.child.kill('SIGKILL')
  }
}

async function startServer (mode, logDir, grace, node) {
  const server = new ServerChild(mode, logDir, grace, node)
  const ready = await server.waitFor('ready')
  server.port = ready.port
  return server
}

// ---- load --------------------------------------------------------------------------------------

function load (port, route, seconds, onInstance) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({
      url: `http://127.0.0.1:${port}${route.path}`,
      method: route.method,
      headers: route.headers,
      body: route.body,
      connections: CONNECTIONS,
      duration: seconds
    }, (err, result) => err ? reject(err) : resolve(result))
    if (onInstance) onInstance(instance)
  })
}

// ---- log files -------------------------------------------------------------------------------

async function eachLine (file, onLine) {
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })
  for await (const line of lines) onLine(line)
}

function filesMatching (dir, pattern) {
  return fs.readdirSync(dir).filter((name) => pattern.test(name)).map((name) => path.join(dir, name))
}

/**
 * api.log rotates every 10 MB and keeps 10 backups, so a long run overwrites its oldest text lines.
 * To count them all anyway, every api.log* file is hard-linked into `keepDir` while the server runs
 * (a file stays reachable for 10 rotations, far longer than one scan interval).
 */
class TextFileKeeper {
  constructor (logDir, keepDir) {
    this.logDir = logDir
    this.keepDir = keepDir
    this.seen = new Set()
    this.error = undefined
    this.timer = setInterval(() => this.scan(), KEEP_SCAN_MS)
  }

  scan () {
    if (this.error !== undefined) return
    try {
      for (const file of filesMatching(this.logDir, TEXT_FILES)) this.keep(file)
    } catch (err) {
      this.error = err.message
    }
  }

  keep (file) {
    const link = path.join(this.keepDir, 'linking')
    try {
      fs.linkSync(file, link)
    } catch (err) {
      if (err.code === 'ENOENT') return // rotated between readdir and link: kept under its next name
      throw err
    }
    // The inode is read from our own link: the name may point to another file by now.
    const ino = fs.statSync(link).ino
    if (this.seen.has(ino)) fs.unlinkSync(link)
    else {
      this.seen.add(ino)
      fs.renameSync(link, path.join(this.keepDir, `api.log.inode-${ino}`))
    }
  }

  stop () {
    clearInterval(this.timer)
    this.scan()
  }
}

const JSON_FILES = /^api_structured\.jsonl(\..+)?$/
const TEXT_FILES = /^api\.log(\.\d+)?$/

/** `API Response:` lines in the JSON files (message field) and in the text files, rotated ones included. */
async function countPluginLines (logDir, keeper) {
  const json = { files: 0, lines: 0, unparsable: 0 }
  for (const file of filesMatching(logDir, JSON_FILES)) {
    json.files++
    await eachLine(file, (line) => {
      if (!line.includes('API Response:')) return
      try {
        if (JSON.parse(line).message.startsWith('API Response:')) json.lines++
      } catch {
        json.unparsable++
      }
    })
  }
  if (keeper == null) return { json }
  const text = { files: 0, lines: 0 }
  if (keeper.error !== undefined) text.keepError = keeper.error
  for (const file of filesMatching(keeper.keepDir, /^api\.log\.inode-/)) {
    text.files++
    await eachLine(file, (line) => { if (line.includes('API Response:')) text.lines++ })
  }
  return { json, text }
}

/** Fastify's own 'request completed' lines. */
async function countBuiltinLines (logDir) {
  const builtin = { files: 1, lines: 0, unparsable: 0 }
  await eachLine(path.join(logDir, 'fastify.log'), (line) => {
    if (!line.includes('request completed')) return
    try {
      if (JSON.parse(line).msg === 'request completed') builtin.lines++
    } catch {
      builtin.unparsable++
    }
  })
  return { builtin }
}

// ---- one measured run ------------------------------------------------------------------------

async function runOne (mode, route, round, node) {
  const logDir = fs.mkdtempSync(path.join(tmpRoot, `${mode}-${route.name}-`))
  const server = await startServer(mode, logDir, false, node)
  const keeper = PLUGIN_MODES.has(mode) && !JSON_ONLY_MODES.has(mode) ? new TextFileKeeper(logDir, fs.mkdtempSync(`${logDir}-kept-`)) : null
  try {
    const warmup = WARMUP_SECONDS > 0 ? await load(server.port, route, WARMUP_SECONDS) : null
    await server.request('start', 'started')
    const measured = await load(server.port, route, SECONDS)
    const stopped = await server.request('stop', 'stopped')
    const closed = await server.request('close', 'closed')
    const exit = await server.waitExit()
    if (keeper !== null) keeper.stop()

    const completed = measured['2xx']
    const run = {
      node: node.version,
      mode,
      route: route.name,
      round,
      reqPerSec: measured.requests.total / measured.duration,
      p99Ms: measured.latency.p99,
      cpuUsPerReq: completed > 0 ? stopped.cpuUs / completed : NaN,
      // The kernel's share (system calls: socket reads and writes, file writes, thread wake-ups).
      systemCpuUsPerReq: completed > 0 ? stopped.systemCpuUs / completed : NaN,
      // By thread: main, V8's helpers (GC, compilers), libuv's pool (10 ms ticks, from /proc).
      threadCpuUsPerReq: Object.fromEntries(Object.entries(stopped.threadCpuUs ?? {}).map(([kind, us]) => [kind, completed > 0 ? us / completed : NaN])),
      peakRssMB: stopped.peakRss / 1048576,
      measured: {
        durationS: measured.duration,
        requests: measured.requests.total,
        '2xx': completed,
        non2xx: measured.non2xx,
        errors: measured.errors,
        timeouts: measured.timeouts,
        averageReqPerSec: measured.requests.average,
        latencyAvgMs: measured.latency.average,
        serverCpuUs: stopped.cpuUs
      },
      client2xxTotal: completed + (warmup === null ? 0 : warmup['2xx']),
      serverResponses: closed.responses,
      serverExit: exit
    }
    if (PLUGIN_MODES.has(mode) || mode === 'builtin') {
      const counts = PLUGIN_MODES.has(mode) ? await countPluginLines(logDir, keeper) : await countBuiltinLines(logDir)
      run.logs = {}
      for (const [kind, count] of Object.entries(counts)) {
        run.logs[kind] = { ...count, lost: closed.responses - count.lines }
      }
    }
    if (closed.stats !== null) {
      run.sinkStats = closed.stats
      run.sinkStatsBeforeClose = closed.statsBeforeClose
      run.dropped = droppedOf(closed.stats)
    }
    return run
  } finally {
    server.kill()
    fs.rmSync(logDir, { recursive: true, force: true })
    if (keeper !== null) {
      clearInterval(keeper.timer)
      fs.rmSync(keeper.keepDir, { recursive: true, force: true })
    }
  }
}

// ---- SIGTERM in the middle of the load --------------------------------------------------------

async function sigtermCheck (node) {
  const route = ROUTES[0]
  const logDir = fs.mkdtempSync(path.join(tmpRoot, 'sigterm-'))
  const server = await startServer('plugin-prod', logDir, true, node)
  try {
    let instance = null
    const result = load(server.port, route, SIGTERM_LOAD_SECONDS, (i) => { instance = i })
    await sleep(SIGTERM_AFTER_MS)
    server.child.kill('SIGTERM')
    const closed = await server.waitFor('closed', EXIT_TIMEOUT_MS).catch((err) => ({ error: err.message }))
    const exit = await server.waitExit()
    instance.stop()
    const client = await result
    const { json } = await countPluginLines(logDir)
    const client2xx = client['2xx']
    return {
      node: node.version,
      route: route.name,
      sigtermAfterMs: SIGTERM_AFTER_MS,
      client2xx,
      clientNon2xx: client.non2xx,
      clientErrors: client.errors,
      serverResponses: closed.responses,
      serverCloseError: closed.error,
      serverExit: exit,
      dropped: closed.stats ? droppedOf(closed.stats) : null,
      jsonLines: json.lines,
      jsonUnparsable: json.unparsable,
      lost: Math.max(0, client2xx - json.lines)
    }
  } finally {
    server.kill()
    fs.rmSync(logDir, { recursive: true, force: true })
  }
}

// ---- report -----------------------------------------------------------------------------------

function summarize (runs) {
  const medians = {}
  for (const route of ROUTES) {
    medians[route.name] = {}
    for (const mode of MODES) {
      const rows = runs.filter((r) => r.mode === mode && r.route === route.name)
      medians[route.name][mode] = {
        reqPerSec: median(rows.map((r) => r.reqPerSec)),
        p99Ms: median(rows.map((r) => r.p99Ms)),
        cpuUsPerReq: median(rows.map((r) => r.cpuUsPerReq)),
        systemCpuUsPerReq: median(rows.map((r) => r.systemCpuUsPerReq)),
        threadCpuUsPerReq: Object.fromEntries(['main', 'v8 helpers', 'libuv pool', 'other'].map((kind) => [kind, median(rows.map((r) => r.threadCpuUsPerReq[kind] ?? 0))])),
        peakRssMB: median(rows.map((r) => r.peakRssMB))
      }
    }
  }
  const ratios = {}
  for (const route of ROUTES) {
    const m = medians[route.name]
    const none = m.none
    ratios[route.name] = {}
    for (const mode of MODES) {
      ratios[route.name][mode] = {
        reqPerSecRatio: m[mode].reqPerSec / none.reqPerSec,
        addedCpuUsPerReq: m[mode].cpuUsPerReq - none.cpuUsPerReq,
        addedRssMB: m[mode].peakRssMB - none.peakRssMB
      }
    }
    const builtinAdded = ratios[route.name].builtin.addedCpuUsPerReq
    ratios[route.name].prodVsBuiltinAddedCpu = builtinAdded > 0 ? ratios[route.name]['plugin-prod'].addedCpuUsPerReq / builtinAdded : NaN
    // The same ratio within each round (servers of one round ran back to back).
    ratios[route.name].prodVsBuiltinAddedCpuPerRound = []
    for (let round = 0; round < ROUNDS; round++) {
      const cpu = (mode) => runs.find((r) => r.mode === mode && r.route === route.name && r.round === round)?.cpuUsPerReq
      const added = cpu('builtin') - cpu('none')
      ratios[route.name].prodVsBuiltinAddedCpuPerRound.push(added > 0 ? (cpu('plugin-prod') - cpu('none')) / added : NaN)
    }
  }
  return { medians, ratios }
}

function evaluate (runs, ratios, medians, sigterm) {
  const targets = []
  for (const route of ROUTES) {
    const r = ratios[route.name]
    targets.push({
      name: `${route.name}: plugin-prod added CPU/req <= ${TARGETS.addedCpuRatio} x builtin's`,
      value: r.prodVsBuiltinAddedCpu,
      pass: r.prodVsBuiltinAddedCpu <= TARGETS.addedCpuRatio
    })
  }
  for (const route of ROUTES) {
    const value = ratios[route.name]['plugin-prod'].reqPerSecRatio
    targets.push({ name: `${route.name}: plugin-prod req/s >= ${TARGETS.reqPerSecRatio * 100}% of none`, value, pass: value >= TARGETS.reqPerSecRatio })
  }
  const lossy = runs.filter((r) => (r.logs && Object.values(r.logs).some((l) => l.lost !== 0 || l.unparsable > 0)) || (r.dropped ?? 0) > 0)
  targets.push({
    name: 'zero lines lost or dropped in every mode, SIGTERM included',
    value: `${lossy.length === 0 ? 'no lossy run' : 'lossy: ' + lossy.map((r) => `${r.mode} ${r.route} r${r.round + 1}`).join(', ')}; SIGTERM lost ${sigterm.lost}`,
    pass: lossy.length === 0 && sigterm.lost === 0 && !sigterm.serverCloseError && sigterm.dropped === 0
  })
  for (const route of ROUTES) {
    const m = medians[route.name]
    const value = m['plugin-prod'].peakRssMB - m.none.peakRssMB
    targets.push({ name: `${route.name}: plugin-prod peak RSS within ${TARGETS.rssDeltaMB} MB of none`, value, pass: value <= TARGETS.rssDeltaMB })
  }
  return targets
}

function table (header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)))
  const line = (cells) => cells.map((c, i) => i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i])).join('  ')
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

const fixed = (value, digits) => Number.isFinite(value) ? value.toFixed(digits) : 'n/a'
const signed = (value, digits) => Number.isFinite(value) ? (value >= 0 ? '+' : '') + value.toFixed(digits) : 'n/a'

function report ({ medians, ratios }, runs, sigterm, targets) {
  const out = []
  for (const route of ROUTES) {
    out.push(`\n${route.name} (${route.method} ${route.path}), median of ${ROUNDS} round(s) x ${SECONDS} s, ${CONNECTIONS} connections`)
    out.push(table(
      ['mode', 'req/s', 'p99 ms', 'CPU us/req', 'of which system', 'peak RSS MB', 'req/s vs none', 'added CPU us/req'],
      MODES.map((mode) => {
        const m = medians[route.name][mode]
        const r = ratios[route.name][mode]
        return [mode, fixed(m.reqPerSec, 0), fixed(m.p99Ms, 1), fixed(m.cpuUsPerReq, 1), fixed(m.systemCpuUsPerReq, 1), fixed(m.peakRssMB, 1), fixed(r.reqPerSecRatio, 2), signed(r.addedCpuUsPerReq, 1)]
      })))
    out.push('CPU us/req by thread (main, V8 helpers, libuv pool, other): ' + MODES.map((mode) => {
      const byThread = medians[route.name][mode].threadCpuUsPerReq
      return `${mode} ${['main', 'v8 helpers', 'libuv pool', 'other'].map((kind) => fixed(byThread[kind], 1)).join(' / ')}`
    }).join('; '))
    const perRound = ratios[route.name].prodVsBuiltinAddedCpuPerRound.map((v) => fixed(v, 2)).join(', ')
    out.push(`(plugin-prod - none) / (builtin - none) added CPU: ${fixed(ratios[route.name].prodVsBuiltinAddedCpu, 2)} (per round: ${perRound})`)
    const builtinAdded = ratios[route.name].builtin.addedCpuUsPerReq
    const others = MODES.filter((mode) => mode.startsWith('plugin-') && mode !== 'plugin-prod')
    if (others.length > 0 && builtinAdded > 0) {
      out.push('the same ratio for the other plugin modes: ' + others.map((mode) => `${mode} ${fixed(ratios[route.name][mode].addedCpuUsPerReq / builtinAdded, 2)}`).join(', '))
    }
  }

  out.push('\nLines on disk vs responses the server answered (warm-up + measured), per run')
  const lostRows = []
  for (const run of runs) {
    if (!run.logs) continue
    for (const [kind, l] of Object.entries(run.logs)) {
      lostRows.push([`${run.mode} ${run.route} r${run.round + 1}`, kind, l.files, run.serverResponses, run.client2xxTotal, l.lines,
        (l.lost === 0 ? 'lost = 0' : `lost = ${l.lost}`) + (l.keepError ? ` (not checked: ${l.keepError})` : ''), run.dropped ?? '-'])
    }
  }
  out.push(table(['run', 'file', 'files', 'server responses', 'client 2xx', 'lines', 'lost', 'dropped (stats)'], lostRows))

  out.push(`\nSIGTERM after ${sigterm.sigtermAfterMs} ms of load (plugin-prod, close-with-grace, ${sigterm.route}):`)
  out.push(`  client 2xx ${sigterm.client2xx}, client non-2xx ${sigterm.clientNon2xx}, client errors ${sigterm.clientErrors}, ` +
    `server responses ${sigterm.serverResponses ?? 'n/a'}, JSON 'API Response:' lines ${sigterm.jsonLines}, ` +
    `dropped ${sigterm.dropped ?? 'n/a'}, lost = ${sigterm.lost}${sigterm.serverCloseError ? ` (${sigterm.serverCloseError})` : ''}`)

  out.push('\nTargets')
  for (const t of targets) {
    const value = typeof t.value === 'number' ? fixed(t.value, 2) : t.value
    out.push(`  ${t.pass ? 'PASS' : 'MISS'}  ${t.name}: ${value}`)
  }
  return out.join('\n')
}

/** A hash of the built plugin, to tell when dist/ was rebuilt during a run. */
function distHash () {
  const hash = require('node:crypto').createHash('sha256')
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const file = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(file)
      else if (entry.name.endsWith('.js')) hash.update(entry.name).update(fs.readFileSync(file))
    }
  }
  walk(path.dirname(require.resolve('fastify-api-logging')))
  return hash.digest('hex').slice(0, 16)
}

function machine () {
  const cpus = os.cpus()
  const fastifyDir = path.dirname(require.resolve('fastify/package.json'))
  return {
    cpuModel: cpus[0]?.model,
    cores: cpus.length,
    totalMemoryGB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    loadAverageAtStart: os.loadavg(),
    platform: `${os.platform()} ${os.release()}`,
    node: NODES.map((node) => node.version).join(', '),
    fastify: require('fastify/package.json').version,
    pinoOfFastify: require(require.resolve('pino/package.json', { paths: [fastifyDir] })).version,
    pinoOfPlugin: require('pino/package.json').version,
    autocannon: require('autocannon/package.json').version,
    plugin: require('../package.json').version
  }
}

async function main () {
  const started = new Date()
  const info = machine()
  const distAtStart = distHash()
  console.log(`fastify-api-logging benchmark: ${ROUNDS} round(s), ${WARMUP_SECONDS} s warm-up + ${SECONDS} s measured per mode and route, ${CONNECTIONS} connections`)
  console.log(`${info.cpuModel}, ${info.cores} cores, node ${info.node}, fastify ${info.fastify}, pino ${info.pinoOfFastify}`)

  const runs = []
  for (let round = 0; round < ROUNDS; round++) {
    const modes = MODES.slice(round % MODES.length).concat(MODES.slice(0, round % MODES.length))
    const routes = round % 2 === 0 ? ROUTES : [...ROUTES].reverse()
    const nodes = round % 2 === 0 ? NODES : [...NODES].reverse()
    for (const mode of modes) {
      for (const node of nodes) {
        for (const route of routes) {
          const run = await runOne(mode, route, round, node)
          runs.push(run)
          const lost = run.logs ? ' ' + Object.entries(run.logs).map(([k, l]) => `${k} lost ${l.lost}`).join(', ') : ''
          console.log(`round ${round + 1}/${ROUNDS} ${NODES.length > 1 ? node.version + ' ' : ''}${mode.padEnd(11)} ${route.name.padEnd(7)} ` +
            `${fixed(run.reqPerSec, 0).padStart(6)} req/s  p99 ${fixed(run.p99Ms, 1)} ms  ` +
            `${fixed(run.cpuUsPerReq, 1)} us/req (system ${fixed(run.systemCpuUsPerReq, 1)})  RSS ${fixed(run.peakRssMB, 1)} MB${lost}`)
        }
      }
    }
  }
  const distAtEnd = distHash()
  if (distAtEnd !== distAtStart) console.log('\nWARNING: dist/ changed during the run; the rounds measured different builds')
  // Every figure is taken within one Node binary: ratios against that binary's none and builtin.
  const byNode = {}
  for (const node of NODES) {
    const sigterm = await sigtermCheck(node)
    const own = runs.filter((run) => run.node === node.version)
    const summary = summarize(own)
    const targets = evaluate(own, summary.ratios, summary.medians, sigterm)
    console.log(`\n==== Node ${node.version} ====`)
    console.log(report(summary, own, sigterm, targets))
    byNode[node.version] = { ...summary, sigterm, targets }
  }
  const only = NODES.length === 1 ? byNode[NODES[0].version] : undefined

  fs.writeFileSync(RESULTS, JSON.stringify({
    date: started.toISOString(),
    finished: new Date().toISOString(),
    settings: { seconds: SECONDS, rounds: ROUNDS, warmupSeconds: WARMUP_SECONDS, connections: CONNECTIONS, echoBodyBytes: Buffer.byteLength(ECHO_BODY), sigtermAfterMs: SIGTERM_AFTER_MS, sigtermLoadSeconds: SIGTERM_LOAD_SECONDS },
    machine: { ...info, loadAverageAtEnd: os.loadavg() },
    dist: { atStart: distAtStart, atEnd: distAtEnd },
    runs,
    ...(only ?? { byNode })
  }, null, 2) + '\n')
  console.log(`\nraw numbers: ${path.relative(process.cwd(), RESULTS)}`)
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
}).finally(() => fs.closeSync(devNull))
