import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import Fastify from 'fastify'
import apiLogging, {
  loadConfig,
  ApiLoggingConfigSchema,
  ENV_NAMES,
  ApiLoggingError,
  ERR_INVALID_CONFIG,
  ERR_LOG_DIR,
  allowedValues,
  WARN_UNKNOWN_SETTING,
  type ApiLoggingConfig,
  type ApiLoggingConfigKey
} from '../dist/index.js'
import { oneEditApart } from '../dist/config.js'
import { tempDir } from './helpers/app'

const PKG_DIR = resolve(__dirname, '..')
const KEYS = Object.keys(ENV_NAMES) as ApiLoggingConfigKey[]
const ENV_VARS = Object.values(ENV_NAMES)

// Invalid values have to reach loadConfig / register, which the option types forbid.
const loadUntyped = loadConfig as unknown as (options?: Record<string, unknown>) => ApiLoggingConfig

const EXPECTED_DEFAULTS: ApiLoggingConfig = {
  level: 'INFO',
  logDir: 'logs',
  slowRequestThresholdMs: 1000,
  enableConsoleLogging: true,
  enableFileLogging: true,
  enableJsonLogging: true,
  logRequestBody: true,
  logResponseBody: false,
  logFileMaxBytes: 10485760,
  logFileBackupCount: 10,
  jsonLogBackupDays: 30,
  excludePaths: ['/health', '/favicon.ico'],
  requestIdHeader: 'x-request-id',
  logRequestStart: true,
  maxBufferBytes: 16777216,
  redactKeys: [],
  redactValues: true,
  bodyMaxBytes: 8192,
  maxRecordBytes: 16384,
  logHeaders: false,
  logRequestHeaders: [],
  reopenSignal: 'off',
  sampleRate: 1,
  levelSignal: false,
  workerId: 'auto',
  clusterWriter: 'worker',
  transports: [],
  transportCloseTimeoutMs: 5000
}

function restoreEnv (saved: NodeJS.ProcessEnv): void {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name]
  Object.assign(process.env, saved)
}

// None of our variables is set while this file runs; the caller's environment comes back at the end.
const originalEnv = { ...process.env }
for (const name of ENV_VARS) delete process.env[name]
t.teardown(() => restoreEnv(originalEnv))

// Every test gets process.env and the working directory back as they were when it started.
t.beforeEach((t) => {
  const saved = { ...process.env }
  const cwd = process.cwd()
  t.teardown(() => {
    restoreEnv(saved)
    process.chdir(cwd)
  })
})

function setEnv (vars: Record<string, string>): void {
  Object.assign(process.env, vars)
}

function writeEnvFile (t: Test, text: string, name = '.env'): string {
  const path = join(tempDir(t), name)
  writeFileSync(path, text)
  return path
}

type ConfigError = ApiLoggingError & { cause?: { code?: string } }

/** The error `fn` throws; fails the test when it throws nothing. */
function errorOf (t: Test, fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    t.ok(err instanceof ApiLoggingError, 'throws an ApiLoggingError')
    return err as ConfigError
  }
  t.fail('expected an error, nothing was thrown')
  return new ApiLoggingError('none', '') as ConfigError
}

/** The error `app.ready()` rejects with; fails the test when it resolves. */
async function readyError (t: Test, options: Record<string, unknown>): Promise<ConfigError> {
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(apiLogging, options)
  try {
    await app.ready()
  } catch (err) {
    t.ok(err instanceof ApiLoggingError, 'rejects with an ApiLoggingError')
    return err as ConfigError
  }
  t.fail('expected register to fail, app.ready() resolved')
  return new ApiLoggingError('none', '') as ConfigError
}

async function registered (t: Test, options: Record<string, unknown>) {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(apiLogging, { envFile: false, enableConsoleLogging: false, ...options })
  await app.ready()
  return app
}

/** Runs `node -e script`: as uid 65534 through setpriv when we are root, as ourselves otherwise. */
function runChild (asNobody: boolean, script: string, cwd: string, extraEnv: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, API_LOGGING_TEST_PKG: PKG_DIR, ...extraEnv }
  for (const name of ENV_VARS) delete env[name]
  const options = { cwd, env, encoding: 'utf8' as const, timeout: 60_000 }
  // tap's process tracking puts NODE_OPTIONS into every child's environment; uid 65534 could not
  // write its report under .tap/, so `env -u` drops it for the unprivileged node.
  return asNobody
    ? spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'env', '-u', 'NODE_OPTIONS', process.execPath, '-e', script], options)
    : spawnSync(process.execPath, ['-e', script], options)
}

/** Why the unprivileged-child test cannot run here, or false when it can. */
function unprivilegedChildUnavailable (isRoot: boolean): string | false {
  if (!isRoot) return false
  const version = spawnSync('setpriv', ['--version'], { encoding: 'utf8' })
  if (version.error !== undefined || version.status !== 0) {
    return 'setpriv is not available: cannot run a child as an unprivileged user, and root ignores directory permissions'
  }
  const probe = runChild(true, "const { createRequire } = require('node:module'); const p = process.env.API_LOGGING_TEST_PKG; require(p); createRequire(require('node:path').join(p, 'package.json'))('fastify')", tmpdir())
  if (probe.status !== 0) {
    const reason = (probe.stderr !== '' ? probe.stderr : String(probe.error)).split('\n').filter(Boolean).slice(0, 2).join(' ')
    return `the package or its node_modules is not readable by uid 65534: ${reason}`
  }
  return false
}

