import { escapeJson } from '../../format/escape'
import { useColor } from '../../sinks/console'
import { CliError, type CommandSpec } from '../args'
import { logDir, readLogs, warn, type Command } from '../context'
import { plural } from '../output'
import { problems } from '../problems'
import { textLine } from '../records'

const spec: CommandSpec = {
  name: 'trace',
  usage: '<request-id | trace-id> [options]',
  summary: 'Every record of one request (or of one trace: 32 hex digits), from every JSON file (rotated and .gz included), in time order.',
  description: 'Printed in the text layout of api.log (levels colored on a terminal unless NO_COLOR is set), or\nas the JSON lines with --json. A trace id (trace_id, 32 lowercase hex digits) gives the lines of\nevery request of that trace this service logged. Exits with 1 when the id is in no file.',
  positionals: 1,
  options: {
    json: { type: 'boolean', help: 'print the JSON lines as they are in the files' }
  }
}

const TRACE_ID = /^[0-9a-f]{32}$/

interface Found {
  readonly time: number
  readonly order: number
  readonly text: string
  readonly object: Record<string, unknown>
}

export const trace: Command = {
  spec,
  async run ({ values, positionals }, context) {
    const id = positionals[0]
    if (id.trim() === '') throw new CliError('trace: the request id is empty')
    const dir = logDir(values)
    // A trace id (the form W3C and OpenTelemetry give it) may also be some request's id.
    const traceId = TRACE_ID.test(id)
    // The id as the plugin writes it: only lines holding these bytes are parsed.
    const needle = Buffer.from(traceId ? `"${id}"` : `"request_id":${escapeJson(JSON.stringify(id))}`)
    const found: Found[] = []
    const scan = await readLogs(context, dir, {
      contains: needle,
      onRecord (view) {
        const object = view.object()
        if (object.request_id !== id && (!traceId || object.trace_id !== id)) return
        found.push({ time: Date.parse(view.time()), order: found.length, text: view.text(), object })
      }
    })
    warn(context, problems(scan, true))
    if (found.length === 0) {
      context.stderr.write(`api-logs: no record of ${traceId ? 'request or trace' : 'request'} ${JSON.stringify(id)} in ${plural(scan.scans.length, 'file')} of ${dir}\n`)
      return 1
    }
    // Files are read oldest first, so equal times keep the order they were written in.
    found.sort((a, b) => a.time - b.time || a.order - b.order)
    const color = useColor(context.stdout)
    for (const record of found) context.stdout.write(values.json === true ? record.text + '\n' : textLine(record.object, color))
    return 0
  }
}
