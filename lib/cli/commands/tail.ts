import { open, readdir, stat, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { useColor } from '../../sinks/console'
import { positiveInteger, stringOption, type CommandSpec, type ParsedArgs } from '../args'
import { logDir, type CliContext, type Command } from '../context'
import { discoverLogFiles, isLiveFile, parseLogName } from '../files'
import { endpointMatcher, minimumLevel } from '../filters'
import { LineView, RECORD } from '../line'
import { textLine } from '../records'

const spec: CommandSpec = {
  name: 'tail',
  usage: '[options]',
  summary: 'The last records of the live JSON file, filtered, in the text layout of api.log; -f keeps following it.',
  description: 'Follows api_structured.jsonl (and the live file of each cluster worker, api_structured.wN.jsonl) by name:\n' +
    'after a rotation it finishes the renamed file, then reads the new one. Levels are colored on a terminal\n' +
    'unless NO_COLOR is set. Stop it with Ctrl-C.',
  positionals: 0,
  options: {
    follow: { type: 'boolean', short: 'f', help: 'keep printing records as they are written, across rotations' },
    lines: { type: 'string', short: 'n', value: 'N', help: 'how many records to print first (default 10)' },
    level: { type: 'string', value: 'LEVEL', help: 'only this level and above: DEBUG, INFO, WARNING, ERROR, CRITICAL' },
    'request-id': { type: 'string', value: 'ID', help: 'only the records of this request' },
    endpoint: { type: 'string', value: 'PATTERN', help: 'only requests to this route pattern; * matches anything' },
    json: { type: 'boolean', help: 'print the JSON lines as they are in the file' }
  }
}

const POLL_MS = 250
const BLOCK = 64 * 1024
const NEWLINE = 0x0a

interface Shown {
  readonly time: string
  readonly order: number
  readonly text: string
}

type Accept = (view: LineView) => boolean

function filter (values: ParsedArgs['values']): Accept {
  const lowest = minimumLevel(stringOption(values, 'level'))
  const requestId = stringOption(values, 'request-id')
  const matches = endpointMatcher(stringOption(values, 'endpoint'))
  return function accept (view) {
    if (view.level < lowest) return false
    const c = view.completion
    if (requestId !== undefined && (c === null ? view.object().request_id : c.requestId) !== requestId) return false
    if (matches !== null) {
      if (c !== null) return matches(c.endpoint, c.path)
      const object = view.object()
      if (typeof object.path !== 'string') return false
      return matches(typeof object.endpoint === 'string' ? object.endpoint : null, object.path)
    }
    return true
  }
}

/**
 * The last `count` accepted records of a file, read backwards in blocks, and where following
 * should start: after the last whole line (a line still being written is read once it is whole).
 */
async function lastRecords (path: string, count: number, accept: Accept, render: (view: LineView) => string): Promise<{ shown: Shown[], followFrom: number }> {
  const handle = await open(path, 'r')
  const view = new LineView()
  const found: Shown[] = []
  let followFrom = 0
  try {
    let end = (await handle.stat()).size
    // The start of a line whose beginning is in an earlier block.
    let leftover = Buffer.alloc(0)
    // Until a newline is seen, the bytes read are the end of the file's unfinished last line.
    let trailing = true
    while (end > 0 && found.length < count) {
      const start = Math.max(0, end - BLOCK)
      const block = Buffer.alloc(end - start)
      await handle.read(block, 0, block.length, start)
      const data = leftover.length === 0 ? block : Buffer.concat([block, leftover])
      end = start
      let right = data.length
      if (trailing) {
        const last = data.lastIndexOf(NEWLINE)
        if (last === -1) {
          leftover = data
          continue
        }
        trailing = false
        followFrom = start + last + 1
        right = last
      }
      for (;;) {
        const newline = right === 0 ? -1 : data.lastIndexOf(NEWLINE, right - 1)
        if (newline === -1) {
          if (start === 0) take(data, 0, right, start)
          leftover = data.subarray(0, right)
          break
        }
        take(data, newline + 1, right, start)
        if (found.length === count) break
        right = newline
      }
    }
  } finally {
    await handle.close()
  }
  return { shown: found.reverse(), followFrom }

  function take (data: Buffer, from: number, to: number, offset: number): void {
    if (from >= to || view.classifyLine(data, from, to) !== RECORD || !accept(view)) return
    found.push({ time: view.time(), order: offset + from, text: render(view) })
  }
}

interface Followed {
  handle: FileHandle
  ino: number
  position: number
  carry: Buffer | null
}

/** Reads what was appended since the last call; a line is printed once its newline is there. */
async function drain (file: Followed, emit: (line: Buffer) => void): Promise<void> {
  const block = Buffer.alloc(BLOCK)
  for (;;) {
    const { bytesRead } = await file.handle.read(block, 0, BLOCK, file.position)
    if (bytesRead === 0) return
    file.position += bytesRead
    let data = block.subarray(0, bytesRead)
    if (file.carry !== null) {
      data = Buffer.concat([file.carry, data])
      file.carry = null
    }
    let start = 0
    for (;;) {
      const end = data.indexOf(NEWLINE, start)
      if (end === -1) break
      emit(data.subarray(start, end))
      start = end + 1
    }
    if (start < data.length) file.carry = Buffer.from(data.subarray(start))
  }
}

async function liveNames (dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[])
  return names.filter((name) => {
    const parsed = parseLogName(name)
    return parsed !== null && isLiveFile(parsed)
  }).sort()
}

