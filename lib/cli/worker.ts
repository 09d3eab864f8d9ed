import { parentPort, workerData } from 'node:worker_threads'
import type { RunUnit, Unit, WorkerTask } from './parallel'

// A worker thread of `runUnits`: runs each unit it is sent, reports the bytes it reads (for the
// progress line) every few megabytes, and sends the unit's result back.
const port = parentPort as NonNullable<typeof parentPort>
const task = workerData as WorkerTask
const { runUnit } = require(task.module) as { runUnit: RunUnit<unknown> }
const REPORT_BYTES = 8 << 20
let unreported = 0

port.on('message', (unit: Unit) => {
  runUnit(unit, task.options, (bytes) => {
    unreported += bytes
    if (unreported >= REPORT_BYTES) {
      port.postMessage({ bytes: unreported })
      unreported = 0
    }
  }).then((result) => {
    if (unreported > 0) port.postMessage({ bytes: unreported })
    unreported = 0
    port.postMessage({ index: unit.index, result })
  })
})
