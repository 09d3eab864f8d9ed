/**
 * A seeded generator of test data for the redaction property tests: secrets ("canaries") placed
 * under randomly spelled sensitive keys and inside strings in the shapes the Redactor promises to
 * find. Everything depends only on the seed, so a failure is replayed with REDACTION_SEED=<seed>.
 */

/** The seed of this run: REDACTION_SEED when set, else the clock (31 bits). */
export function seedFromEnv (): number {
  const fromEnv = process.env.REDACTION_SEED
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const seed = Number(fromEnv)
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`REDACTION_SEED must be a non-negative integer, not ${fromEnv}`)
    return seed % 2 ** 31
  }
  return Date.now() % 2 ** 31
}

/** mulberry32: a small, fast 32-bit PRNG; the same seed gives the same sequence. */
export function mulberry32 (seed: number): () => number {
  let a = seed >>> 0
  return function next (): number {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789'

export class Rng {
  private readonly source: () => number
  constructor (seed: number) {
    this.source = mulberry32(seed)
  }

  /** [0, 1) */
  next (): number {
    return this.source()
  }

  /** An integer in [0, n). */
  int (n: number): number {
    return Math.floor(this.source() * n)
  }

  /** An integer in [min, max]. */
  between (min: number, max: number): number {
    return min + this.int(max - min + 1)
  }

  chance (p: number): boolean {
    return this.source() < p
  }

  pick<T> (items: readonly T[]): T {
    return items[this.int(items.length)]
  }

  /** `n` characters of [a-z0-9]. */
  alnum (n: number): string {
    let out = ''
    for (let i = 0; i < n; i++) out += ALNUM[this.int(ALNUM.length)]
    return out
  }

  digits (n: number): string {
    let out = ''
    for (let i = 0; i < n; i++) out += String(this.int(10))
    return out
  }
}

/** The Luhn check digit that makes `body + digit` valid. */
export function luhnCheckDigit (body: string): string {
  let sum = 0
  let double = true
  for (let i = body.length - 1; i >= 0; i--) {
    let d = body.charCodeAt(i) - 48
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return String((10 - (sum % 10)) % 10)
}

export function luhnValid (digits: string): boolean {
  return luhnCheckDigit(digits.slice(0, -1)) === digits.slice(-1)
}

/** A Luhn-valid card number of 16 digits. */
export function cardNumber (rng: Rng): string {
  const body = rng.pick(['4', '5', '37', '6011']) // Visa, Mastercard, Amex-like, Discover prefixes
  const rest = body + rng.digits(15 - body.length)
  return rest + luhnCheckDigit(rest)
}

/**
 * Unique secrets. Canaries are `cnry<seed36>x<n, 5 digits><4 random>`: only [a-z0-9], 16+ chars,
 * no digit run long enough to look like a card number, none a prefix of another. Each remembers
 * where it was placed, so a leak report says which placement leaked.
 */
export class Canaries {
  readonly seed: number
  readonly rng: Rng
  readonly tag: string
  /** canary -> where it was placed */
  readonly placed = new Map<string, string>()
  /** Values that must stay visible (harmless strings under harmless keys). */
  readonly controls = new Set<string>()
  private count = 0

  constructor (seed: number, rng: Rng) {
    this.seed = seed
    this.rng = rng
    this.tag = seed.toString(36)
  }

  /** A fresh canary, recorded with its placement. */
  next (where: string): string {
    const canary = `cnry${this.tag}x${String(this.count++).padStart(5, '0')}${this.rng.alnum(4)}`
    this.placed.set(canary, where)
    return canary
  }

  /** Records a secret that is not a `cnry` string (card numbers, numeric secrets). */
  record (secret: string, where: string): string {
    this.placed.set(secret, where)
    return secret
  }

  /** A fresh harmless value that must remain in the logs. */
  control (): string {
    const value = `ctrl${this.tag}x${String(this.count++).padStart(5, '0')}${this.rng.alnum(4)}`
    this.controls.add(value)
    return value
  }

  /** A harmless value that may legitimately disappear (it sits under a sensitive key). */
  filler (): string {
    return `fill${this.tag}x${String(this.count++).padStart(5, '0')}`
  }

  /** A point to come back to when a generated value is thrown away unsent. */
  checkpoint (): { placed: number, controls: number } {
    return { placed: this.placed.size, controls: this.controls.size }
  }

  /** Forgets the canaries and controls made since `point` (they were never sent). */
  rollback (point: { placed: number, controls: number }): void {
    for (const key of [...this.placed.keys()].slice(point.placed)) this.placed.delete(key)
    for (const value of [...this.controls].slice(point.controls)) this.controls.delete(value)
  }

  /** The `cnry` canaries found in `text` (one scan), plus the other secrets found by search. */
  findIn (text: string): string[] {
    const found = new Set<string>()
    const pattern = new RegExp(`cnry${this.tag}x\\d{5}[a-z0-9]{4}`, 'g')
    for (const match of text.matchAll(pattern)) if (this.placed.has(match[0])) found.add(match[0])
    for (const secret of this.placed.keys()) {
      if (!secret.startsWith('cnry') && text.includes(secret)) found.add(secret)
    }
    return [...found]
  }
}

// Sensitive names as words; every spelling of them must be redacted.
const SENSITIVE_WORDS: ReadonlyArray<readonly string[]> = [
  ['password'], ['passwd'], ['pwd'], ['secret'], ['token'], ['access', 'token'], ['refresh', 'token'],
  ['id', 'token'], ['api', 'key'], ['authorization'], ['proxy', 'authorization'], ['cookie'], ['set', 'cookie'],
  ['session'], ['session', 'id'], ['credit', 'card'], ['card', 'number'], ['cvv'], ['ssn'], ['private', 'key']
]
// Words that make a key sensitive anywhere in it, so they may also take a suffix.
const FRAGMENT_WORDS = new Set(['password', 'passwd', 'secret'])
const PREFIXES = ['new', 'old', 'x', 'github', 'client', 'user', 'db', 'my', 'stripe', 'aws', 'current']
const SUFFIXES = ['confirmation', 'hash', 'value', 'old', 'v2', 'plain']
const SEPARATORS = ['', '_', '-', '.']

function casing (rng: Rng, words: string[]): string {
  const style = rng.int(5)
  const sep = rng.pick(SEPARATORS)
  const mixed = rng.chance(0.2)
  const parts = words.map((word, i) => {
    switch (style) {
      case 0: return word.toLowerCase()
      case 1: return word.toUpperCase()
      case 2: return i === 0 ? word.toLowerCase() : word[0].toUpperCase() + word.slice(1).toLowerCase()
      case 3: return word[0].toUpperCase() + word.slice(1).toLowerCase()
      default: return [...word].map((c) => rng.chance(0.5) ? c.toUpperCase() : c.toLowerCase()).join('')
    }
  })
  return parts.map((part, i) => (i === 0 ? '' : mixed ? rng.pick(SEPARATORS) : sep) + part).join('')
}

/** A sensitive key, randomly spelled: `X-Api-Key`, `newPassword`, `CLIENT_SECRET`, `user.session-id`... */
export function sensitiveKey (rng: Rng): string {
  const base = rng.pick(SENSITIVE_WORDS)
  let words = base.map((word) => {
    // A separator inside a word (`pass_word`) is dropped by normalization too.
    if (word.length > 4 && rng.chance(0.1)) {
      const cut = rng.between(2, word.length - 2)
      return word.slice(0, cut) + rng.pick(['_', '-', '.']) + word.slice(cut)
    }
    return word
  })
  if (rng.chance(0.45)) words = [rng.pick(PREFIXES), ...words]
  if (base.length === 1 && FRAGMENT_WORDS.has(base[0]) && rng.chance(0.3)) words = [...words, rng.pick(SUFFIXES)]
  return casing(rng, words)
}

/** A sensitive key usable as an HTTP header name (no `.` at the ends, lower case after parsing). */
export function sensitiveHeaderName (rng: Rng): string {
  return sensitiveKey(rng).replace(/^[-_.]+|[-_.]+$/g, '') || 'x-api-key'
}

// Harmless keys, some of them close to sensitive names (the contract says they stay visible).
export const HARMLESS_KEYS = [
  'name', 'title', 'note', 'description', 'comment', 'items', 'meta', 'data', 'label', 'token_count',
  'tokenizer', 'max_tokens', 'author', 'passage', 'amount', 'city', 'tags', 'kind', 'status', 'details',
  'child', 'keyboard', 'session_count', 'card_type', 'monkey', 'sessions_total'
]

export type ShapeName = 'bearer' | 'basic' | 'jwt' | 'card' | 'url' | 'pair' | 'quoted' | 'colon'
export const SHAPES: readonly ShapeName[] = ['bearer', 'basic', 'jwt', 'card', 'url', 'pair', 'quoted', 'colon']

/**
 * One secret in one of the promised shapes, the canaries it holds recorded as `where:shape`.
 * `only` restricts the shapes (a query string cannot hold a space, for example).
 */
export function secretShape (rng: Rng, canaries: Canaries, where: string, only: readonly ShapeName[] = SHAPES): { text: string, shape: ShapeName } {
  const shape = rng.pick(only)
  const tag = `${where}:${shape}`
  switch (shape) {
    case 'bearer': return { shape, text: `${rng.pick(['Bearer', 'Bearer', 'bearer', 'BEARER'])} ${canaries.next(tag)}` }
    case 'basic': return { shape, text: `Basic ${canaries.next(tag)}${rng.pick(['', '=', '=='])}` }
    case 'jwt': return { shape, text: `eyJ${canaries.next(tag)}.${canaries.next(tag)}.${canaries.next(tag)}` }
    case 'card': {
      const digits = cardNumber(rng)
      const sep = rng.pick(['', '', ' ', '-'])
      const text = sep === '' ? digits : digits.match(/.{4}/g)!.join(sep)
      return { shape, text: canaries.record(text, tag) }
    }
    case 'url': return { shape, text: `${rng.pick(['https', 'postgres', 'redis', 'ftp'])}://${rng.pick(['user', 'app', 'admin'])}:${canaries.next(tag)}@${rng.pick(['db.internal', 'example.com:5432', 'host'])}/${rng.pick(['path', 'db', ''])}` }
    case 'pair': return { shape, text: `${sensitiveKey(rng)}=${canaries.next(tag)}` }
    case 'quoted': return { shape, text: `{"${sensitiveKey(rng)}":${rng.pick(['', ' '])}"${canaries.next(tag)}"}` }
    case 'colon': return { shape, text: `${sensitiveKey(rng)}: ${canaries.next(tag)}` }
  }
}

/** The shape inside some harmless text (never glued to a word character, as the shapes require). */
export function embed (rng: Rng, text: string, singleLine = false): string {
  switch (rng.int(singleLine ? 4 : 6)) {
    case 0: return text
    case 1: return `see ${text} here`
    case 2: return `(${text})`
    case 3: return `${text}; retry later`
    case 4: return `ctx ${text}`
    default: return `first line\n${text}\nlast line`
  }
}

export interface GenerateOptions {
  maxDepth: number
  where: string
}

/**
 * A random JSON-safe value (objects and arrays nested up to `maxDepth`) with canaries under
 * sensitive keys and in secret shapes, and controls elsewhere.
 */
export function generateValue (rng: Rng, canaries: Canaries, options: GenerateOptions, depth = 0, hidden = false): unknown {
  if (depth >= options.maxDepth || (depth > 0 && rng.chance(0.3))) return leaf(rng, canaries, options, hidden)
  if (rng.chance(0.3)) {
    const items: unknown[] = []
    const n = rng.between(1, 3)
    for (let i = 0; i < n; i++) items.push(generateValue(rng, canaries, options, depth + 1, hidden))
    return items
  }
  const object: Record<string, unknown> = {}
  const n = rng.between(1, 4)
  for (let i = 0; i < n; i++) {
    const roll = rng.next()
    if (roll < 0.3) {
      // (a) a secret under a sensitive key: a string, a number, or a whole subtree.
      const key = sensitiveKey(rng)
      const tag = `${options.where}:key`
      const kind = rng.int(4)
      object[key] = kind === 0
        ? generateValue(rng, canaries, options, depth + 1, true)
        : kind === 1
          ? [canaries.next(`${tag}-array`), { inner: canaries.next(`${tag}-array`) }]
          : kind === 2 && rng.chance(0.5)
            ? Number(canaries.record('7' + rng.digits(14), `${tag}-number`))
            : canaries.next(tag)
      if (kind === 0) object[key] = { wrapped: object[key], also: canaries.next(`${tag}-subtree`) }
    } else if (roll < 0.55) {
      // (b) a secret shape inside a string under a harmless key.
      const { text } = secretShape(rng, canaries, `${options.where}:string`)
      object[uniqueKey(rng, object)] = embed(rng, text)
    } else if (roll < 0.62) {
      // A secret shape as a key.
      const { text } = secretShape(rng, canaries, `${options.where}:object-key`, ['bearer', 'jwt', 'card', 'url', 'pair'])
      // Two such keys can redact to the same `[REDACTED]` key: their values may be lost, not checked.
      object[text] = canaries.filler()
    } else {
      object[uniqueKey(rng, object)] = generateValue(rng, canaries, options, depth + 1, hidden)
    }
  }
  return object
}

function uniqueKey (rng: Rng, object: Record<string, unknown>): string {
  let key = rng.pick(HARMLESS_KEYS)
  while (key in object) key = key + rng.alnum(1)
  return key
}

function leaf (rng: Rng, canaries: Canaries, options: GenerateOptions, hidden: boolean): unknown {
  const roll = rng.int(10)
  if (roll < 6) return hidden ? canaries.filler() : canaries.control()
  if (roll < 8) return hidden ? canaries.next(`${options.where}:key-subtree`) : rng.int(1000)
  if (roll < 9) return rng.chance(0.5)
  return null
}
