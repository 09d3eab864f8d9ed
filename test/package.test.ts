import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import t, { type Test } from 'tap'
import { tempDir } from './helpers/app'
import { childEnv } from './helpers/child'
import { TYPES_CHECKED_ON_ANOTHER_LINE, TYPES_SKIP_REASON } from './helpers/node-lines'

const ROOT = resolve(__dirname, '..')
const MODULES = join(ROOT, 'node_modules')

/**
 * `npm pack` of the build as it is: `--ignore-scripts` skips `prepack` (a clean rebuild of dist/),
 * which would pull dist/ from under the other test files running at the same time.
 */
function pack (destination: string): string {
  return execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', destination], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop() as string
}

/**
 * The package as users get it: `npm pack`, unpacked into a scratch project's node_modules, with
 * its dependencies (and fastify, TypeScript, @types/node) linked from this repository's install,
 * so nothing is downloaded.
 */
function scratchProject (t: Test): string {
  const work = tempDir(t, 'api-logging-pack-')
  const packed = pack(work)
  const project = join(work, 'project')
  const modules = join(project, 'node_modules')
  mkdirSync(modules, { recursive: true })
  execFileSync('tar', ['-xzf', join(work, packed), '-C', modules])
  renameSync(join(modules, 'package'), join(modules, 'fastify-api-logging'))
  for (const entry of readdirSync(MODULES)) {
    if (entry === 'fastify-api-logging' || entry.startsWith('.')) continue
    symlinkSync(join(MODULES, entry), join(modules, entry))
  }
  return project
}

function files (dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(dir, join(prefix, entry.name)) : [join(prefix, entry.name)])
}

// One consumer body, written in each module system: register, log from a handler and a named
// logger, answer one request, and check its id reached the JSON file.
const BODY = `
  const app = Fastify()
  await app.register(apiLogging, { logDir: process.argv[2], envFile: false, enableConsoleLogging: false })
  const db = getLogger('db')
  app.get('/users/:id', async (request) => {
    const id: string = request.id
    request.log.info({ user: (request.params as { id: string }).id }, 'loading user')
    db.info({ password: 'never-logged' }, 'query done')
    return { id, same: getRequestId() === id }
  })
  const res = await app.inject('/users/7')
  const stats: number = app.apiLogging.stats().json.lines
  await app.close()
  const text = readFileSync(process.argv[2] + '/api_structured.jsonl', 'utf8')
  const ok = res.json().same === true && text.includes(String(res.headers['x-request-id'])) && !text.includes('never-logged') && stats >= 0
  console.log(ok ? 'CONSUMER OK' : 'CONSUMER FAILED ' + text)
`

const TS_CONFIG = {
  compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'ES2022', strict: true, outDir: 'out', types: ['node'], skipLibCheck: false, esModuleInterop: true },
  files: ['esm.mts', 'cjs.cts']
}

t.test('the packed package ships the build only', async (t) => {
  const project = scratchProject(t)
  const shipped = files(join(project, 'node_modules', 'fastify-api-logging')).sort()
  for (const file of ['package.json', 'README.md', 'LICENSE', 'docs/api.md', 'docs/configuration.md', 'docs/cli.md', 'dist/index.js', 'dist/index.d.ts', 'dist/index.mjs', 'dist/index.d.mts', 'dist/plugin.js', 'bin/api-logs.js', 'dist/cli/main.js', 'dist/cli/worker.js', 'lnav/fastify_api_logging.json']) {
    t.ok(shipped.includes(file), `ships ${file}`)
  }
  t.notOk(shipped.includes('dist/.tsbuildinfo'), 'not the incremental build state')
  t.same(shipped.filter((file) => /^(lib|test|types|benchmarks|examples|scripts)\//.test(file) || file.endsWith('.map') || (file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.endsWith('.d.mts'))), [], 'no sources, tests, maps or benchmarks')
})

t.test('npx api-logs works in a project that installed the package', async (t) => {
  const project = scratchProject(t)
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }))
  const installed = join(project, 'node_modules', 'fastify-api-logging')
  const { bin } = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { bin: Record<string, string> }
  t.same(Object.keys(bin), ['api-logs'], 'package.json declares the api-logs command')
  // What `npm install` does with `bin`: a link in node_modules/.bin, its target made executable.
  mkdirSync(join(project, 'node_modules', '.bin'))
  symlinkSync(join('..', 'fastify-api-logging', bin['api-logs']), join(project, 'node_modules', '.bin', 'api-logs'))
  chmodSync(join(installed, bin['api-logs']), 0o755)
  // As a user types it; npm_config_yes=false: npx never downloads, the command must come from the project.
  const npx = { cwd: project, encoding: 'utf8' as const, env: childEnv({ npm_config_yes: 'false' }) }
  const help = execFileSync('npx', ['api-logs', '--help'], npx)
  t.match(help, /^Usage: api-logs <command> \[options\]\n/, 'npx api-logs --help')
  const logs = join(project, 'logs')
  mkdirSync(logs)
  writeFileSync(join(logs, 'api_structured.jsonl'), '{"timestamp":"2025-01-14T10:00:00.000Z","level":"INFO","logger":"api","message":"API Response: GET /x - 200","module":"plugin","function":"onResponseClosed","line":268,"request_id":"r1","method":"GET","path":"/x","endpoint":"/x","status_code":200,"response_time_ms":1.5,"content_length":2,"slow_request":false,"client_ip":"::1","user_agent":null}\n')
  const report = execFileSync('npx', ['api-logs', 'report', '--csv'], npx)
  t.match(report, /\r\nGET,\/x,1,0,0,0,0,0,0,1\.5,1\.5,1\.5,1\.5,1\.5,false\r\n/, 'reads ./logs, the default folder')
})

