import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ApiLoggingConfigSchema, ENV_NAMES, loadConfig, type ApiLoggingConfigKey } from '../dist/index.js'
import { tempDir } from './helpers/app'

// The documentation must say what the schema says: the generated configuration tables are
// current, every variable is documented, and no page names a variable that does not exist.

const ROOT = resolve(__dirname, '..')
const SCRIPT = join(ROOT, 'scripts', 'config-table.js')

interface ConfigTableModule {
  renderConfigTable: () => string
  renderSection: () => string
  extractSection: (text: string, file?: string) => string
  replaceSection: (text: string, section: string, file?: string) => string
  FILES: string[]
}
// A plain CommonJS script, run by `npm run generate`; it has no type declarations.
const configTable = require(SCRIPT) as ConfigTableModule

const KEYS = Object.keys(ENV_NAMES) as ApiLoggingConfigKey[]
const ENV_VARS = new Set(Object.values(ENV_NAMES))
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`)]
// Names shaped like the plugin's variables. `JSON_LOG_…` is listed on its own: `\b` does not
// separate `JSON_` from `LOG_`.
const ENV_LIKE = /\b(?:LOG|ENABLE|SLOW|JSON_LOG|REQUEST_ID)_[A-Z0-9_]*[A-Z0-9]\b/g

function read (file: string): string {
  return readFileSync(join(ROOT, file), 'utf8')
}

function runScript (args: string[]): { status: number | null, stdout: string, stderr: string } {
  const result = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8' })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** The rows of the generated table: cells of each `| … |` line after the header and separator. */
function tableRows (section: string): string[][] {
  return section.split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.slice(2, -2).split(' | '))
}

function unquote (cell: string): string {
  return cell.replace(/^`|`$/g, '')
}

t.test('the configuration tables of README.md and docs/configuration.md match the schema', async (t) => {
  const section = configTable.renderSection()
  for (const file of configTable.FILES) {
    t.equal(configTable.extractSection(read(file), file), section, `${file} is current (run npm run generate)`)
  }
})

t.test('the generated table has one row per setting, with its variable and its default', async (t) => {
  const rows = tableRows(configTable.renderConfigTable())
  t.same(rows.map((row) => unquote(row[1])), Object.keys(ApiLoggingConfigSchema.properties), 'one row per setting, in schema order')
  for (const row of rows) {
    const key = unquote(row[1]) as ApiLoggingConfigKey
    t.equal(unquote(row[0]), ENV_NAMES[key], `${key}: its variable`)
    const value: unknown = (ApiLoggingConfigSchema.properties[key] as { default?: unknown }).default
    const expected = Array.isArray(value) ? (value.length === 0 ? '(none)' : `\`${value.join(',')}\``) : `\`${String(value)}\``
    t.equal(row[2], expected, `${key}: its default`)
    t.equal(row[4], (ApiLoggingConfigSchema.properties[key] as { description?: string }).description?.replace(/\*/g, '\\*'), `${key}: its description`)
  }
  t.equal(rows.length, KEYS.length, 'ENV_NAMES has as many variables as the schema has settings')
})

t.test('every variable of ENV_NAMES is in README.md', async (t) => {
  const readme = read('README.md')
  for (const name of ENV_VARS) t.ok(readme.includes(`\`${name}\``), `${name} is documented`)
})

t.test('every variable named in README.md and docs/*.md exists', async (t) => {
  t.ok(DOCS.length > 1, 'docs/*.md found')
  for (const file of DOCS) {
    // A misspelt name quoted in the plugin's own warning ("LOG_LEVLE is not a setting; ...") is meant.
    const text = read(file).replace(new RegExp(ENV_LIKE.source + '(?= is not a setting)', 'g'), '')
    const unknown = [...new Set(text.match(ENV_LIKE) ?? [])].filter((name) => !ENV_VARS.has(name))
    t.same(unknown, [], `${file} names only real variables`)
  }
})

t.test('the typo check catches a misspelt variable', async (t) => {
  const text = 'Set LOG_LEVL=debug, ENABLE_JSON_LOGING=false and JSON_LOG_BACKUP_DAY=3; LOG_DIR is fine.'
  t.same((text.match(ENV_LIKE) ?? []).filter((name) => !ENV_VARS.has(name)), ['LOG_LEVL', 'ENABLE_JSON_LOGING', 'JSON_LOG_BACKUP_DAY'])
})

