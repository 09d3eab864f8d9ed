'use strict'

// Renders the configuration table of README.md and docs/configuration.md from the built
// package's ApiLoggingConfigSchema (defaults, bounds, descriptions) and ENV_NAMES.
//
//   node scripts/config-table.js            print the table
//   node scripts/config-table.js --write    replace the marked section of both files
//   node scripts/config-table.js --check    exit 1 when either file is out of date
//   --root <dir>                            read and write the files under <dir> (tests)
//
// Reads dist/: run `npm run build` first when lib/config.ts changed.

const { readFileSync, writeFileSync } = require('node:fs')
const { join, resolve } = require('node:path')
const { ApiLoggingConfigSchema, ENV_NAMES } = require('..')

const START = '<!-- config-table:start -->'
const END = '<!-- config-table:end -->'
const FILES = ['README.md', 'docs/configuration.md']
// The token rule of RFC 9110 that the schema gives requestIdHeader.
const HEADER_TOKEN = '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$'

function cell (text) {
  return String(text).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\*/g, '\\*').replace(/\n/g, ' ')
}

function code (text) {
  return '`' + text + '`'
}

function defaultOf (schema) {
  const value = schema.default
  if (value === undefined) throw new Error('setting without a default in ApiLoggingConfigSchema')
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : code(value.join(','))
  if (value === '') return '(none)'
  return code(String(value))
}

function allowedOf (key, schema) {
  if (Array.isArray(schema.anyOf)) {
    const literals = schema.anyOf.map((member) => {
      if (member.const === undefined) throw new Error(`${key}: union member without a literal`)
      return code(member.const)
    })
    return key === 'level' ? `${literals.join(', ')}, or pino's names, any case` : literals.join(', ')
  }
  switch (schema.type) {
    case 'boolean':
      return 'true/false/1/0/yes/no'
    case 'integer': {
      const { minimum: min, maximum: max } = schema
      if (min !== undefined && max !== undefined) return `integer, ${min} to ${max}`
      if (min !== undefined) return `integer ≥ ${min}`
      if (max !== undefined) return `integer ≤ ${max}`
      return 'integer'
    }
    case 'number':
      return `number, ${schema.minimum} to ${schema.maximum}`
    case 'array': {
      const items = schema.items ?? {}
      if (items.type === 'object') return 'a JSON array of `{ target, options, level, format }` (docs/api.md, Transports)'
      if (items.pattern === '^/') return 'comma-separated paths, each starting with `/`'
      if (items.pattern !== undefined) return `comma-separated, each matching ${code(items.pattern)}`
      return 'comma-separated names'
    }
    case 'string':
      if (schema.pattern === HEADER_TOKEN) return 'an HTTP header name'
      if (schema.pattern !== undefined) return `matching ${code(schema.pattern.replace(/\|/g, '\\|'))}`
      if (schema.minLength !== undefined && schema.minLength > 0) return 'non-empty string'
      return 'string'
    default:
      throw new Error(`${key}: no wording for schema type ${JSON.stringify(schema.type)}`)
  }
}

/** The markdown table of every setting, in schema order. */
function renderConfigTable () {
  const properties = ApiLoggingConfigSchema.properties
  const keys = Object.keys(properties)
  const missing = keys.filter((key) => ENV_NAMES[key] === undefined)
  const extra = Object.keys(ENV_NAMES).filter((key) => !(key in properties))
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(`ApiLoggingConfigSchema and ENV_NAMES disagree: no variable for ${missing.join(', ') || '-'}; no setting for ${extra.join(', ') || '-'}`)
  }
  const rows = [
    '| Environment variable | Option | Default | Allowed | Meaning |',
    '|---|---|---|---|---|'
  ]
  for (const key of keys) {
    const schema = properties[key]
    if (typeof schema.description !== 'string' || schema.description === '') throw new Error(`${key}: no description in ApiLoggingConfigSchema`)
    rows.push(`| ${code(ENV_NAMES[key])} | ${code(key)} | ${defaultOf(schema)} | ${allowedOf(key, schema)} | ${cell(schema.description)} |`)
  }
  return rows.join('\n') + '\n'
}

/** What goes between the markers. */
function renderSection () {
  return '<!-- Generated from ApiLoggingConfigSchema by `npm run generate`: edit lib/settings.ts, not this table. -->\n' + renderConfigTable()
}

function markerPositions (text, file) {
  const start = text.indexOf(START)
  const end = text.indexOf(END)
  if (start === -1 || end === -1 || end < start || text.indexOf(START, start + 1) !== -1 || text.indexOf(END, end + 1) !== -1) {
    throw new Error(`${file}: expected exactly one ${START} followed by one ${END}`)
  }
  return { from: start + START.length, to: end }
}

/** The text between the markers (without them), or throws when the markers are missing. */
function extractSection (text, file = 'text') {
  const { from, to } = markerPositions(text, file)
  return text.slice(from, to).replace(/^\n/, '')
}

/** The text with the marked section replaced by `section`. */
function replaceSection (text, section, file = 'text') {
  const { from, to } = markerPositions(text, file)
  return text.slice(0, from) + '\n' + section + text.slice(to)
}

function lineDiff (current, wanted) {
  const have = current.split('\n')
  const want = wanted.split('\n')
  const out = []
  for (const line of have) if (line !== '' && !want.includes(line)) out.push('- ' + line)
  for (const line of want) if (line !== '' && !have.includes(line)) out.push('+ ' + line)
  return out.join('\n')
}

function main (argv) {
  const rootAt = argv.indexOf('--root')
  const root = rootAt === -1 ? resolve(__dirname, '..') : resolve(argv[rootAt + 1] ?? '.')
  const section = renderSection()
  if (argv.includes('--write')) {
    for (const file of FILES) {
      const path = join(root, file)
      const text = readFileSync(path, 'utf8')
      const updated = replaceSection(text, section, file)
      if (updated !== text) {
        writeFileSync(path, updated)
        process.stdout.write(`${file}: configuration table updated\n`)
      } else {
        process.stdout.write(`${file}: configuration table already up to date\n`)
      }
    }
    return 0
  }
  if (argv.includes('--check')) {
    let stale = 0
    for (const file of FILES) {
      const current = extractSection(readFileSync(join(root, file), 'utf8'), file)
      if (current === section) continue
      stale++
      process.stderr.write(`${file}: the configuration table differs from ApiLoggingConfigSchema (run npm run generate):\n${lineDiff(current, section)}\n`)
    }
    return stale === 0 ? 0 : 1
  }
  process.stdout.write(renderConfigTable())
  return 0
}

module.exports = { renderConfigTable, renderSection, extractSection, replaceSection, START, END, FILES }

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`config-table: ${err.message}\n`)
    process.exitCode = 1
  }
}