t.test('TypeScript consumers (ESM and CommonJS) type-check strictly and run', async (t) => {
  const project = scratchProject(t)
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }))
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(TS_CONFIG))
  const imports = "import Fastify from 'fastify'\nimport { readFileSync } from 'node:fs'\nimport apiLogging, { getLogger, getRequestId } from 'fastify-api-logging'\n"
  const misuse = `
// @ts-expect-error a misspelled option is a type error
void Fastify().register(apiLogging, { levle: 'debug' })
// @ts-expect-error so is a wrong type
void Fastify().register(apiLogging, { logFileMaxBytes: '10MB' })
`
  writeFileSync(join(project, 'esm.mts'), `${imports}${misuse}\nawait (async () => {${BODY}})()\n`)
  writeFileSync(join(project, 'cjs.cts'), `${imports}${misuse}\nvoid (async () => {${BODY}})()\n`)
  const tsc = join(MODULES, 'typescript', 'bin', 'tsc')
  if (TYPES_CHECKED_ON_ANOTHER_LINE) execFileSync(process.execPath, [tsc, '-p', project, '--noCheck'], { cwd: project, encoding: 'utf8' })
  else t.doesNotThrow(() => execFileSync(process.execPath, [tsc, '-p', project], { cwd: project, encoding: 'utf8' }), 'tsc finds no error (and every @ts-expect-error is one)')
  for (const file of ['esm.mjs', 'cjs.cjs']) {
    const logDir = tempDir(t)
    const out = execFileSync(process.execPath, [join(project, 'out', file), logDir], { cwd: project, encoding: 'utf8' })
    t.match(out, /^CONSUMER OK$/m, `${file} runs`)
  }
})

t.test('plain JavaScript consumers: require() and import', async (t) => {
  const project = scratchProject(t)
  const js = BODY.replace('const id: string = request.id', 'const id = request.id').replace('(request.params as { id: string }).id', 'request.params.id').replace('const stats: number', 'const stats')
  writeFileSync(join(project, 'plain.cjs'), `const Fastify = require('fastify')\nconst { readFileSync } = require('node:fs')\nconst apiLogging = require('fastify-api-logging')\nconst { getLogger, getRequestId } = apiLogging\n;(async () => {${js}})()\n`)
  writeFileSync(join(project, 'plain.mjs'), `import Fastify from 'fastify'\nimport { readFileSync } from 'node:fs'\nimport apiLogging, { getLogger, getRequestId } from 'fastify-api-logging'\n${js}\n`)
  for (const file of ['plain.cjs', 'plain.mjs']) {
    const out = execFileSync(process.execPath, [join(project, file), tempDir(t)], { cwd: project, encoding: 'utf8' })
    t.match(out, /^CONSUMER OK$/m, `${file} runs`)
  }
})

