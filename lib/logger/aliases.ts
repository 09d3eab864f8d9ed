import type pino from 'pino'

/** The guide's level names as methods: `warning` is `warn`, `critical` is `fatal`. */
export interface LevelAliases {
  /** The same as `warn`: lines at WARNING. */
  warning: pino.LogFn
  /** The same as `fatal`: lines at CRITICAL. */
  critical: pino.LogFn
}

// Called through `this`, so a child (pino children are Object.create(parent)) and a level change
// (pino swaps its level methods) are both honoured.
function warning (this: pino.BaseLogger, ...args: unknown[]): void {
  (this.warn as (...args: unknown[]) => void)(...args)
}

function critical (this: pino.BaseLogger, ...args: unknown[]): void {
  (this.fatal as (...args: unknown[]) => void)(...args)
}

/** Adds `warning` and `critical` to a logger (not enumerable), unless it has them already. */
export function addLevelAliases (logger: object): void {
  for (const [name, fn] of [['warning', warning], ['critical', critical]] as const) {
    if (name in logger) continue
    try {
      Object.defineProperty(logger, name, { value: fn, writable: true, configurable: true })
    } catch {
      // A frozen logger of the application's own: it keeps the methods it has.
    }
  }
}
