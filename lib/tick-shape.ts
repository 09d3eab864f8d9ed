import { executionAsyncResource } from 'node:async_hooks'

// process.nextTick builds every tick object with one object literal, whose hidden classes V8 drops
// in any full GC that runs while no tick object is alive (the first one after startup, once the
// heap has grown: loading TypeBox and Ajv was enough). The next tick then gets new ones,
// nextTick's property stores turn megamorphic for good, and every tick object is built in V8's
// runtime: 21k instructions more per HTTP request on Node 24, 35k on Node 20 (docs/benchmarks.md).
// One tick object kept alive keeps its hidden classes, and the stores stay monomorphic.
let kept: object | undefined

process.nextTick(function keepTickObject () {
  kept = executionAsyncResource()
})

/** The tick object kept alive, once the tick has run. */
export function keptTickObject (): object | undefined {
  return kept
}
