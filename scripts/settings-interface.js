'use strict'

// Writes lib/settings.generated.ts, the TSDoc'd `ApiLoggingSettings` interface (the typed register
// options users' editors show), from the built package's ApiLoggingConfigSchema: each setting's
// description, allowed values, variable and default come from its one schema entry.
//
//   node scripts/settings-interface.js            print the file
//   node scripts/settings-interface.js --write    rewrite lib/settings.generated.ts
//   node scripts/settings-interface.js --check    exit 1 when it is out of date
//
// Reads dist/: `npm run generate` builds, writes this file and the README tables, and builds again.

const { readFileSync, writeFileSync } = require('node:fs')
const { join, resolve } = require('node:path')
const { ApiLoggingConfigSchema, ENV_NAMES, allowedValues } = require('..')

const TARGET = join(resolve(__dirname, '..'), 'lib', 'settings.generated.ts')

function typeOf (key, schema) {
  if (key === 'level') return 'LevelInput'
  if (key === 'transports') return 'readonly TransportOptions[]'
  if (Array.isArray(schema.anyOf)) return schema.anyOf.map((member) => `'${member.const}'`).join(' | ')
  switch (schema.type) {
    case 'boolean': return 'boolean'
    case 'integer': return 'number'
    case 'number': return 'number'
    case 'string': return 'string'
    case 'array':
      if (schema.items?.type !== 'string') throw new Error(`${key}: only arrays of strings are supported`)
      return 'readonly string[]'
    default:
      throw new Error(`${key}: no TypeScript type for schema type ${JSON.stringify(schema.type)}`)
  }
}

// `*/` would end the comment early.
function docText (text) {
  return String(text).replace(/\*\//g, '*\\/')
}

function renderInterface () {
  const lines = [
    '// Generated from ApiLoggingConfigSchema (lib/settings.ts) by `npm run generate`: edit the schema, not this file.',
    "import type { LevelInput } from './levels'",
    "import type { TransportOptions } from './transports'",
    '',
    '/**',
    ' * Register options: any setting, in camelCase; each one overrides its environment variable',
    ' * (named under each one). Every entry comes from `ApiLoggingConfigSchema`.',
    ' */',
    'export interface ApiLoggingSettings {'
  ]
  for (const [key, schema] of Object.entries(ApiLoggingConfigSchema.properties)) {
    if (typeof schema.description !== 'string' || schema.description === '') throw new Error(`${key}: no description in ApiLoggingConfigSchema`)
    if (schema.default === undefined) throw new Error(`${key}: no default in ApiLoggingConfigSchema`)
    lines.push(
      '  /**',
      `   * ${docText(schema.description)}`,
      `   * Allowed: ${docText(allowedValues(key))}.`,
      `   * Environment variable: \`${ENV_NAMES[key]}\`.`,
      `   * @defaultValue ${JSON.stringify(schema.default)}`,
      '   */',
      `  ${key}?: ${typeOf(key, schema)}`
    )
  }
  lines.push('}', '')
  return lines.join('\n')
}

function main (argv) {
  const text = renderInterface()
  if (argv.includes('--write')) {
    const current = readFileSync(TARGET, 'utf8')
    if (current !== text) writeFileSync(TARGET, text)
    process.stdout.write(`lib/settings.generated.ts: ${current === text ? 'already up to date' : 'updated'}\n`)
    return 0
  }
  if (argv.includes('--check')) {
    if (readFileSync(TARGET, 'utf8') === text) return 0
    process.stderr.write('lib/settings.generated.ts differs from ApiLoggingConfigSchema: run npm run generate\n')
    return 1
  }
  process.stdout.write(text)
  return 0
}

module.exports = { renderInterface, TARGET }

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`settings-interface: ${err.message}\n`)
    process.exitCode = 1
  }
}
