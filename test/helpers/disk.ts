import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Test } from 'tap'
import { tempDir } from './app'

/**
 * A tmpfs of `size` (mount's syntax: `1m`, `2m`) for disk-full tests, unmounted when the test
 * ends; null when this machine does not let the test mount one (it needs root and mount rights).
 */
export function tinyDisk (t: Test, size: string): string | null {
  const dir = join(tempDir(t, 'api-logging-tmpfs-'), 'disk')
  mkdirSync(dir)
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' })
  } catch {
    return null
  }
  t.teardown(() => { execFileSync('umount', ['-l', dir], { stdio: 'ignore' }) })
  return dir
}
