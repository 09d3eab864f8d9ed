'use strict'

// The background job: "renders" pending video tasks. It runs outside any request, so its lines
// (and the db lines it causes) have request_id: null.
const { getLogger } = require('fastify-api-logging')

const log = getLogger('jobs')

let timer = null

/** One pass: every pending task is marked completed. */
function completePendingTasks (db) {
  for (const task of db.listPendingTasks()) {
    db.updateVideoTaskStatus(task.id, 'completed')
    log.info({ task_id: task.id, engine: task.engine, duration: task.duration }, 'Video task completed')
  }
}

/**
 * Runs completePendingTasks every `intervalMs`. Call it outside any request (at start-up): a
 * timer created inside a request would carry that request's id into every tick. The timer is
 * unref'd, so it never keeps the process alive by itself.
 */
function start (db, { intervalMs = 2000 } = {}) {
  if (timer !== null) return
  timer = setInterval(() => {
    try {
      completePendingTasks(db)
    } catch (err) {
      log.error({ err }, 'Video job failed')
    }
  }, intervalMs)
  timer.unref()
  log.info({ interval_ms: intervalMs }, 'Video job started')
}

function stop () {
  if (timer === null) return
  clearInterval(timer)
  timer = null
  log.info('Video job stopped')
}

module.exports = { start, stop, completePendingTasks }