t.test('Are The Types Wrong finds no problem for import or require consumers', { skip: TYPES_CHECKED_ON_ANOTHER_LINE && TYPES_SKIP_REASON }, async (t) => {
  const attw = join(MODULES, '@arethetypeswrong', 'cli', 'dist', 'index.js')
  const work = tempDir(t, 'api-logging-attw-')
  const tarball = join(work, pack(work))
  let output = ''
  try {
    output = execFileSync(process.execPath, [attw, tarball, '--format', 'json'], { cwd: ROOT, encoding: 'utf8' })
  } catch (err) {
    output = String((err as { stdout?: string }).stdout ?? err)
  }
  const report = JSON.parse(output) as { problems: Record<string, unknown> }
  t.same(report.problems, {}, 'no problems')
})

// Each way TypeScript users import the package, with the settings their tsconfig most likely has.
const IMPORT_FORMS: Array<{ name: string, file: string, compilerOptions: Record<string, unknown>, code: string }> = [
  {
    name: 'CommonJS with verbatimModuleSyntax (tsc --init of TypeScript 5.9): import x = require()',
    file: 'verbatim.cts',
    compilerOptions: { module: 'node16', moduleResolution: 'node16', verbatimModuleSyntax: true },
    code: `import Fastify = require('fastify')
import apiLogging = require('fastify-api-logging')
const app = Fastify()
app.register(apiLogging, { logDir: 'logs', level: 'debug' })
const options: apiLogging.ApiLoggingOptions = { slowRequestThresholdMs: 200 }
app.register(apiLogging.fastifyApiLogging, options)
const log: apiLogging.ApiLogger = apiLogging.getLogger('db')
log.warning('w')
// @ts-expect-error a misspelled option
app.register(apiLogging, { levle: 'debug' })
`
  },
  {
    name: 'ES module, moduleResolution node16',
    file: 'node16.mts',
    compilerOptions: { module: 'node16', moduleResolution: 'node16' },
    code: `import Fastify from 'fastify'
import apiLogging, { getLogger, fastifyApiLogging, type ApiLoggingOptions, type ApiLogger } from 'fastify-api-logging'
const app = Fastify()
const options: ApiLoggingOptions = { logDir: 'logs' }
app.register(apiLogging, options)
app.register(fastifyApiLogging, options)
const log: ApiLogger = getLogger('db')
log.critical('c')
// @ts-expect-error a mistyped option
app.register(apiLogging, { logFileMaxBytes: '10MB' })
`
  },
  {
    name: 'ES module, moduleResolution bundler',
    file: 'bundler.ts',
    compilerOptions: { module: 'esnext', moduleResolution: 'bundler' },
    code: `import Fastify from 'fastify'
import apiLogging, { getRequestId, type ApiLoggingOptions } from 'fastify-api-logging'
const app = Fastify()
const options: ApiLoggingOptions = { level: 'warn' }
app.register(apiLogging, options)
const id: string | undefined = getRequestId()
void id
// @ts-expect-error not a level
app.register(apiLogging, { level: 'verbose' })
`
  },
  {
    name: 'CommonJS JavaScript under checkJs: require()',
    file: 'checked.js',
    compilerOptions: { module: 'node16', moduleResolution: 'node16', allowJs: true, checkJs: true },
    code: `const Fastify = require('fastify')
const apiLogging = require('fastify-api-logging')
const app = Fastify()
app.register(apiLogging, { logDir: 'logs' })
apiLogging.getLogger('db').warning('w')
// @ts-expect-error a misspelled option
app.register(apiLogging, { levle: 'debug' })
`
  }
]

t.test('TypeScript sees what require() and import return, in every import form', { skip: TYPES_CHECKED_ON_ANOTHER_LINE && TYPES_SKIP_REASON }, async (t) => {
  const project = scratchProject(t)
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }))
  const tsc = join(MODULES, 'typescript', 'bin', 'tsc')
  for (const form of IMPORT_FORMS) {
    const config = `tsconfig.${form.file}.json`
    writeFileSync(join(project, form.file), form.code)
    writeFileSync(join(project, config), JSON.stringify({
      compilerOptions: { target: 'ES2022', strict: true, noEmit: true, types: ['node'], skipLibCheck: false, ...form.compilerOptions },
      files: [form.file]
    }))
    let errors = ''
    try {
      execFileSync(process.execPath, [tsc, '-p', config], { cwd: project, encoding: 'utf8' })
    } catch (err) {
      errors = String((err as { stdout?: string }).stdout ?? err)
    }
    t.equal(errors, '', `${form.name}: no error, and every @ts-expect-error is one`)
  }
})
