import t from 'tap'
import { Redactor, REDACTED, normalizeKey, truncate } from '../../dist/redact.js'

// Unit tests of the redaction rules, straight on a Redactor: the shapes, the key names, the copies.

const redactor = new Redactor()

t.test('key names: normalized, any depth, equal to or ending with a sensitive name', async (t) => {
  t.equal(normalizeKey('X-Api_Key.v2'), 'xapikeyv2')
  for (const key of ['password', 'PASSWORD', 'api_key', 'apiKey', 'X-Api-Key', 'client_secret', 'passwordConfirmation', 'access-token', 'Set-Cookie', 'sessionId']) {
    t.ok(redactor.isSensitiveKey(key), `${key} is sensitive`)
  }
  for (const key of ['token_count', 'tokenizer', 'author', 'passage', 'keyboard', 'user']) {
    t.notOk(redactor.isSensitiveKey(key), `${key} is not`)
  }
})

t.test('secret shapes inside strings', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['Bearer token', 'Authorization: Bearer abc.def-123', `Authorization: Bearer ${REDACTED}`],
    ['Basic credentials', 'sent Basic dXNlcjpwYXNz here', `sent Basic ${REDACTED} here`],
    ['JWT', 'id eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig end', `id ${REDACTED} end`],
    ['Luhn-valid card', 'card 4111 1111 1111 1111 ok', `card ${REDACTED} ok`],
    ['URL user info', 'postgres://app:hunter2@db:5432/x', `postgres://${REDACTED}@db:5432/x`],
    ['name=value pair', 'retry with password=hunter2&user=ana', `retry with password=${REDACTED}&user=ana`],
    ['name: value pair', 'api_key: sk-123 and more', `api_key: ${REDACTED} and more`],
    ['JSON in a string', '{"token": "abc", "n": 1}', `{"token": "${REDACTED}", "n": 1}`]
  ]
  for (const [name, input, expected] of cases) t.equal(redactor.redactString(input), expected, name)
})

t.test('look-alikes stay: not every long number is a card, not every pair is sensitive', async (t) => {
  for (const text of ['order 4111 1111 1111 1112', 'trace 0123456789abcdef0123', 'page=2&sort=asc', 'a basic idea', 'id=550e8400-e29b-41d4-a716-446655440000']) {
    t.equal(redactor.redactString(text), text, text)
  }
})

t.test('a harmless pair cannot hide the secret that follows it', async (t) => {
  t.equal(redactor.redactString('user: ana password: hunter2'), `user: ana password: ${REDACTED}`)
})

t.test('objects: copy-on-write, cycles, errors, bounds', async (t) => {
  const clean = { a: 1, nested: { b: 'text' } }
  t.equal(redactor.redact(clean), clean, 'nothing to redact: the same object, not a copy')
  const dirty = { user: 'ana', password: 'pw', list: [{ token: 't' }] }
  const safe = redactor.redact(dirty) as typeof dirty
  t.same(safe, { user: 'ana', password: REDACTED, list: [{ token: REDACTED }] })
  t.equal(dirty.password, 'pw', 'the input is not changed')
  const loop: Record<string, unknown> = { name: 'x' }
  loop.self = loop
  t.same(redactor.redact(loop), { name: 'x', self: '[Circular]' })
  const error = Object.assign(new Error('failed with token=abc'), { secret: 's' })
  t.match(redactor.redact(error), { type: 'Error', message: `failed with token=${REDACTED}`, secret: REDACTED })
  let deep: Record<string, unknown> = { leaf: true }
  for (let i = 0; i < 50; i++) deep = { deep }
  t.match(JSON.stringify(redactor.redact(deep)), /\[Max depth\]/, 'depth is bounded')
  t.equal(redactor.redact(10n), '10', 'BigInt as a string')
  t.equal(redactor.redact(Buffer.from('secret')), '[Buffer 6 bytes]', 'buffers by size, never their bytes')
})

t.test('URLs: sensitive query values, shapes, percent-encoded shapes', async (t) => {
  t.equal(redactor.redactUrl('/x?token=abc&page=2'), `/x?token=${REDACTED}&page=2`)
  t.equal(redactor.redactUrl('/x?q=Bearer%20abcdef'), `/x?q=Bearer ${REDACTED}`, 'decoded when a shape hides behind percent-encoding')
  t.equal(redactor.redactUrl('/plain/path'), '/plain/path')
})

t.test('redact, then cut: a cut never leaves half a secret', async (t) => {
  const text = 'x'.repeat(90) + ' Bearer ' + 'A'.repeat(40)
  const cut = redactor.redactAndTruncate(text, 100)
  t.notMatch(cut, /AAAA/, 'no part of the token')
  t.match(cut, /…\[truncated \d+ bytes\]$/)
  t.equal(truncate('short', 10), 'short')
})

t.test('extra keys, replaced defaults, shapes off', async (t) => {
  const extra = new Redactor({ keys: ['customer_pin'] })
  t.ok(extra.isSensitiveKey('customerPin'))
  t.ok(extra.isSensitiveKey('password'), 'defaults kept')
  const replaced = new Redactor({ keys: ['pin'], replaceDefaults: true })
  t.ok(replaced.isSensitiveKey('pin'))
  t.notOk(replaced.isSensitiveKey('password'), 'defaults dropped')
  t.notOk(replaced.isSensitiveKey('password_hint'), 'fragments dropped too')
  const keysOnly = new Redactor({ values: false })
  t.equal(keysOnly.redactString('Bearer abcdef'), 'Bearer abcdef', 'shapes off')
  t.same(keysOnly.redact({ token: 'x' }), { token: REDACTED }, 'keys still on')
})

t.test('an incoming id shaped like a JWT is a credential', async (t) => {
  t.ok(redactor.looksLikeCredential('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig'))
  t.notOk(redactor.looksLikeCredential('req-42'))
})