t.test('defaults', async (t) => {
  t.test('are the schema defaults, one per environment variable', async (t) => {
    t.same(Object.keys(ApiLoggingConfigSchema.properties).sort(), [...KEYS].sort(), 'ENV_NAMES names every setting of the schema')
    t.equal(new Set(ENV_VARS).size, ENV_VARS.length, 'environment variable names are distinct')
    const config = loadConfig({ envFile: false })
    t.same(Object.keys(config).sort(), [...KEYS].sort(), 'the config has every setting, nothing else')
    for (const key of KEYS) {
      const schemaDefault = (ApiLoggingConfigSchema.properties[key] as { default?: unknown }).default
      t.not(schemaDefault, undefined, `${key} has a default in the schema`)
      t.same(config[key], schemaDefault, `${key} (${ENV_NAMES[key]}) is the schema default`)
    }
  })

  t.test('have the documented values', async (t) => {
    t.strictSame({ ...loadConfig({ envFile: false }), excludePaths: [...loadConfig({ envFile: false }).excludePaths] }, EXPECTED_DEFAULTS)
  })

  t.test('the config is frozen, excludePaths too, and calls do not share mutable state', async (t) => {
    const a = loadConfig({ envFile: false })
    t.ok(Object.isFrozen(a))
    t.ok(Object.isFrozen(a.excludePaths))
    const b = loadConfig({ envFile: false, excludePaths: ['/x'] })
    t.same(b.excludePaths, ['/x'])
    t.same(loadConfig({ envFile: false }).excludePaths, ['/health', '/favicon.ico'])
  })

  t.test('no argument at all reads .env in the working directory and works without one', async (t) => {
    process.chdir(tempDir(t))
    t.strictSame({ ...loadConfig(), excludePaths: [...loadConfig().excludePaths] }, EXPECTED_DEFAULTS)
  })
})

t.test('precedence: option > process.env > .env file > default', async (t) => {
  const dir = tempDir(t)
  const envFile = join(dir, 'settings.env')
  writeFileSync(envFile, [
    '# settings for the precedence test',
    'LOG_LEVEL=ERROR',
    'SLOW_REQUEST_THRESHOLD_MS=5',
    `LOG_DIR="${join(dir, 'from-dotenv')}"`,
    'LOG_FILE_BACKUP_COUNT=3',
    ''
  ].join('\n'))
  setEnv({ LOG_LEVEL: 'WARNING', SLOW_REQUEST_THRESHOLD_MS: '7' })

  t.test('each setting comes from the highest layer that sets it', async (t) => {
    const config = loadConfig({ envFile, level: 'debug', logFileBackupCount: 5 })
    t.equal(config.level, 'DEBUG', 'option beats process.env and .env')
    t.equal(config.slowRequestThresholdMs, 7, 'process.env beats .env')
    t.equal(config.logDir, join(dir, 'from-dotenv'), '.env beats the default')
    t.equal(config.logFileBackupCount, 5, 'option beats .env')
    t.equal(config.jsonLogBackupDays, 30, 'default when no layer sets it')
  })

  t.test('without the option, process.env wins', async (t) => {
    t.equal(loadConfig({ envFile }).level, 'WARNING')
  })

  t.test('without process.env, .env wins', async (t) => {
    delete process.env.LOG_LEVEL
    delete process.env.SLOW_REQUEST_THRESHOLD_MS
    const config = loadConfig({ envFile })
    t.equal(config.level, 'ERROR')
    t.equal(config.slowRequestThresholdMs, 5)
    t.equal(config.logFileBackupCount, 3)
  })

  t.test('envFile: false skips the file', async (t) => {
    delete process.env.LOG_LEVEL
    const config = loadConfig({ envFile: false })
    t.equal(config.level, 'INFO')
    t.equal(config.logDir, 'logs')
    t.equal(config.logFileBackupCount, 10)
  })

  t.test('an option beats process.env for every setting', async (t) => {
    setEnv({ LOG_LEVEL: 'ERROR', LOG_DIR: 'env-dir', LOG_EXCLUDE_PATHS: '/env', ENABLE_FILE_LOGGING: 'false', LOG_FILE_MAX_BYTES: '4096' })
    const config = loadConfig({ envFile: false, level: 'trace', logDir: 'opt-dir', excludePaths: [], enableFileLogging: true, logFileMaxBytes: 8192 })
    t.equal(config.level, 'TRACE')
    t.equal(config.logDir, 'opt-dir')
    t.same(config.excludePaths, [])
    t.equal(config.enableFileLogging, true)
    t.equal(config.logFileMaxBytes, 8192)
  })

  t.test('register applies the same layers', async (t) => {
    const app = await registered(t, { envFile, level: 'critical' })
    const config = app.apiLogging.config
    t.equal(config.level, 'CRITICAL', 'from the register option')
    t.equal(config.slowRequestThresholdMs, 7, 'from process.env')
    t.equal(config.logDir, join(dir, 'from-dotenv'), 'from the .env file')
    t.equal(config.logFileBackupCount, 3, 'from the .env file')
    t.equal(config.maxBufferBytes, 16777216, 'default')
    t.ok(statSync(join(dir, 'from-dotenv')).isDirectory(), 'logDir from .env was created')
  })
})

t.test('the .env file', async (t) => {
  t.test('.env in the working directory is read when envFile is undefined', async (t) => {
    const dir = tempDir(t)
    writeFileSync(join(dir, '.env'), 'LOG_LEVEL=error\nLOG_REQUEST_START=no\n')
    process.chdir(dir)
    t.equal(loadConfig().level, 'ERROR')
    t.equal(loadConfig({ envFile: undefined }).logRequestStart, false)
    t.equal(loadConfig({ envFile: false }).level, 'INFO', 'but not with envFile: false')
    setEnv({ LOG_LEVEL: 'debug' })
    t.equal(loadConfig().level, 'DEBUG', 'process.env still beats it')
  })

  t.test('register reads .env in the working directory too', async (t) => {
    const dir = tempDir(t)
    writeFileSync(join(dir, '.env'), `LOG_LEVEL=warn\nLOG_DIR=${join(dir, 'cwd-logs')}\n`)
    process.chdir(dir)
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(apiLogging, { enableConsoleLogging: false })
    t.equal(app.apiLogging.config.level, 'WARNING')
    t.equal(app.apiLogging.config.logDir, join(dir, 'cwd-logs'))
  })

  t.test('a relative envFile is resolved against the working directory', async (t) => {
    const dir = tempDir(t)
    mkdirSync(join(dir, 'conf'))
    writeFileSync(join(dir, 'conf', 'app.env'), 'JSON_LOG_BACKUP_DAYS=9\n')
    process.chdir(dir)
    t.equal(loadConfig({ envFile: join('conf', 'app.env') }).jsonLogBackupDays, 9)
  })

  t.test('a missing explicit envFile throws with its path', async (t) => {
    const missing = join(tempDir(t), 'nope', 'missing.env')
    const err = errorOf(t, () => loadConfig({ envFile: missing }))
    t.equal(err.code, ERR_INVALID_CONFIG)
    t.match(err.message, missing)
    t.match(err.message, 'ENOENT')
  })

  t.test('a missing explicit relative envFile throws with its absolute path', async (t) => {
    const dir = tempDir(t)
    process.chdir(dir)
    const err = errorOf(t, () => loadConfig({ envFile: 'missing.env' }))
    t.equal(err.code, ERR_INVALID_CONFIG)
    t.match(err.message, join(process.cwd(), 'missing.env'))
  })

  t.test('register fails on a missing explicit envFile', async (t) => {
    const missing = join(tempDir(t), 'missing.env')
    const err = await readyError(t, { envFile: missing, enableConsoleLogging: false, logDir: tempDir(t) })
    t.equal(err.code, ERR_INVALID_CONFIG)
    t.match(err.message, missing)
  })

  t.test('an empty value in .env reads as unset', async (t) => {
    const envFile = writeEnvFile(t, 'LOG_LEVEL=\nLOG_FILE_MAX_BYTES=\nLOG_DIR=\n')
    const config = loadConfig({ envFile })
    t.equal(config.level, 'INFO')
    t.equal(config.logFileMaxBytes, 10485760)
    t.equal(config.logDir, 'logs')
  })
})

