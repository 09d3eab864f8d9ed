'use strict'

// A small API with the plugin registered: `npm start`, then curl it and read ./logs.
const Fastify = require('fastify')
const closeWithGrace = require('close-with-grace')
const apiLogging = require('fastify-api-logging')
const { getLogger, logApiCall } = apiLogging

const db = getLogger('db')
const videos = new Map()

async function buildServer () {
  const app = Fastify()
  await app.register(apiLogging)

  app.get('/api/dashboard/overview', async () => ({ agents: 4, videos: videos.size }))

  app.get('/api/videos/:id', async (request, reply) => {
    db.info({ video_id: request.params.id }, 'loading video')
    const video = videos.get(request.params.id)
    if (video === undefined) return reply.code(404).send({ error: 'video not found' })
    return video
  })

  app.post('/api/video/generate', async (request) => {
    const { engine = 'runway_gen3', duration = 30 } = request.body ?? {}
    if (engine !== 'runway_gen3') throw new Error('Invalid engine specified')
    return logApiCall('create_video', async () => {
      const id = String(videos.size + 1)
      videos.set(id, { id, engine, duration, status: 'pending' })
      db.info({ video_id: id }, 'saved video task')
      return { id, status: 'pending' }
    })
  })

  app.post('/api/integrations', async (request) => {
    // The body's api_key reaches the handler; the logs show [REDACTED].
    request.log.info({ provider: request.body?.provider }, 'integration saved')
    return { saved: true }
  })

  app.get('/api/metrics/trends', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1200))
    return { trend: 'up' }
  })

  app.get('/health', async () => ({ status: 'ok' }))
  return app
}

async function main () {
  const app = await buildServer()
  const port = Number(process.env.PORT ?? 3000)
  await app.listen({ port, host: process.env.HOST ?? '127.0.0.1' })
  process.stdout.write(`listening on http://127.0.0.1:${port}; logs in ${app.apiLogging.config.logDir}/\n`)
  // On SIGINT/SIGTERM or an uncaught error (which the plugin logs at CRITICAL), app.close() waits
  // for in-flight requests, then writes every pending log line; close-with-grace then exits.
  closeWithGrace({ delay: 10000 }, async () => {
    await app.close()
  })
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`)
  process.exit(1)
})