t.test('every dotenv block of docs/configuration.md loads', async (t) => {
  const blocks = [...read('docs/configuration.md').matchAll(/```dotenv\n([\s\S]*?)```/g)].map((match) => match[1])
  t.ok(blocks.length >= 2, 'the development and production profiles are there')
  // The variables of the environment running the tests would take precedence over the file.
  const saved = new Map<string, string | undefined>()
  for (const name of ENV_VARS) {
    saved.set(name, process.env[name])
    delete process.env[name]
  }
  t.teardown(() => {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value
  })
  const dir = tempDir(t)
  blocks.forEach((block, index) => {
    const names = block.split('\n').filter((line) => /^[A-Z]/.test(line)).map((line) => line.slice(0, line.indexOf('=')))
    t.same(names.filter((name) => !ENV_VARS.has(name)), [], `profile ${index + 1} names only real variables`)
    const file = join(dir, `profile-${index + 1}.env`)
    writeFileSync(file, block)
    t.doesNotThrow(() => loadConfig({ envFile: file }), `profile ${index + 1} is a valid configuration`)
  })
})

t.test('config-table.js --check and --write', async (t) => {
  const ok = runScript(['--check'])
  t.equal(ok.status, 0, `--check passes on the repository: ${ok.stderr}`)

  const root = tempDir(t)
  mkdirSync(join(root, 'docs'))
  const stale = (file: string): string => configTable.replaceSection(read(file), '| `LOG_LEVL` | `level` | `INFO` |\n', file)
  for (const file of configTable.FILES) writeFileSync(join(root, file), stale(file))

  const check = runScript(['--check', '--root', root])
  t.equal(check.status, 1, '--check fails on stale tables')
  for (const file of configTable.FILES) t.match(check.stderr, `${file}: the configuration table differs`, `--check names ${file}`)
  t.match(check.stderr, '- | `LOG_LEVL`', 'and shows the stale row')

  const write = runScript(['--write', '--root', root])
  t.equal(write.status, 0, '--write succeeds')
  for (const file of configTable.FILES) t.equal(readFileSync(join(root, file), 'utf8'), read(file), `--write brings ${file} back to the repository's text`)
  t.equal(runScript(['--check', '--root', root]).status, 0, '--check passes after --write')

  writeFileSync(join(root, 'README.md'), '# no markers\n')
  const missing = runScript(['--check', '--root', root])
  t.equal(missing.status, 1, '--check fails when the markers are missing')
  t.match(missing.stderr, 'README.md: expected exactly one <!-- config-table:start -->', 'and says which file and why')
})

t.test('config-table.js output is deterministic', async (t) => {
  const first = runScript([])
  const second = runScript([])
  t.equal(first.status, 0, 'the CLI prints the table')
  t.equal(first.stdout, second.stdout, 'two runs print the same table')
  t.equal(first.stdout, configTable.renderConfigTable(), 'the CLI prints renderConfigTable()')
})

t.test('.env.example has the two profiles of docs/configuration.md, and loads', async (t) => {
  const script = join(ROOT, 'scripts', 'env-example.js')
  const check = spawnSync(process.execPath, [script, '--check'], { cwd: ROOT, encoding: 'utf8' })
  t.equal(check.status, 0, `current (npm run generate): ${check.stderr}`)
  const example = read('.env.example')
  const guide = read('docs/configuration.md')
  const { profileBlock } = require(script) as { profileBlock: (guide: string, heading: string) => string[] }
  for (const line of profileBlock(guide, '### Development').filter((l) => /^[A-Z]/.test(l))) t.ok(example.includes(`\n${line}\n`), `development, active: ${line}`)
  for (const line of profileBlock(guide, '### Production').filter((l) => /^[A-Z]/.test(l))) t.ok(example.includes(`\n# ${line}\n`), `production, commented: ${line}`)

  const dir = tempDir(t)
  mkdirSync(join(dir, 'docs'))
  writeFileSync(join(dir, 'docs', 'configuration.md'), guide)
  writeFileSync(join(dir, '.env.example'), example.replace('LOG_LEVEL=debug', 'LOG_LEVEL=warning'))
  t.equal(spawnSync(process.execPath, [script, '--check', '--root', dir], { encoding: 'utf8' }).status, 1, '--check fails on a stale profile')
  t.equal(spawnSync(process.execPath, [script, '--write', '--root', dir], { encoding: 'utf8' }).status, 0)
  t.equal(readFileSync(join(dir, '.env.example'), 'utf8'), example, '--write brings it back')

  const saved = new Map<string, string | undefined>()
  for (const name of ENV_VARS) {
    saved.set(name, process.env[name])
    delete process.env[name]
  }
  t.teardown(() => {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value
  })
  writeFileSync(join(dir, 'example.env'), example)
  t.match(loadConfig({ envFile: join(dir, 'example.env') }), { level: 'DEBUG', logHeaders: true, slowRequestThresholdMs: 300 }, 'the active profile is the development one')
})