t.test('every environment variable parses', async (t) => {
  t.test('booleans accept true/false/1/0/yes/no in any case', async (t) => {
    const spellings: Array<[string, boolean]> = [
      ['true', true], ['TRUE', true], ['True', true], ['1', true], ['yes', true], ['YES', true], ['Yes', true], [' yes ', true],
      ['false', false], ['FALSE', false], ['False', false], ['0', false], ['no', false], ['NO', false], ['No', false], [' false ', false]
    ]
    const booleanKeys = KEYS.filter((key) => typeof EXPECTED_DEFAULTS[key] === 'boolean')
    t.same(booleanKeys, ['enableConsoleLogging', 'enableFileLogging', 'enableJsonLogging', 'logRequestBody', 'logResponseBody', 'logRequestStart', 'redactValues', 'logHeaders', 'levelSignal'])
    for (const key of booleanKeys) {
      for (const [text, value] of spellings) {
        process.env[ENV_NAMES[key]] = text
        t.equal(loadConfig({ envFile: false })[key], value, `${ENV_NAMES[key]}=${JSON.stringify(text)}`)
      }
      delete process.env[ENV_NAMES[key]]
    }
  })

  t.test('booleans from .env and as option strings', async (t) => {
    const envFile = writeEnvFile(t, 'ENABLE_CONSOLE_LOGGING=No\nLOG_RESPONSE_BODY=YES\n')
    const config = loadConfig({ envFile })
    t.equal(config.enableConsoleLogging, false)
    t.equal(config.logResponseBody, true)
    t.equal(loadUntyped({ envFile: false, logRequestBody: 'no' }).logRequestBody, false)
    t.equal(loadConfig({ envFile: false, logRequestBody: false }).logRequestBody, false)
  })

  t.test('LOG_LEVEL accepts both vocabularies in any case and normalizes', async (t) => {
    const levels: Array<[string, string]> = [
      ['DEBUG', 'DEBUG'], ['INFO', 'INFO'], ['WARNING', 'WARNING'], ['ERROR', 'ERROR'], ['CRITICAL', 'CRITICAL'],
      ['debug', 'DEBUG'], ['info', 'INFO'], ['warning', 'WARNING'], ['error', 'ERROR'], ['critical', 'CRITICAL'],
      ['trace', 'TRACE'], ['TRACE', 'TRACE'], ['Trace', 'TRACE'],
      ['warn', 'WARNING'], ['WARN', 'WARNING'], ['Warn', 'WARNING'],
      ['fatal', 'CRITICAL'], ['FATAL', 'CRITICAL'], ['Fatal', 'CRITICAL'],
      ['silent', 'SILENT'], ['SILENT', 'SILENT'], ['Silent', 'SILENT'],
      ['Info', 'INFO'], ['dEbUg', 'DEBUG'], [' error ', 'ERROR']
    ]
    for (const [text, canonical] of levels) {
      process.env.LOG_LEVEL = text
      t.equal(loadConfig({ envFile: false }).level, canonical, `LOG_LEVEL=${JSON.stringify(text)}`)
    }
    delete process.env.LOG_LEVEL
    for (const [text, canonical] of levels) {
      t.equal(loadUntyped({ envFile: false, level: text }).level, canonical, `option level ${JSON.stringify(text)}`)
    }
  })

  t.test('LOG_EXCLUDE_PATHS is a comma list, trimmed; empty means none', async (t) => {
    const cases: Array<[string, string[]]> = [
      ['/a', ['/a']],
      ['/a,/b', ['/a', '/b']],
      [' /a , /b* ,, /c/d ', ['/a', '/b*', '/c/d']],
      ['/a,', ['/a']],
      ['', []],
      ['  ', []]
    ]
    for (const [text, paths] of cases) {
      process.env.LOG_EXCLUDE_PATHS = text
      t.strictSame([...loadConfig({ envFile: false }).excludePaths], paths, `LOG_EXCLUDE_PATHS=${JSON.stringify(text)}`)
    }
    process.env.LOG_EXCLUDE_PATHS = ''
    const envFile = writeEnvFile(t, 'LOG_EXCLUDE_PATHS=/from-dotenv\n')
    t.strictSame([...loadConfig({ envFile }).excludePaths], [], 'an empty LOG_EXCLUDE_PATHS still overrides .env')
    delete process.env.LOG_EXCLUDE_PATHS
    t.strictSame([...loadConfig({ envFile }).excludePaths], ['/from-dotenv'])
  })

  t.test('integers', async (t) => {
    const cases: Array<[ApiLoggingConfigKey, string, number]> = [
      ['slowRequestThresholdMs', '0', 0],
      ['slowRequestThresholdMs', '250', 250],
      ['logFileMaxBytes', '1024', 1024],
      ['logFileMaxBytes', ' 2048 ', 2048],
      ['logFileMaxBytes', '+4096', 4096],
      ['logFileBackupCount', '1', 1],
      ['logFileBackupCount', '999', 999],
      ['jsonLogBackupDays', '1', 1],
      ['jsonLogBackupDays', '365', 365],
      ['maxBufferBytes', '65536', 65536],
      ['maxBufferBytes', '1048576', 1048576]
    ]
    for (const [key, text, value] of cases) {
      process.env[ENV_NAMES[key]] = text
      t.equal(loadConfig({ envFile: false })[key], value, `${ENV_NAMES[key]}=${JSON.stringify(text)}`)
      delete process.env[ENV_NAMES[key]]
    }
  })

  t.test('strings', async (t) => {
    setEnv({ LOG_DIR: 'var/log/api', REQUEST_ID_HEADER: 'X-Correlation-Id' })
    const config = loadConfig({ envFile: false })
    t.equal(config.logDir, 'var/log/api')
    t.equal(config.requestIdHeader, 'X-Correlation-Id')
  })

  t.test('an empty or blank variable reads as unset', async (t) => {
    for (const key of KEYS) {
      if (key === 'excludePaths') continue
      for (const blank of ['', '   ']) {
        process.env[ENV_NAMES[key]] = blank
        t.same(loadConfig({ envFile: false })[key], EXPECTED_DEFAULTS[key], `${ENV_NAMES[key]}=${JSON.stringify(blank)} gives the default`)
      }
      delete process.env[ENV_NAMES[key]]
    }
    process.env.LOG_LEVEL = ''
    const envFile = writeEnvFile(t, 'LOG_LEVEL=ERROR\n')
    t.equal(loadConfig({ envFile }).level, 'ERROR', 'an empty LOG_LEVEL falls through to .env')
  })

  t.test('every variable at once, each with a non-default value', async (t) => {
    setEnv({
      LOG_LEVEL: 'fatal',
      LOG_DIR: 'elsewhere',
      SLOW_REQUEST_THRESHOLD_MS: '0',
      ENABLE_CONSOLE_LOGGING: 'no',
      ENABLE_FILE_LOGGING: '0',
      ENABLE_JSON_LOGGING: 'FALSE',
      LOG_REQUEST_BODY: 'No',
      LOG_RESPONSE_BODY: 'yes',
      LOG_FILE_MAX_BYTES: '2048',
      LOG_FILE_BACKUP_COUNT: '2',
      JSON_LOG_BACKUP_DAYS: '3',
      LOG_EXCLUDE_PATHS: '/ping, /metrics*',
      REQUEST_ID_HEADER: 'x-trace-id',
      LOG_REQUEST_START: 'false',
      LOG_MAX_BUFFER_BYTES: '131072',
      LOG_REDACT_KEYS: 'tenant_id, X-Internal-Key',
      LOG_REDACT_VALUES: 'no',
      LOG_BODY_MAX_BYTES: '1024',
      LOG_MAX_RECORD_BYTES: '4096',
      LOG_HEADERS: 'yes',
      LOG_REQUEST_HEADERS: 'X-Tenant, accept-language,x-tenant',
      LOG_REOPEN_SIGNAL: 'SIGUSR1',
      LOG_SAMPLE_RATE: '0.25',
      LOG_LEVEL_SIGNAL: 'yes',
      LOG_WORKER_ID: '7',
      LOG_CLUSTER_WRITER: 'primary',
      LOG_TRANSPORTS: ' [{"target":"pino-socket","options":{"port":5170},"level":"Error"}] ',
      LOG_TRANSPORT_CLOSE_TIMEOUT_MS: '250'
    })
    const config = loadConfig({ envFile: false })
    t.strictSame({ ...config, excludePaths: [...config.excludePaths], redactKeys: [...config.redactKeys], logRequestHeaders: [...config.logRequestHeaders] }, {
      level: 'CRITICAL',
      logDir: 'elsewhere',
      slowRequestThresholdMs: 0,
      enableConsoleLogging: false,
      enableFileLogging: false,
      enableJsonLogging: false,
      logRequestBody: false,
      logResponseBody: true,
      logFileMaxBytes: 2048,
      logFileBackupCount: 2,
      jsonLogBackupDays: 3,
      excludePaths: ['/ping', '/metrics*'],
      requestIdHeader: 'x-trace-id',
      logRequestStart: false,
      maxBufferBytes: 131072,
      redactKeys: ['tenant_id', 'X-Internal-Key'],
      redactValues: false,
      bodyMaxBytes: 1024,
      maxRecordBytes: 4096,
      logHeaders: true,
      logRequestHeaders: ['x-tenant', 'accept-language'],
      reopenSignal: 'SIGUSR1',
      sampleRate: 0.25,
      levelSignal: true,
      workerId: '7',
      clusterWriter: 'primary',
      transports: [{ target: 'pino-socket', options: { port: 5170 }, format: 'pino', level: 'ERROR' }],
      transportCloseTimeoutMs: 250
    })
    for (const key of KEYS) t.notSame(config[key], EXPECTED_DEFAULTS[key], `${ENV_NAMES[key]} was applied`)
  })
})

