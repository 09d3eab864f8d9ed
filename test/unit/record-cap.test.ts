import t from 'tap'
import { capRecord } from '../../dist/record-cap.js'
import { RawJson } from '../../dist/record.js'

// Unit tests of the record cap: no Fastify, no files.

function jsonBytes (message: string, fields: Record<string, unknown> | null): number {
  const plain: Record<string, unknown> = { message }
  for (const [key, value] of Object.entries(fields ?? {})) plain[key] = value instanceof RawJson ? JSON.parse(value.json) : value
  return Buffer.byteLength(JSON.stringify(plain))
}

t.test('a record that fits comes back as it was', async (t) => {
  const fields = { a: 'x', b: 2 }
  const capped = capRecord('hello', fields, 2048)
  t.equal(capped.message, 'hello')
  t.equal(capped.fields, fields, 'the same object: nothing copied')
  t.same(capRecord('m', null, 2048), { message: 'm', fields: null })
})

t.test('the largest field is shortened first, and says so', async (t) => {
  const fields = { small: 'keep me', big: 'b'.repeat(10_000), other: 'y'.repeat(500) }
  const capped = capRecord('msg', fields, 4096)
  t.equal(capped.fields?.small, 'keep me')
  t.equal(capped.fields?.other, 'y'.repeat(500), 'a field that fits once the big one is cut is kept whole')
  t.match(capped.fields?.big, /^b+…\[truncated \d+ chars\]$/)
  t.ok(jsonBytes(capped.message, capped.fields) <= 4096 - 256, `within the cap with room for the record keys (${jsonBytes(capped.message, capped.fields)} bytes)`)
  t.equal(fields.big.length, 10_000, 'the caller\'s object is not changed')
})

t.test('bytes are counted, not characters: multi-byte text and escapes', async (t) => {
  for (const [name, unit] of [['3-byte characters', '€'], ['escaped controls', '\u0001'], ['emoji', '😀']] as const) {
    const capped = capRecord('m', { text: unit.repeat(20_000) }, 8192)
    const text = capped.fields?.text as string
    const serialized = Buffer.byteLength(JSON.stringify(text))
    t.ok(serialized <= 8192, `${name}: ${serialized} serialized bytes fit in 8192`)
    t.match(text, /…\[truncated \d+ chars\]$/, `${name}: says it was cut`)
  }
})

t.test('the message is shortened too when it is the largest part', async (t) => {
  const capped = capRecord('m'.repeat(50_000), { a: 1 }, 4096)
  t.ok(capped.message.length < 4096, `message cut to ${capped.message.length} characters`)
  t.match(capped.message, /…\[truncated \d+ chars\]$/)
  t.same(capped.fields, { a: 1 })
})

t.test('serialized objects (RawJson) are shortened as text', async (t) => {
  const json = new RawJson(JSON.stringify({ list: 'z'.repeat(9000) }))
  const capped = capRecord('m', { body: json }, 4096)
  t.type(capped.fields?.body, 'string', 'an oversized object becomes a cut string')
  t.match(capped.fields?.body, /^\{"list":"z+…\[truncated \d+ chars\]$/)
})

t.test('many small fields: the last ones are dropped and counted', async (t) => {
  const fields: Record<string, unknown> = {}
  for (let i = 0; i < 500; i++) fields[`field_${i}`] = 'v'.repeat(60)
  const capped = capRecord('m', fields, 16384)
  const kept = Object.keys(capped.fields ?? {}).filter((key) => key.startsWith('field_'))
  t.ok(kept.length > 0 && kept.length < 500, `${kept.length} of 500 fields kept`)
  t.same(kept, Object.keys(fields).slice(0, kept.length), 'the first fields are the ones kept, in order')
  t.equal(capped.fields?.fields_truncated, `${500 - kept.length} more fields`)
  t.ok(jsonBytes(capped.message, capped.fields) <= 16384)
})

t.test('values that cannot be shortened (numbers, booleans, short strings) are left alone', async (t) => {
  const fields: Record<string, unknown> = { n: 123456789, ok: true, short: 's'.repeat(40) }
  const capped = capRecord('x', fields, 2048)
  t.same(capped.fields, fields)
})
