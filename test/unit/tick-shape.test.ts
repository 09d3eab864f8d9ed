import t from 'tap'
import { keptTickObject } from '../../dist/tick-shape.js'

// The kept object must be one of process.nextTick's tick objects (what executionAsyncResource()
// returns inside a tick callback): anything else would keep the wrong hidden classes alive.
t.test('one process.nextTick object is kept alive', async (t) => {
  await new Promise((resolve) => setImmediate(resolve))
  const kept = keptTickObject()
  t.type(kept, 'object')
  t.ok(Object.hasOwn(kept as object, 'callback') && Object.hasOwn(kept as object, 'args'), 'it has a tick object\'s callback and args')
  t.ok(Object.getOwnPropertySymbols(kept).map(String).includes('Symbol(async_id_symbol)'), 'and its async id')
})
