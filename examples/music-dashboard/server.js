'use strict'

// Starts the Music Agents Dashboard API: `npm start` (builds the plugin first), then
// `npm run demo:traffic` in another terminal and read ./logs.
const { readFileSync } = require('node:fs')
const { parseEnv } = require('node:util')
const closeWithGrace = require('close-with-grace')
const { buildApp } = require('./app')
const { openDatabase } = require('./db')
const jobs = require('./jobs')

// The plugin reads its LOG_* settings from the environment and ./.env itself; the demo's own
// settings (PORT, HOST, DB_PATH, JOB_INTERVAL_MS, TRENDS_DELAY_MS) are read the same way here.
let dotenv = {}
try {
  dotenv = parseEnv(readFileSync('.env', 'utf8'))
} catch (err) {
  if (err.code !== 'ENOENT') throw err
}

function setting (name) {
  const value = process.env[name] ?? dotenv[name]
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

function intSetting (name, fallback) {
  const value = setting(name)
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`)
  return n
}

async function main () {
  const port = intSetting('PORT', 3000)
  const host = setting('HOST') ?? '127.0.0.1'
  const jobIntervalMs = intSetting('JOB_INTERVAL_MS', 2000)
  const trendsDelayMs = intSetting('TRENDS_DELAY_MS', undefined)

  const db = openDatabase(setting('DB_PATH') ?? './music-dashboard.db')
  let app
  try {
    // Logging settings come from the environment and ./.env (see .env.example at the repo root).
    app = await buildApp({ db, trendsDelayMs })
  } catch (err) {
    db.close()
    throw err
  }

  // On SIGINT/SIGTERM (or an uncaught error, which the plugin logs at CRITICAL): stop the job,
  // let app.close() finish in-flight requests and write every pending log line, then close the db.
  closeWithGrace({ delay: 10000 }, async () => {
    jobs.stop()
    await app.close()
    db.close()
  })

  await app.listen({ port, host })
  jobs.start(db, { intervalMs: Math.max(jobIntervalMs, 10) })
  const { port: actualPort } = app.server.address()
  const shownHost = host.includes(':') ? `[${host}]` : host
  process.stdout.write(`listening on http://${shownHost}:${actualPort} (logs in ${app.apiLogging.config.logDir}/, SQLite through ${db.driver})\n`)
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`)
  process.exit(1)
})