t.test('error messages', async (t) => {
  t.test('every invalid variable is named in one error', async (t) => {
    setEnv({ LOG_LEVEL: 'verbose', LOG_FILE_MAX_BYTES: '10MB', ENABLE_JSON_LOGGING: 'maybe' })
    const err = errorOf(t, () => loadConfig({ envFile: false }))
    t.equal(err.code, ERR_INVALID_CONFIG)
    t.equal(err.name, 'FastifyError', 'made by @fastify/error, as Fastify\'s own errors are')
    t.ok(err instanceof Error)
    t.match(err.message, 'LOG_LEVEL="verbose"')
    t.match(err.message, 'must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL')
    t.match(err.message, 'LOG_FILE_MAX_BYTES="10MB"')
    t.match(err.message, 'must be an integer >= 1024')
    t.match(err.message, 'ENABLE_JSON_LOGGING="maybe"')
    t.match(err.message, 'true, false, 1, 0, yes or no')
    t.match(err.message, /LOG_LEVEL="verbose" \(from environment\) must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL/)
    t.match(err.message, /LOG_FILE_MAX_BYTES="10MB" \(from environment\) must be an integer >= 1024/)
    t.match(err.message, /ENABLE_JSON_LOGGING="maybe" \(from environment\) must be a boolean: true, false, 1, 0, yes or no/)
  })

  // One bad value per setting (logDir can only be bad as an option: empty variables read as unset).
  const badEnv: Array<[string, string, string]> = [
    ['LOG_LEVEL', 'verbose', 'must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL'],
    ['SLOW_REQUEST_THRESHOLD_MS', '-1', 'must be an integer >= 0'],
    ['ENABLE_CONSOLE_LOGGING', 'on', 'must be a boolean: true, false, 1, 0, yes or no'],
    ['ENABLE_FILE_LOGGING', 'off', 'must be a boolean: true, false, 1, 0, yes or no'],
    ['ENABLE_JSON_LOGGING', 'maybe', 'must be a boolean: true, false, 1, 0, yes or no'],
    ['LOG_REQUEST_BODY', 'y', 'must be a boolean: true, false, 1, 0, yes or no'],
    ['LOG_RESPONSE_BODY', '2', 'must be a boolean: true, false, 1, 0, yes or no'],
    ['LOG_FILE_MAX_BYTES', '1023', 'must be an integer >= 1024'],
    ['LOG_FILE_BACKUP_COUNT', '1000', 'must be an integer >= 1 and <= 999'],
    ['JSON_LOG_BACKUP_DAYS', '0', 'must be an integer >= 1'],
    ['LOG_EXCLUDE_PATHS', '/ok,health', 'must be a comma-separated list of paths, each starting with /'],
    ['REQUEST_ID_HEADER', 'x request id', 'must be an HTTP header name'],
    ['LOG_REQUEST_START', 'enabled', 'must be a boolean: true, false, 1, 0, yes or no'],
    ['LOG_MAX_BUFFER_BYTES', '65535', 'must be an integer >= 65536'],
    ['LOG_REDACT_VALUES', 'sometimes', 'must be a boolean: true, false, 1, 0, yes or no'],
    ['LOG_BODY_MAX_BYTES', '100', 'must be an integer >= 256'],
    ['LOG_MAX_RECORD_BYTES', '1024', 'must be an integer >= 2048'],
    ['LOG_HEADERS', 'all', 'must be a boolean: true, false, 1, 0, yes or no'],
    ['LOG_REQUEST_HEADERS', 'x-tenant,bad header', 'must be a comma-separated list of HTTP header names'],
    ['LOG_REOPEN_SIGNAL', 'SIGTERM', 'must be one of off, SIGHUP, SIGUSR1, SIGUSR2'],
    ['LOG_SAMPLE_RATE', '1.5', 'must be a number from 0 to 1'],
    ['LOG_LEVEL_SIGNAL', 'usr2', 'must be a boolean: true, false, 1, 0, yes or no'],
    ['LOG_WORKER_ID', 'w2', 'must be auto, none or a number'],
    ['LOG_CLUSTER_WRITER', 'both', 'must be one of worker, primary'],
    ['LOG_TRANSPORTS', 'pino-socket', 'must be a JSON array of { "target": "<package or path>", "options": { ... }, "level": "<level>", "format": "pino" | "json" } objects'],
    ['LOG_TRANSPORT_CLOSE_TIMEOUT_MS', '10', 'must be an integer >= 100']
  ]

  t.test('each setting names its variable, value, source and what it allows', async (t) => {
    for (const [name, value, allowed] of badEnv) {
      process.env[name] = value
      const err = errorOf(t, () => loadConfig({ envFile: false }))
      t.equal(err.code, ERR_INVALID_CONFIG, name)
      t.match(err.message, `${name}=${JSON.stringify(value)} (from environment) ${allowed}`, name)
      for (const [other] of badEnv) if (other !== name) t.notMatch(err.message, `${other}=`, `${name} alone: ${other} is not blamed`)
      delete process.env[name]
    }
  })

  t.test('all of them at once, one line each, in one error', async (t) => {
    for (const [name, value] of badEnv) process.env[name] = value
    // A list from the environment is always valid; LOG_REDACT_KEYS is made invalid as an option.
    const err = errorOf(t, () => loadUntyped({ envFile: false, logDir: '', redactKeys: ['tenant', 42] }))
    t.equal(err.code, ERR_INVALID_CONFIG)
    for (const [name, value, allowed] of badEnv) t.match(err.message, `${name}=${JSON.stringify(value)} (from environment) ${allowed}`)
    t.match(err.message, 'option logDir (LOG_DIR)="" must be a non-empty string')
    t.match(err.message, 'option redactKeys (LOG_REDACT_KEYS)=["tenant",42] must be a comma-separated list of names')
    const lines = err.message.split('\n').slice(1)
    t.equal(lines.length, KEYS.length, 'one line per setting, every setting is invalid')
  })

  t.test('more bad values: bounds and non-integers', async (t) => {
    const more: Array<[string, string, string]> = [
      ['SLOW_REQUEST_THRESHOLD_MS', '2.5', 'must be an integer >= 0'],
      ['SLOW_REQUEST_THRESHOLD_MS', 'fast', 'must be an integer >= 0'],
      ['LOG_FILE_MAX_BYTES', '10MB', 'must be an integer >= 1024'],
      ['LOG_FILE_MAX_BYTES', '1.5', 'must be an integer >= 1024'],
      ['LOG_FILE_MAX_BYTES', '-1', 'must be an integer >= 1024'],
      ['LOG_FILE_BACKUP_COUNT', '0', 'must be an integer >= 1 and <= 999'],
      ['LOG_FILE_BACKUP_COUNT', 'ten', 'must be an integer >= 1 and <= 999'],
      ['JSON_LOG_BACKUP_DAYS', '7d', 'must be an integer >= 1'],
      ['LOG_MAX_BUFFER_BYTES', '16MB', 'must be an integer >= 65536'],
      ['REQUEST_ID_HEADER', 'x-id:', 'must be an HTTP header name'],
      ['REQUEST_ID_HEADER', 'x/id', 'must be an HTTP header name'],
      ['LOG_EXCLUDE_PATHS', 'health', 'must be a comma-separated list of paths, each starting with /'],
      ['LOG_LEVEL', 'warnings', 'must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL'],
      ['LOG_LEVEL', '30', 'must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL']
    ]
    for (const [name, value, allowed] of more) {
      process.env[name] = value
      const err = errorOf(t, () => loadConfig({ envFile: false }))
      t.equal(err.code, ERR_INVALID_CONFIG, `${name}=${value}`)
      t.match(err.message, `${name}=${JSON.stringify(value)} (from environment) ${allowed}`)
      delete process.env[name]
    }
  })

  t.test('integer variables accept decimal digits only', async (t) => {
    // normalize() only converts /^[+-]?\d+$/; any other spelling must be rejected, not
    // reinterpreted as hex, exponent or float.
    for (const value of ['0x800', '1e4', '0b100000000000']) {
      process.env.LOG_FILE_MAX_BYTES = value
      let config: ApiLoggingConfig | undefined
      let err: unknown
      try {
        config = loadConfig({ envFile: false })
      } catch (e) {
        err = e
      }
      t.equal((err as ApiLoggingError | undefined)?.code, ERR_INVALID_CONFIG,
        `LOG_FILE_MAX_BYTES=${value} is rejected (got ${config === undefined ? 'an error' : `logFileMaxBytes ${config.logFileMaxBytes}`})`)
    }
  })

  t.test('values from .env say (from .env)', async (t) => {
    const envFile = writeEnvFile(t, 'LOG_LEVEL=verbose\nLOG_FILE_BACKUP_COUNT=1000\n')
    const err = errorOf(t, () => loadConfig({ envFile }))
    t.equal(err.code, ERR_INVALID_CONFIG)
    t.match(err.message, 'LOG_LEVEL="verbose" (from .env) must be one of')
    t.match(err.message, 'LOG_FILE_BACKUP_COUNT="1000" (from .env) must be an integer >= 1 and <= 999')
    t.notMatch(err.message, 'from environment')
  })

  t.test('mixed sources each say where the value came from', async (t) => {
    const envFile = writeEnvFile(t, 'LOG_LEVEL=verbose\n')
    setEnv({ ENABLE_FILE_LOGGING: 'maybe' })
    const err = errorOf(t, () => loadUntyped({ envFile, logFileMaxBytes: '10MB' }))
    t.match(err.message, 'LOG_LEVEL="verbose" (from .env)')
    t.match(err.message, 'ENABLE_FILE_LOGGING="maybe" (from environment)')
    t.match(err.message, 'option logFileMaxBytes (LOG_FILE_MAX_BYTES)="10MB" must be an integer >= 1024')
  })

  t.test('values from options name the option and its variable', async (t) => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ logFileMaxBytes: '10MB' }, 'option logFileMaxBytes (LOG_FILE_MAX_BYTES)="10MB" must be an integer >= 1024'],
      [{ logFileMaxBytes: 10 }, 'option logFileMaxBytes (LOG_FILE_MAX_BYTES)=10 must be an integer >= 1024'],
      [{ logFileMaxBytes: 2048.5 }, 'option logFileMaxBytes (LOG_FILE_MAX_BYTES)=2048.5 must be an integer >= 1024'],
      [{ level: 'verbose' }, 'option level (LOG_LEVEL)="verbose" must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL'],
      [{ logDir: '' }, 'option logDir (LOG_DIR)="" must be a non-empty string'],
      [{ logFileBackupCount: 1000 }, 'option logFileBackupCount (LOG_FILE_BACKUP_COUNT)=1000 must be an integer >= 1 and <= 999'],
      [{ slowRequestThresholdMs: -5 }, 'option slowRequestThresholdMs (SLOW_REQUEST_THRESHOLD_MS)=-5 must be an integer >= 0'],
      [{ enableJsonLogging: 'maybe' }, 'option enableJsonLogging (ENABLE_JSON_LOGGING)="maybe" must be a boolean'],
      [{ excludePaths: ['health'] }, 'option excludePaths (LOG_EXCLUDE_PATHS)=["health"] must be a comma-separated list of paths, each starting with /'],
      [{ requestIdHeader: 'x request' }, 'option requestIdHeader (REQUEST_ID_HEADER)="x request" must be an HTTP header name'],
      [{ maxBufferBytes: 1024 }, 'option maxBufferBytes (LOG_MAX_BUFFER_BYTES)=1024 must be an integer >= 65536']
    ]
    for (const [options, expected] of cases) {
      const err = errorOf(t, () => loadUntyped({ envFile: false, ...options }))
      t.equal(err.code, ERR_INVALID_CONFIG, JSON.stringify(options))
      t.match(err.message, expected, JSON.stringify(options))
      t.notMatch(err.message, '(from ', 'an option has no "from" source')
    }
  })

  t.test('an invalid option is reported even when the variable is valid', async (t) => {
    setEnv({ LOG_FILE_MAX_BYTES: '2048' })
    const err = errorOf(t, () => loadUntyped({ envFile: false, logFileMaxBytes: 'big' }))
    t.match(err.message, 'option logFileMaxBytes (LOG_FILE_MAX_BYTES)="big"')
  })

  t.test('an unknown option is named, with the known ones', async (t) => {
    const err = errorOf(t, () => loadUntyped({ levle: 'debug' }))
    t.equal(err.code, ERR_INVALID_CONFIG)
    t.match(err.message, 'levle')
    t.match(err.message, 'Known options:')
    const known = err.message.slice(err.message.indexOf('Known options:'))
    for (const key of [...KEYS, 'envFile']) t.match(known, new RegExp(`\\b${key}\\b`), `lists ${key}`)
    t.notMatch(known, 'levle')

    const two = errorOf(t, () => loadUntyped({ envFile: false, levle: 1, logdir: 'x' }))
    t.match(two.message, 'levle')
    t.match(two.message, 'logdir')
  })

  t.test('an unknown option fails before the .env file is read', async (t) => {
    const err = errorOf(t, () => loadUntyped({ envFile: join(tempDir(t), 'missing.env'), levle: 'debug' }))
    t.match(err.message, 'levle')
  })
})

