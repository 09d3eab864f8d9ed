'use strict'

// The demo's data layer: video tasks and agents in SQLite, synchronous. Every function logs
// through getLogger('db'). Inside a request those lines carry that request's request_id with
// nothing passed; called from the background job they have null.
const { getLogger } = require('fastify-api-logging')

const log = getLogger('db')

const AGENTS = [
  ['composer', 'Composer', 'online'],
  ['lyricist', 'Lyricist', 'online'],
  ['storyboarder', 'Storyboarder', 'busy'],
  ['video-director', 'Video Director', 'offline']
]

/**
 * SQLite through Node's own `node:sqlite` where the Node line has it (22.13 and later: no native
 * addon to build), else through better-sqlite3 (Node 20). Both have the same synchronous
 * `exec`, `prepare().run/get/all` and `close`, which is all this module uses.
 */
function openSqlite (path) {
  let sqlite
  try {
    sqlite = require('node:sqlite')
  } catch {
    sqlite = null
  }
  if (sqlite !== null) return { db: new sqlite.DatabaseSync(path), driver: 'node:sqlite' }
  const Database = require('better-sqlite3')
  return { db: new Database(path), driver: 'better-sqlite3' }
}

/**
 * Opens (and creates when needed) the database at `path`; ':memory:' keeps it in memory.
 * Returns the data-layer functions and `close()`.
 */
function openDatabase (path = './music-dashboard.db') {
  const { db, driver } = openSqlite(path)
  db.exec(`
    CREATE TABLE IF NOT EXISTS video_tasks (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      engine TEXT NOT NULL,
      duration INTEGER NOT NULL,
      prompt TEXT,
      status TEXT NOT NULL DEFAULT 'pending',
      created_at TEXT NOT NULL,
      completed_at TEXT
    );
    CREATE TABLE IF NOT EXISTS agents (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      status TEXT NOT NULL,
      tasks_completed INTEGER NOT NULL DEFAULT 0,
      avg_latency_ms REAL NOT NULL DEFAULT 0
    );
  `)
  const seed = db.prepare('INSERT OR IGNORE INTO agents (id, name, status, tasks_completed, avg_latency_ms) VALUES (?, ?, ?, ?, ?)')
  AGENTS.forEach(([id, name, status], i) => seed.run(id, name, status, 10 * (i + 1), 120 + 35 * i))

  const insertTask = db.prepare('INSERT INTO video_tasks (engine, duration, prompt, status, created_at) VALUES (?, ?, ?, \'pending\', ?)')
  const setStatus = db.prepare('UPDATE video_tasks SET status = ?, completed_at = ? WHERE id = ?')
  const selectTask = db.prepare('SELECT id, engine, duration, prompt, status, created_at, completed_at FROM video_tasks WHERE id = ?')
  const selectPending = db.prepare('SELECT id, engine, duration, created_at FROM video_tasks WHERE status = \'pending\' ORDER BY id LIMIT ?')
  const countAll = db.prepare('SELECT COUNT(*) AS n FROM video_tasks')
  const countByStatus = db.prepare('SELECT COUNT(*) AS n FROM video_tasks WHERE status = ?')
  const selectAgents = db.prepare('SELECT id, name, status, tasks_completed, avg_latency_ms FROM agents ORDER BY id')

  function saveVideoTask ({ engine, duration, prompt = null }) {
    const createdAt = new Date().toISOString()
    const id = Number(insertTask.run(engine, duration, prompt, createdAt).lastInsertRowid)
    log.info({ task_id: id, engine, duration }, 'Saved video task')
    return { id, engine, duration, prompt, status: 'pending', created_at: createdAt, completed_at: null }
  }

  function updateVideoTaskStatus (id, status) {
    const completedAt = status === 'completed' || status === 'failed' ? new Date().toISOString() : null
    const changed = setStatus.run(status, completedAt, id).changes > 0
    log.info({ task_id: id, status, changed }, 'Updated video task status')
    return changed
  }

  function getVideoTask (id) {
    const task = selectTask.get(id)
    log.debug({ task_id: id, found: task !== undefined }, 'Loaded video task')
    return task ?? null
  }

  function listPendingTasks (limit = 50) {
    const tasks = selectPending.all(limit)
    // Polled by the background job: only worth a line when there is work.
    if (tasks.length > 0) log.debug({ count: tasks.length }, 'Listed pending video tasks')
    return tasks
  }

  function countVideos (status) {
    const n = status === undefined ? countAll.get().n : countByStatus.get(status).n
    log.debug({ status: status ?? 'any', count: n }, 'Counted video tasks')
    return n
  }

  function agentStatuses ({ includeMetrics = false } = {}) {
    const rows = selectAgents.all()
    log.debug({ count: rows.length, include_metrics: includeMetrics }, 'Loaded agent statuses')
    return rows.map((row) => {
      const agent = { id: row.id, name: row.name, status: row.status }
      if (includeMetrics) agent.metrics = { tasks_completed: row.tasks_completed, avg_latency_ms: row.avg_latency_ms }
      return agent
    })
  }

  let open = true
  function close () {
    if (open) db.close()
    open = false
  }

  return { driver, saveVideoTask, updateVideoTaskStatus, getVideoTask, listPendingTasks, countVideos, agentStatuses, close }
}

module.exports = { openDatabase }