async function follow (context: CliContext, dir: string, start: Map<string, number>, print: (line: Buffer) => void): Promise<void> {
  let signal = context.signal
  let stop: (() => void) | null = null
  if (signal === undefined) {
    const controller = new AbortController()
    stop = () => controller.abort()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    signal = controller.signal
  }
  const followed = new Map<string, Followed>()
  try {
    while (!signal.aborted) {
      for (const name of await liveNames(dir)) {
        const path = join(dir, name)
        const info = await stat(path).catch(() => null)
        if (info === null) continue
        let file = followed.get(name)
        if (file !== undefined && info.ino !== file.ino) {
          // Rotated: what was written to the renamed file before it moved is printed first.
          await drain(file, print)
          await file.handle.close()
          file = undefined
          followed.delete(name)
        }
        if (file === undefined) {
          const handle = await open(path, 'r').catch(() => null)
          if (handle === null) continue
          file = { handle, ino: info.ino, position: start.get(name) ?? 0, carry: null }
          start.delete(name)
          followed.set(name, file)
        } else if (info.size < file.position) {
          file.position = 0
          file.carry = null
        }
        await drain(file, print)
      }
      await sleep(POLL_MS, undefined, { signal }).catch(() => {})
    }
  } finally {
    for (const file of followed.values()) await file.handle.close()
    if (stop !== null) {
      process.removeListener('SIGINT', stop)
      process.removeListener('SIGTERM', stop)
    }
  }
}

export const tail: Command = {
  spec,
  async run ({ values }, context) {
    const dir = logDir(values)
    const count = positiveInteger(values, 'lines', 10)
    const accept = filter(values)
    const color = useColor(context.stdout)
    const render = (view: LineView): string => values.json === true ? view.text() + '\n' : textLine(view.object(), color)
    const names = (await discoverLogFiles(dir)).files.filter(isLiveFile).map((file) => file.name)
    const start = new Map<string, number>()
    const shown: Shown[] = []
    for (const name of names) {
      const last = await lastRecords(join(dir, name), count, accept, render)
      shown.push(...last.shown)
      start.set(name, last.followFrom)
    }
    shown.sort((a, b) => a.time < b.time ? -1 : a.time > b.time ? 1 : a.order - b.order)
    for (const record of shown.slice(-count)) context.stdout.write(record.text)
    if (names.length === 0) context.stderr.write(`api-logs: no live api_structured.jsonl in ${dir} yet\n`)
    if (values.follow !== true) return 0
    const view = new LineView()
    await follow(context, dir, start, (line) => {
      if (line.length === 0 || view.classifyLine(line, 0, line.length) !== RECORD || !accept(view)) return
      context.stdout.write(render(view))
    })
    return 0
  }
}