t.test('register', async (t) => {
  t.test('fails on an invalid option with ERR_INVALID_CONFIG', async (t) => {
    const err = await readyError(t, { level: 'verbose', envFile: false, logDir: tempDir(t) })
    t.equal(err.code, ERR_INVALID_CONFIG)
    t.match(err.message, 'option level (LOG_LEVEL)="verbose" must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL')
  })

  t.test('fails on an invalid variable with ERR_INVALID_CONFIG', async (t) => {
    setEnv({ LOG_FILE_BACKUP_COUNT: '1000' })
    const err = await readyError(t, { envFile: false, enableConsoleLogging: false, logDir: tempDir(t) })
    t.equal(err.code, ERR_INVALID_CONFIG)
    t.match(err.message, 'LOG_FILE_BACKUP_COUNT="1000" (from environment)')
  })

  t.test('fails on an unknown option', async (t) => {
    const err = await readyError(t, { levle: 'debug', envFile: false, logDir: tempDir(t) })
    t.equal(err.code, ERR_INVALID_CONFIG)
    t.match(err.message, 'levle')
    t.match(err.message, 'Known options:')
  })

  t.test('options Fastify itself reads are not unknown options', async (t) => {
    const logDir = tempDir(t)
    const app = await registered(t, { prefix: '/api', logLevel: 'info', logSerializers: {}, logDir, level: 'warn' })
    t.equal(app.apiLogging.config.level, 'WARNING')
    t.equal(app.apiLogging.config.logDir, logDir)
  })

  t.test('the now option is accepted', async (t) => {
    const app = await registered(t, { logDir: tempDir(t), now: () => Date.UTC(2025, 0, 1) })
    t.equal(app.apiLogging.config.level, 'INFO')
  })

  t.test('fastify.apiLogging.config is the resolved, frozen config', async (t) => {
    const logDir = tempDir(t)
    setEnv({ LOG_FILE_MAX_BYTES: '4096' })
    const options = { logDir, level: 'fatal' as const, excludePaths: ['/a', '/b*'], logRequestStart: false }
    const app = await registered(t, options)
    const config = app.apiLogging.config
    t.strictSame(config, loadConfig({ envFile: false, enableConsoleLogging: false, ...options }))
    t.equal(config.level, 'CRITICAL')
    t.equal(config.logFileMaxBytes, 4096)
    t.equal(config.enableConsoleLogging, false)
    t.equal(config.slowRequestThresholdMs, 1000)
    t.ok(Object.isFrozen(config), 'config is frozen')
    t.ok(Object.isFrozen(config.excludePaths), 'excludePaths is frozen')
    t.ok(Object.isFrozen(app.apiLogging), 'the decorator is frozen')
    t.equal(app.apiLogging.config, config, 'the same object every time')
  })

  t.test('the caller\'s excludePaths array is neither kept nor frozen', async (t) => {
    const excludePaths = ['/a', '/b*']
    const app = await registered(t, { logDir: tempDir(t), excludePaths })
    t.not(app.apiLogging.config.excludePaths, excludePaths, 'the config has its own array')
    t.notOk(Object.isFrozen(excludePaths), 'the caller\'s array is still mutable')
    try {
      excludePaths.push('/c')
    } catch (err) {
      t.fail(`the caller's array cannot be changed any more: ${String(err)}`)
    }
    t.same(app.apiLogging.config.excludePaths, ['/a', '/b*'], 'changing it afterwards does not change the config')

    const paths = ['/x']
    const config = loadConfig({ envFile: false, excludePaths: paths })
    t.not(config.excludePaths, paths, 'loadConfig copies it too')
    t.notOk(Object.isFrozen(paths), 'loadConfig leaves the caller\'s array mutable')
  })
})

