import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { connect, createServer, type AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'

// The real shipping pipeline of docs/integrations.md, run privately: a PostgreSQL 15 cluster of
// its own and rsyslogd daemons with their own configuration, work folders and pid files, on free
// loopback ports. Debian's packages: rsyslog, rsyslog-pgsql, postgresql.

export const RSYSLOGD = '/usr/sbin/rsyslogd'
export const PG_BIN = '/usr/lib/postgresql/15/bin'
export const SHIPPING_DOCS = resolve(__dirname, '..', '..', 'docs', 'shipping')

/** The programs and rsyslog modules the pipeline needs that are not installed. */
export function missingPrograms (): string[] {
  // rsyslog's modules are in /usr/lib/<multiarch triplet>/rsyslog on Debian.
  const moduleDir = existsSync('/usr/lib') ? readdirSync('/usr/lib').map((name) => join('/usr/lib', name, 'rsyslog')).find((dir) => existsSync(join(dir, 'imfile.so'))) : undefined
  const modules = ['omrelp.so', 'imrelp.so', 'ompgsql.so', 'mmjsonparse.so'].map((name) => join(moduleDir ?? '/usr/lib/<arch>/rsyslog', name))
  const wanted = [RSYSLOGD, join(PG_BIN, 'initdb'), join(PG_BIN, 'postgres'), join(PG_BIN, 'psql'), ...modules]
  return wanted.filter((path) => !existsSync(path))
}

/** A free TCP port on 127.0.0.1 (the kernel's pick for a listen on port 0). */
export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function accepts (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

/**
 * A file of docs/shipping with its production values replaced by this run's: each value must be
 * in the file, so a documented configuration that drifts from the tested one fails loudly.
 */
export function renderDoc (name: string, replacements: Array<[string, string]>): string {
  let text = readFileSync(join(SHIPPING_DOCS, name), 'utf8')
  for (const [from, to] of replacements) {
    if (!text.includes(from)) throw new Error(`docs/shipping/${name} no longer contains ${JSON.stringify(from)}`)
    text = text.split(from).join(to)
  }
  return text
}

/** A long-running daemon started by the test; killed at teardown whatever happened. */
export class Daemon {
  stderr = ''
  stdout = ''
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  private readonly child: ChildProcess

  constructor (t: Test, readonly name: string, command: string, args: string[]) {
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child.stdout?.setEncoding('utf8').on('data', (data: string) => { this.stdout += data })
    this.child.stderr?.setEncoding('utf8').on('data', (data: string) => { this.stderr += data })
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve({ code, signal }))
      this.child.once('error', (err) => {
        this.stderr += String(err)
        resolve({ code: null, signal: null })
      })
    })
    t.teardown(() => this.kill())
  }

  get running (): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  signal (signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal)
  }

  /** Sends `signal`, waits for the exit; SIGKILL after `graceMs`. */
  async stop (signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<{ code: number | null, signal: NodeJS.Signals | null }> {
    if (this.running) {
      this.child.kill(signal)
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs)
      await this.exited
      clearTimeout(timer)
    }
    return await this.exited
  }

  /** Teardown: a process stopped with SIGSTOP cannot act on SIGTERM until it is continued. */
  private async kill (): Promise<void> {
    if (!this.running) return
    this.child.kill('SIGCONT')
    await this.stop('SIGTERM', 3000)
  }

  describe (): string {
    return `${this.name}: ${this.stderr.slice(-2000)} ${this.stdout.slice(-1000)}`
  }
}

/** Starts `rsyslogd -n` on a rendered configuration, after `rsyslogd -N1` accepted it. */
export function startRsyslogd (t: Test, name: string, conf: string, dir: string): Daemon {
  const confPath = join(dir, `${name}.conf`)
  writeFileSync(confPath, conf)
  const check = spawnSync(RSYSLOGD, ['-N1', '-f', confPath], { encoding: 'utf8' })
  if (check.status !== 0) throw new Error(`rsyslogd -N1 refused ${name}.conf: ${check.stderr}${check.stdout}`)
  return new Daemon(t, name, RSYSLOGD, ['-n', '-f', confPath, '-i', join(dir, `${name}.pid`)])
}

/** Polls until rsyslogd's imtcp (or anything) accepts connections on `port`. */
export async function waitForPort (daemon: Daemon, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await accepts(port))) {
    if (!daemon.running || Date.now() > deadline) throw new Error(`${daemon.name} is not listening on ${port}: ${daemon.describe()}`)
    await sleep(20)
  }
}

/** A private PostgreSQL 15 cluster: trust authentication, a loopback port, its socket in `dir`. */
export class Postgres {
  readonly socketDir: string
  private daemon: Daemon | null = null

  constructor (readonly dir: string, readonly port: number) {
    this.socketDir = join(dir, 'socket')
  }

  /**
   * initdb and postgres as user postgres when this process is root (PostgreSQL refuses to run as
   * root), as this process's user otherwise.
   */
  private asOwner (command: string, args: string[]): [string, string[]] {
    if (process.getuid?.() !== 0) return [command, args]
    return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', command, ...args]]
  }

  async start (t: Test): Promise<void> {
    mkdirSync(this.socketDir, { recursive: true })
    const data = join(this.dir, 'data')
    if (process.getuid?.() === 0) {
      chmodSync(this.dir, 0o755)
      for (const path of [this.dir, this.socketDir]) chownSync(path, uidOf('postgres'), gidOf('postgres'))
    }
    const [initdb, initArgs] = this.asOwner(join(PG_BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'])
    execFileSync(initdb, initArgs, { stdio: ['ignore', 'pipe', 'pipe'] })
    // fsync off: this cluster's own durability is not what the test is about.
    const [postgres, args] = this.asOwner(join(PG_BIN, 'postgres'), ['-D', data, '-p', String(this.port), '-k', this.socketDir,
      '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'timezone=UTC'])
    this.daemon = new Daemon(t, 'postgres', postgres, args)
    const deadline = Date.now() + 15_000
    while (spawnSync(join(PG_BIN, 'pg_isready'), ['-q', '-h', this.socketDir, '-p', String(this.port)]).status !== 0) {
      if (!this.daemon.running || Date.now() > deadline) throw new Error(`PostgreSQL did not start: ${this.daemon.describe()}`)
      await sleep(50)
    }
  }

  /** Runs SQL through psql (its `:'name'` variables from `vars`); rows unaligned, fields split on US. */
  query (database: string, sql: string, vars: Record<string, string> = {}): string[][] {
    const args = ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-F', '\x1f', '-h', this.socketDir, '-p', String(this.port), '-U', 'postgres', '-d', database]
    for (const [name, value] of Object.entries(vars)) args.push('-v', `${name}=${value}`)
    const out = execFileSync(join(PG_BIN, 'psql'), [...args, '-f', '-'], { input: sql, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 })
    return out.split('\n').filter((line) => line !== '').map((line) => line.split('\x1f'))
  }

  /** SIGQUIT: PostgreSQL's immediate shutdown, which also ends its backends. */
  async stop (): Promise<void> {
    await this.daemon?.stop('SIGQUIT', 5000)
  }
}

function idOf (flag: '-u' | '-g', user: string): number {
  return Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim())
}
const uidOf = (user: string): number => idOf('-u', user)
const gidOf = (user: string): number => idOf('-g', user)
