'use strict'

// Why one full GC can make every process.nextTick slower for good (docs/benchmarks.md, "Where the
// floor goes"). Run:
//   node --allow-natives-syntax --expose-gc benchmarks/repro/tick-shape.js [keep] | grep -A1 DefineKeyedOwn
// Without `keep`, a full GC runs while no tick object is alive: V8 drops the hidden classes of
// nextTick's object literal, the next tick object gets new ones, and every store after the first
// prints MEGAMORPHIC (TurboFan then leaves them to the runtime). With `keep`, one tick object is
// kept alive, as lib/tick-shape.ts does, and they stay MONOMORPHIC.
const { executionAsyncResource } = require('node:async_hooks')
const debugPrint = new Function('value', '%DebugPrint(value)') // eslint-disable-line no-new-func

let kept // eslint-disable-line no-unused-vars
if (process.argv[2] === 'keep') process.nextTick(() => { kept = executionAsyncResource() })

function ticks (count, then) {
  let left = count
  const next = () => { if (--left > 0) process.nextTick(next); else setImmediate(then) }
  next()
}

ticks(1000, () => {
  globalThis.gc()
  ticks(1000, () => debugPrint(process.nextTick))
})
