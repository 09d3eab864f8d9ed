import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import t from 'tap'
import { tempDir } from './helpers/app'
import { childEnv } from './helpers/child'
import { TYPES_CHECKED_ON_ANOTHER_LINE } from './helpers/node-lines'

// Every code block of README.md and docs/*.md that claims to run, runs. A ```js block is a whole
// program: it is type-checked (checkJs) and executed in a scratch project where the package
// resolves by name. A ```js fragment block (it leans on an `app` or a function it does not
// define) is parsed as an ES module. Every line of a ```json block is a JSON document.

const ROOT = resolve(__dirname, '..')
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`)]
// A program that listens and is still running this long after its start, with nothing on stderr,
// is a server that came up. Any other program must end, however busy the machine is.
const SERVER_GRACE_MS = 2500
const EXIT_WAIT_MS = 60_000

interface Block {
  file: string
  line: number
  info: string
  code: string
}

function blocks (): Block[] {
  const found: Block[] = []
  for (const file of DOCS) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n')
    for (let i = 0; i < lines.length; i++) {
      const open = /^```(\S.*)$/.exec(lines[i])
      if (open === null) continue
      const end = lines.indexOf('```', i + 1)
      if (end === -1) throw new Error(`${file}:${i + 1}: unclosed code block`)
      found.push({ file, line: i + 1, info: open[1].trim(), code: lines.slice(i + 1, end).join('\n') + '\n' })
      i = end
    }
  }
  return found
}

function scratchProject (dir: string): string {
  const modules = join(dir, 'node_modules')
  mkdirSync(modules)
  for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
    if (!entry.startsWith('.')) symlinkSync(join(ROOT, 'node_modules', entry), join(modules, entry))
  }
  symlinkSync(ROOT, join(modules, 'fastify-api-logging'))
  return dir
}

const isModule = (code: string): boolean => /^import .* from /m.test(code)
const nameOf = (block: Block): string => `${block.file.replace(/[/.]/g, '-')}-${block.line}${isModule(block.code) ? '.mjs' : '.cjs'}`

const listens = (code: string): boolean => /\.listen\(/.test(code)

function run (file: string, cwd: string, serves: boolean): Promise<{ code: number | null, stderr: string, stillRunning: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { cwd, env: childEnv({ PORT: '0', NO_COLOR: '1' }), stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (data: string) => { stderr += data })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      resolve({ code: null, stderr, stillRunning: true })
    }, serves ? SERVER_GRACE_MS : EXIT_WAIT_MS)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stderr, stillRunning: false })
    })
  })
}

const all = blocks()
const programs = all.filter((block) => block.info === 'js')
const fragments = all.filter((block) => block.info === 'js fragment')

t.test('the documents have code blocks of each kind', async (t) => {
  t.ok(programs.some((block) => block.file === 'README.md'), 'README.md has whole programs')
  t.ok(fragments.length > 0, 'and fragments')
  const unknown = all.filter((block) => /^(js|ts|javascript|typescript|mjs|cjs)\b/.test(block.info) && block.info !== 'js' && block.info !== 'js fragment')
  t.same(unknown.map((block) => `${block.file}:${block.line} ${block.info}`), [], 'every JavaScript block is `js` (a program) or `js fragment`')
})

t.test('every program type-checks (checkJs) and runs', async (t) => {
  const dir = scratchProject(tempDir(t, 'api-logging-snippets-'))
  for (const block of programs) writeFileSync(join(dir, nameOf(block)), block.code)
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'snippets', private: true }))
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'ES2022', allowJs: true, checkJs: true, noEmit: true, skipLibCheck: true, types: ['node'] },
    include: ['*.mjs', '*.cjs']
  }))
  if (!TYPES_CHECKED_ON_ANOTHER_LINE) {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    let typeErrors = ''
    try {
      execFileSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' })
    } catch (err) {
      typeErrors = String((err as { stdout?: string }).stdout ?? err)
    }
    t.equal(typeErrors, '', 'no type error in any program')
  }
  for (const block of programs) {
    const serves = listens(block.code)
    const result = await run(join(dir, nameOf(block)), dir, serves)
    const where = `${block.file}:${block.line}`
    t.ok((serves && result.stillRunning) || result.code === 0, `${where} runs (${result.stillRunning ? (serves ? 'still serving' : `still running after ${EXIT_WAIT_MS} ms`) : `exit ${String(result.code)}`})${result.stderr === '' ? '' : `: ${result.stderr}`}`)
    if (result.stillRunning) t.equal(result.stderr, '', `${where}: nothing on stderr while it serves`)
  }
})

t.test('every fragment parses as an ES module', async (t) => {
  const dir = tempDir(t, 'api-logging-fragments-')
  for (const block of fragments) {
    const file = join(dir, `${block.file.replace(/[/.]/g, '-')}-${block.line}.mjs`)
    writeFileSync(file, block.code)
    let error = ''
    try {
      execFileSync(process.execPath, ['--check', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    } catch (err) {
      error = String((err as { stderr?: string }).stderr ?? err)
    }
    t.equal(error, '', `${block.file}:${block.line} parses`)
  }
})

t.test('every json block holds JSON documents, one per line', async (t) => {
  for (const block of all.filter((b) => b.info === 'json')) {
    const lines = block.code.split('\n').filter((line) => line.trim() !== '')
    const whole = (() => {
      try {
        JSON.parse(block.code)
        return true
      } catch {
        return false
      }
    })()
    const everyLine = lines.every((line) => {
      try {
        JSON.parse(line)
        return true
      } catch {
        return false
      }
    })
    t.ok(whole || everyLine, `${block.file}:${block.line} is JSON`)
  }
})
