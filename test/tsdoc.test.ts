import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { ApiLoggingConfigSchema, ENV_NAMES, type ApiLoggingConfigKey } from '../dist/index.js'

// The declarations users' editors show: each setting's TSDoc names its variable and default.
const declarations = readFileSync(join(__dirname, '..', 'dist', 'settings.generated.d.ts'), 'utf8')
const documented = new Map<string, { env: string, value: string }>()
for (const match of declarations.matchAll(/Environment variable: `([A-Z_]+)`\.\s*\n\s*\* @defaultValue (.+)\n\s*\*\/\n\s*(\w+)\?:/g)) {
  documented.set(match[3], { env: match[1], value: match[2].trim() })
}

t.test('every setting has TSDoc with its environment variable and the schema\'s default', async (t) => {
  const keys = Object.keys(ENV_NAMES) as ApiLoggingConfigKey[]
  t.same([...documented.keys()].sort(), [...keys].sort(), 'one documented property per setting')
  for (const key of keys) {
    const doc = documented.get(key)
    t.equal(doc?.env, ENV_NAMES[key], `${key}: environment variable`)
    const schemaDefault = (ApiLoggingConfigSchema.properties[key] as { default?: unknown }).default
    t.same(doc === undefined ? undefined : JSON.parse(doc.value), schemaDefault, `${key}: @defaultValue ${doc?.value}`)
  }
})

t.test('lib/settings.generated.ts is what the schema generates (npm run generate)', async (t) => {
  const { spawnSync } = await import('node:child_process')
  const script = join(__dirname, '..', 'scripts', 'settings-interface.js')
  const check = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' })
  t.equal(check.status, 0, `current: ${check.stderr}`)
  const printed = spawnSync(process.execPath, [script], { encoding: 'utf8' })
  t.equal(printed.stdout, readFileSync(join(__dirname, '..', 'lib', 'settings.generated.ts'), 'utf8'), 'the printed file is the committed one')
  for (const key of Object.keys(ENV_NAMES)) t.match(printed.stdout, new RegExp(`\\n  ${key}\\?: `), `${key} is an option`)
})
