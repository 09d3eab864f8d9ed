'use strict'

// Writes the two profile sections of .env.example from the `dotenv` blocks of
// docs/configuration.md (Development, then Production), so the profiles exist in one place:
// the guide. The development profile is active in .env.example, the production one commented.
//
//   node scripts/env-example.js            print .env.example as it should be
//   node scripts/env-example.js --write    rewrite .env.example
//   node scripts/env-example.js --check    exit 1 when it is out of date
//   --root <dir>                           read and write the files under <dir> (tests)

const { readFileSync, writeFileSync } = require('node:fs')
const { join, resolve } = require('node:path')

const GUIDE = 'docs/configuration.md'
const TARGET = '.env.example'
const SECTIONS = [
  { name: 'development', heading: '### Development', active: true },
  { name: 'production', heading: '### Production', active: false }
]

function startMarker (name) {
  return `# --- ${name} profile: from ${GUIDE} (npm run generate) ---`
}
function endMarker (name) {
  return `# --- end of the ${name} profile ---`
}

/** The first dotenv block after `heading` in the guide, without its fences. */
function profileBlock (guide, heading) {
  const at = guide.indexOf(`\n${heading}\n`)
  if (at === -1) throw new Error(`${GUIDE}: no "${heading}" section`)
  const match = /```dotenv\n([\s\S]*?)```/.exec(guide.slice(at))
  if (match === null) throw new Error(`${GUIDE}: no dotenv block under "${heading}"`)
  return match[1].replace(/\n+$/, '').split('\n')
}

function section (guide, { name, heading, active }) {
  const lines = profileBlock(guide, heading)
  const body = active ? lines : lines.map((line) => line.startsWith('#') || line === '' ? line : `# ${line}`)
  return [startMarker(name), ...body, endMarker(name)].join('\n')
}

/** .env.example with both profile sections replaced from the guide. */
function render (root) {
  const guide = readFileSync(join(root, GUIDE), 'utf8')
  let text = readFileSync(join(root, TARGET), 'utf8')
  for (const profile of SECTIONS) {
    const start = text.indexOf(startMarker(profile.name))
    const end = text.indexOf(endMarker(profile.name))
    if (start === -1 || end === -1 || end < start) throw new Error(`${TARGET}: expected the markers of the ${profile.name} profile`)
    text = text.slice(0, start) + section(guide, profile) + text.slice(end + endMarker(profile.name).length)
  }
  return text
}

function main (argv) {
  const rootAt = argv.indexOf('--root')
  const root = rootAt === -1 ? resolve(__dirname, '..') : resolve(argv[rootAt + 1] ?? '.')
  const wanted = render(root)
  const current = readFileSync(join(root, TARGET), 'utf8')
  if (argv.includes('--write')) {
    if (wanted !== current) writeFileSync(join(root, TARGET), wanted)
    process.stdout.write(`${TARGET}: ${wanted === current ? 'already up to date' : 'profiles updated'}\n`)
    return 0
  }
  if (argv.includes('--check')) {
    if (wanted === current) return 0
    process.stderr.write(`${TARGET}: its profiles differ from ${GUIDE} (run npm run generate)\n`)
    return 1
  }
  process.stdout.write(wanted)
  return 0
}

module.exports = { render, profileBlock }

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`env-example: ${err.message}\n`)
    process.exitCode = 1
  }
}
