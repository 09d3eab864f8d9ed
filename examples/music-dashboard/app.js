'use strict'

// The Music Agents Dashboard API: a Fastify app with fastify-api-logging registered.
const Fastify = require('fastify')
const { Type } = require('@sinclair/typebox')
const apiLogging = require('fastify-api-logging')
const { logApiCall } = apiLogging

/** Price per second of video, in USD, for each engine the service supports. */
const ENGINE_RATES = Object.freeze({
  runway_gen3: 0.05,
  pika_1: 0.02,
  sora_preview: 0.1
})
const ENGINES = Object.keys(ENGINE_RATES)

const Engine = Type.Union(ENGINES.map((name) => Type.Literal(name)))
const Duration = Type.Integer({ minimum: 1, maximum: 600 })

const CalculateCostBody = Type.Object({ duration: Duration, engine: Engine })
const AgentsQuery = Type.Object({ include_metrics: Type.Boolean({ default: false }) })
const IntegrationBody = Type.Object({
  provider: Type.String({ minLength: 1, maxLength: 64 }),
  api_key: Type.String({ minLength: 1, maxLength: 512 }),
  webhook_url: Type.Optional(Type.String({ maxLength: 2048 }))
})

function costOf (engine, duration) {
  return Math.round(ENGINE_RATES[engine] * duration * 100) / 100
}

function sleep (ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Builds the app (not listening).
 * - `db`: the data layer from db.js (required).
 * - `logging`: register options of fastify-api-logging; by default every setting comes from the
 *   environment and ./.env.
 * - `trendsDelayMs`: when a number, every /api/metrics/trends call waits that long; by default
 *   every third call waits 1200 ms (slower than the 1000 ms slow-request threshold), the others
 *   about 20 ms.
 */
async function buildApp ({ db, logging = {}, trendsDelayMs } = {}) {
  if (db === undefined) throw new Error('buildApp needs a db (see db.js)')
  const app = Fastify()
  await app.register(apiLogging, logging)

  app.get('/api/dashboard/overview', async () => ({
    agents: db.agentStatuses().length,
    videos: db.countVideos(),
    pending: db.countVideos('pending')
  }))

  app.get('/api/agents/status', { schema: { querystring: AgentsQuery } }, async (request) => {
    const agents = db.agentStatuses({ includeMetrics: request.query.include_metrics })
    return { agents }
  })

  // A bad engine or duration never reaches the handler: Fastify answers 400, logged at WARNING.
  app.post('/api/storyboard/video/calculate-cost', { schema: { body: CalculateCostBody } }, async (request) => {
    const { engine, duration } = request.body
    request.log.debug({ engine, duration }, 'Calculating video cost')
    return { engine, duration, cost_usd: costOf(engine, duration) }
  })

  // No schema on purpose: an unsupported engine is found by the service and becomes a 500, whose
  // completion line carries the exception and its stack.
  app.post('/api/video/generate', async (request) => {
    const { engine, duration = 30, prompt = '' } = request.body ?? {}
    const task = await logApiCall('create_video', () => {
      if (!Object.hasOwn(ENGINE_RATES, engine)) throw new Error('Invalid engine specified')
      return db.saveVideoTask({ engine, duration: Number(duration) || 30, prompt: String(prompt) })
    })
    request.log.info({ task_id: task.id, estimated_cost_usd: costOf(engine, task.duration) }, 'Video generation queued')
    return { id: task.id, status: 'pending' }
  })

  app.get('/api/videos/:id', async (request, reply) => {
    const { id } = request.params
    const task = /^[0-9]{1,12}$/.test(id) ? db.getVideoTask(Number(id)) : null
    if (task === null) return reply.code(404).send({ error: 'video not found' })
    return task
  })

  let trendsCalls = 0
  app.get('/api/metrics/trends', async () => {
    trendsCalls++
    const delay = typeof trendsDelayMs === 'number' ? trendsDelayMs : trendsCalls % 3 === 0 ? 1200 : 20
    await sleep(delay)
    return {
      period: '7d',
      streams: [1200, 1350, 1280, 1510, 1620, 1590, 1750],
      trend: 'up'
    }
  })

  // Integrations live in memory; only the key's last four characters are kept.
  const integrations = new Map()
  app.post('/api/integrations', { schema: { body: IntegrationBody } }, async (request) => {
    const { provider, api_key: apiKey, webhook_url: webhookUrl = null } = request.body
    integrations.set(provider, { provider, webhook_url: webhookUrl, key_hint: `…${apiKey.slice(-4)}`, saved_at: new Date().toISOString() })
    // Even a careless log call is safe: `api_key` (and any Bearer token or URL password in a
    // string) shows as [REDACTED], in the request body of the completion line too.
    request.log.info({ provider, api_key: apiKey, webhook_url: webhookUrl }, 'Integration saved')
    return { saved: true, provider }
  })

  // Excluded from the logs by default (LOG_EXCLUDE_PATHS); it still gets an x-request-id.
  app.get('/health', async () => ({ status: 'ok' }))

  return app
}

module.exports = { buildApp, ENGINES, ENGINE_RATES }