t.test('logDir', async (t) => {
  t.test('is created when missing, nested', async (t) => {
    const logDir = join(tempDir(t), 'a', 'b', 'c')
    t.notOk(existsSync(logDir))
    const app = await registered(t, { logDir })
    t.ok(statSync(logDir).isDirectory())
    t.same(readdirSync(logDir).sort(), ['.api.log.lock', '.api_structured.jsonl.lock', 'api.log', 'api_structured.jsonl'], 'the files and, while open, their locks')
    t.equal(app.apiLogging.config.logDir, logDir)
  })

  t.test('a relative logDir is created under the working directory', async (t) => {
    const dir = tempDir(t)
    process.chdir(dir)
    await registered(t, { logDir: join('rel', 'logs') })
    t.ok(statSync(join(dir, 'rel', 'logs')).isDirectory())
  })

  t.test('under a regular file it fails register with ERR_LOG_DIR, the path and the system code', async (t) => {
    const dir = tempDir(t)
    const file = join(dir, 'file.txt')
    writeFileSync(file, 'not a directory\n')
    const logDir = join(file, 'logs')
    const err = await readyError(t, { logDir, envFile: false, enableConsoleLogging: false })
    t.equal(err.code, ERR_LOG_DIR)
    t.match(err.message, logDir)
    t.match(err.message, /ENOTDIR|EEXIST/)
    t.match(err.cause?.code, /ENOTDIR|EEXIST/)
  })

  t.test('a relative logDir that cannot be created is reported by its absolute path', async (t) => {
    const dir = tempDir(t)
    writeFileSync(join(dir, 'file.txt'), 'x')
    process.chdir(dir)
    const err = await readyError(t, { logDir: join('file.txt', 'logs'), envFile: false, enableConsoleLogging: false })
    t.equal(err.code, ERR_LOG_DIR)
    t.match(err.message, join(dir, 'file.txt', 'logs'))
    t.match(err.message, /ENOTDIR|EEXIST/)
  })

  t.test('a logDir that is a regular file fails register with ERR_LOG_DIR', async (t) => {
    const file = join(tempDir(t), 'file.txt')
    writeFileSync(file, 'x')
    const err = await readyError(t, { logDir: file, envFile: false, enableConsoleLogging: false })
    t.equal(err.code, ERR_LOG_DIR)
    t.match(err.message, file)
    t.match(err.message, /ENOTDIR|EEXIST/)
  })

  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  t.test('an unwritable directory fails register with ERR_LOG_DIR and EACCES', { skip: unprivilegedChildUnavailable(isRoot) }, async (t) => {
    const dir = tempDir(t)
    chmodSync(dir, 0o755) // the unprivileged child must be able to reach logDir
    const logDir = join(dir, 'logs')
    mkdirSync(logDir)
    // Root ignores permissions, so as root the child runs as uid 65534 on a root-owned 0755
    // directory; otherwise this user runs it on a 0555 directory.
    chmodSync(logDir, isRoot ? 0o755 : 0o555)
    t.teardown(() => chmodSync(logDir, 0o755))
    if (isRoot) t.equal(statSync(logDir).uid, 0, 'logDir is owned by root')

    const child = [
      "const { createRequire } = require('node:module')",
      "const { join } = require('node:path')",
      'const pkg = process.env.API_LOGGING_TEST_PKG',
      "const Fastify = createRequire(join(pkg, 'package.json'))('fastify')",
      'const apiLogging = require(pkg)',
      'const app = Fastify()',
      'app.register(apiLogging, { logDir: process.env.API_LOGGING_TEST_DIR, envFile: false, enableConsoleLogging: false })',
      'const uid = process.getuid()',
      'app.ready().then(',
      '  () => { console.log(JSON.stringify({ ok: true, uid })); return app.close() },',
      '  (err) => { console.log(JSON.stringify({ ok: false, uid, code: err.code, causeCode: err.cause && err.cause.code, message: err.message })) })'
    ].join('\n')
    const result = runChild(isRoot, child, dir, { API_LOGGING_TEST_DIR: logDir })
    t.equal(result.status, 0, 'the child exited cleanly')
    t.equal(result.stderr, '', 'the child wrote nothing to stderr')
    const report = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { ok: boolean, uid: number, code?: string, causeCode?: string, message?: string }
    if (isRoot) t.equal(report.uid, 65534, 'the child ran unprivileged')
    t.equal(report.ok, false, 'register failed')
    t.equal(report.code, ERR_LOG_DIR)
    t.equal(report.causeCode, 'EACCES')
    t.match(report.message, logDir)
    t.match(report.message, 'EACCES')
    t.same(readdirSync(logDir), [], 'nothing was written')
  })
})

