/** The response header that lets a browser's script read other response headers (CORS). */
export const EXPOSE_HEADERS = 'access-control-expose-headers'

/**
 * `Access-Control-Expose-Headers` with `name` added: the values already there (from
 * `@fastify/cors` or the application) are kept, and `name` is added once, compared without case.
 * Returns `current` itself when it lists `name` already.
 */
export function withExposedHeader (current: unknown, name: string): string {
  const text = Array.isArray(current) ? current.join(', ') : current === undefined || current === null ? '' : String(current)
  if (text.trim() === '') return name
  const wanted = name.toLowerCase()
  for (const item of text.split(',')) if (item.trim().toLowerCase() === wanted) return text
  return `${text}, ${name}`
}
