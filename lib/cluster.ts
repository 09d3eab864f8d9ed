import cluster, { type Worker } from 'node:cluster'
import { resolveConfig } from './config'
import { configError } from './errors'
import { watchProcessExit } from './exit'
import { ApiLoggingInstance } from './instance'
import type { ApiLoggingOptions } from './plugin'
import { addInstance, removeInstance, retireInstance } from './registry'
import type { ApiLoggingConfig } from './settings'
import { PRIMARY_WRITER_ENV, isLinesMessage } from './sinks/cluster'
import type { ApiLoggingStats } from './sinks/output'

/** What `startPrimaryWriter()` returns: the files of a whole cluster, written by the primary. */
export interface PrimaryWriter {
  /** The resolved configuration of the primary's files. */
  readonly config: ApiLoggingConfig
  /** Lines written and dropped per sink, for every worker's lines together. */
  stats (): ApiLoggingStats
  /** Resolves once every line received so far is written. */
  flush (): Promise<void>
  /** Closes every file and opens its path again. */
  reopen (): Promise<void>
  /** Stops listening to the workers, writes what is held and closes the files. */
  close (): Promise<void>
}

/**
 * The primary's half of LOG_CLUSTER_WRITER=primary: call it in the cluster primary before
 * forking; workers registered with `clusterWriter: 'primary'` send their api.log and
 * api_structured.jsonl lines here, and only this process writes, rotates and prunes the files.
 * Takes the plugin's options (the settings, `envFile`, `now`); lines logged with `getLogger()` in
 * the primary go to the same files. Workers forked before it write their own files.
 */
export async function startPrimaryWriter (options: ApiLoggingOptions = {}): Promise<PrimaryWriter> {
  if (!cluster.isPrimary) throw configError('startPrimaryWriter() runs in the cluster primary; workers register the plugin with clusterWriter: \'primary\'')
  const config = resolveConfig(options, 'register')
  const instance = await ApiLoggingInstance.open(config, {
    now: options.now ?? Date.now,
    redactKeysReplaceDefaults: options.redactKeysReplaceDefaults === true,
    role: 'primary'
  })
  watchProcessExit()
  addInstance(instance)
  const output = instance.output
  function onWorkerLines (_worker: Worker, message: unknown): void {
    if (isLinesMessage(message)) output.writeLines(message.sink, message.text, message.lines, message.tag)
  }
  cluster.on('message', onWorkerLines)
  process.env[PRIMARY_WRITER_ENV] = '1'
  let closing: Promise<void> | null = null
  async function closePrimaryWriter (): Promise<void> {
    cluster.off('message', onWorkerLines)
    delete process.env[PRIMARY_WRITER_ENV]
    retireInstance(instance)
    await output.close()
    removeInstance(instance)
  }
  return Object.freeze({
    config,
    stats: () => output.stats(),
    flush: () => output.flush(),
    reopen: () => instance.reopen(),
    close: () => (closing ??= closePrimaryWriter())
  })
}