t.test('a bad .env value: a short printed error, the details on error.settings', async (t) => {
  const dir = tempDir(t)
  writeFileSync(join(dir, '.env'), 'LOG_LEVEL=verbose\nLOG_FILE_MAX_BYTES=10MB\n')
  const script = join(dir, 'app.js')
  writeFileSync(script, [
    `const Fastify = require(${JSON.stringify(require.resolve('fastify'))})`,
    `const apiLogging = require(${JSON.stringify(resolve(__dirname, '..'))})`,
    'const app = Fastify()',
    'app.register(apiLogging, { logDir: "logs" })',
    'app.ready()'
  ].join('\n'))
  const result = spawnSync(process.execPath, [script], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH } })
  t.not(result.status, 0, 'the process fails')
  const printed = result.stderr.split('\n').filter((line) => line.trim() !== '')
  t.ok(printed.length <= 25, `${printed.length} lines printed (was about 80 with Ajv's report):\n${result.stderr}`)
  t.match(result.stderr, 'LOG_LEVEL="verbose" (from .env) must be one of DEBUG, INFO')
  t.match(result.stderr, 'LOG_FILE_MAX_BYTES="10MB" (from .env) must be an integer >= 1024')
  t.match(result.stderr, 'FST_API_LOGGING_CONFIG')
  t.notMatch(result.stderr, 'must be equal to constant', 'no Ajv report')

  setEnv({ LOG_LEVEL: 'verbose', SLOW_REQUEST_THRESHOLD_MS: '-1' })
  const err = errorOf(t, () => loadConfig({ envFile: false, logFileMaxBytes: 12 })) as ConfigError & { settings?: unknown }
  t.same(err.settings, [
    { key: 'level', variable: 'LOG_LEVEL', value: 'verbose', source: 'environment', allowed: allowedValues('level') },
    { key: 'slowRequestThresholdMs', variable: 'SLOW_REQUEST_THRESHOLD_MS', value: '-1', source: 'environment', allowed: 'an integer >= 0' },
    { key: 'logFileMaxBytes', variable: 'LOG_FILE_MAX_BYTES', value: 12, source: 'option', allowed: 'an integer >= 1024' }
  ], 'machine-readable details, one per bad setting')
  t.notOk(Object.keys(err).includes('settings'), 'not enumerable: not printed')
  t.equal(err.cause, undefined, 'no Ajv error attached')
})

