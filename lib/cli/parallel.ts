import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import type { LogFile } from './files'
import type { ByteRange, FileScan } from './reader'

/**
 * Reading on several threads: the files are cut into units (a .gz file whole, a plain file in
 * ranges of lines), and this thread and `jobs - 1` worker threads take the next unit as they
 * finish one. Each unit's counts come back as plain data and are merged in unit order, so the
 * result does not depend on which thread read what.
 */

export interface Unit {
  readonly index: number
  readonly file: LogFile
  readonly range: ByteRange
}

export interface UnitResult<T> {
  readonly scan: FileScan
  readonly data: T
}

/** A task a worker thread can run: its module exports `runUnit`. */
export interface WorkerTask {
  readonly module: string
  readonly options: unknown
}

export type RunUnit<T> = (unit: Unit, options: any, onBytes?: (bytes: number) => void) => Promise<UnitResult<T>>

/** Plain files larger than 1.5 ranges are cut into ranges of about `rangeBytes`. */
export function planUnits (files: LogFile[], rangeBytes: number): Unit[] {
  const units: Unit[] = []
  for (const file of files) {
    const parts = file.gzip ? 1 : Math.max(1, Math.round(file.size / rangeBytes))
    const step = Math.ceil(file.size / parts)
    for (let i = 0; i < parts; i++) {
      // The last range is open: lines appended since the file was listed are read too.
      units.push({ index: units.length, file, range: { start: i * step, end: i === parts - 1 ? Infinity : (i + 1) * step } })
    }
  }
  return units
}

export async function runUnits<T> (units: Unit[], jobs: number, task: WorkerTask, runUnit: RunUnit<T>, onBytes?: (bytes: number) => void): Promise<Array<UnitResult<T>>> {
  const results = new Array<UnitResult<T>>(units.length)
  let next = 0
  const take = (): Unit | undefined => next < units.length ? units[next++] : undefined

  async function here (): Promise<void> {
    for (let unit = take(); unit !== undefined; unit = take()) results[unit.index] = await runUnit(unit, task.options, onBytes)
  }

  function thread (): Promise<void> {
    return new Promise((resolve, reject) => {
      // Not this process's flags (a loader or inspector there is nothing the workers need); a
      // small young generation: what a unit allocates dies young, and memory should stay flat.
      const worker = new Worker(join(__dirname, 'worker.js'), { workerData: task, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 8 } })
      const send = (): void => {
        const unit = take()
        if (unit === undefined) {
          worker.terminate().then(() => resolve(), reject)
          return
        }
        worker.postMessage(unit)
      }
      worker.on('message', (message: { bytes: number } | { index: number, result: UnitResult<T> }) => {
        if ('bytes' in message) {
          onBytes?.(message.bytes)
          return
        }
        results[message.index] = message.result
        send()
      })
      worker.once('error', reject)
      send()
    })
  }

  const threads = Array.from({ length: Math.min(jobs, units.length) - 1 }, thread)
  await Promise.all([here(), ...threads])
  return results
}