t.test('a variable one edit away from a setting is warned about, once', async (t) => {
  const warnings: Array<{ code?: string, message: string }> = []
  const onWarning = (warning: Error & { code?: string }): void => { warnings.push({ code: warning.code, message: warning.message }) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  setEnv({ LOG_LEVLE: 'DEBUG', LOG_DIRS: 'x', ENABLE_JSON_LOGING: 'false', LOG_LEVEL_OF_MY_APP: 'x', PATHS: 'x' })
  const envFile = writeEnvFile(t, 'SLOW_REQUEST_THRESOLD_MS=5\nLOG_LEVEL=INFO\n')
  loadConfig({ envFile })
  loadConfig({ envFile })
  await new Promise((resolve) => setImmediate(resolve))
  const ours = warnings.filter((w) => w.code === WARN_UNKNOWN_SETTING).map((w) => w.message).sort()
  t.same(ours, [
    'ENABLE_JSON_LOGING is not a setting; did you mean ENABLE_JSON_LOGGING?',
    'LOG_DIRS is not a setting; did you mean LOG_DIR?',
    'LOG_LEVLE is not a setting; did you mean LOG_LEVEL?',
    'SLOW_REQUEST_THRESOLD_MS (in .env) is not a setting; did you mean SLOW_REQUEST_THRESHOLD_MS?'
  ], 'a swap, an extra letter, a missing letter; each once; unrelated names are left alone')
})

t.test('oneEditApart', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['LOG_LEVLE', 'LOG_LEVEL', true], ['LOG_LEVEL', 'LOG_LEVEL', false], ['LOG_LEVE', 'LOG_LEVEL', true],
    ['LOG_LEVELS', 'LOG_LEVEL', true], ['LOG_LAVEL', 'LOG_LEVEL', true], ['LOG_LVELE', 'LOG_LEVEL', false],
    ['XLOG_LEVEL', 'LOG_LEVEL', true], ['LOG_LEVEL_X', 'LOG_LEVEL', false], ['', 'A', true], ['AB', 'BA', true]
  ]
  for (const [a, b, expected] of cases) t.equal(oneEditApart(a, b), expected, `${a} / ${b}`)
})
