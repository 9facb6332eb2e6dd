import crypto from 'node:crypto'
import type { ConnectionSettings } from '../store/connection'
import { openAdapter, type Adapter } from '../store/resolve/adapter'
import { measureClosedLoops } from './closed-loops'
import { withScratchSchema } from './scratch-schema'
import type { Measurement } from './stats'

type ScratchAdapter = Pick<Adapter, 'init' | 'dispose' | 'saveEvent'>

const WARMUP_SAVES_PER_WRITER = 20

/**
 * A reference for writes beside the storage ceiling: events saved per second by reSolve's
 * PostgreSQL adapter alone, the statement every vault write ends in, with nothing else (no
 * HTTP, lock, intent, aggregate load or read model). N writers in closed loops, each with its
 * own adapter (one connection), each save the first event of a fresh aggregate with a payload
 * the size of a secret event's, into a scratch event store in its own schema on the same
 * server, dropped afterwards.
 */
export const measureEventStoreCeiling = (
  settings: ConnectionSettings,
  connections: readonly number[],
  seconds: number,
): Promise<Measurement[]> =>
  withScratchSchema(settings, 'bench_eventstore', async (schema) => {
    const first = openAdapter(settings, schema)
    await first.init()
    await first.dispose()
    const results: Measurement[] = []
    for (const writers of connections) results.push(await saveLoop(settings, schema, writers, seconds))
    return results
  })

const saveLoop = async (settings: ConnectionSettings, schema: string, writers: number, seconds: number) => {
  // About a SecretUpdated event: metadata in clear and a sealed value.
  const payload = { organizationId: null, key: 'bench-key', actor: 'EVBENCH', value: `v1.${crypto.randomBytes(96).toString('base64url')}` }
  const save = (adapter: ScratchAdapter) =>
    adapter.saveEvent({ aggregateId: crypto.randomUUID(), aggregateVersion: 1, type: 'BenchEvent', timestamp: Date.now(), payload })
  const adapters: ScratchAdapter[] = Array.from({ length: writers }, () => openAdapter(settings, schema))
  try {
    return await measureClosedLoops(adapters, seconds, WARMUP_SAVES_PER_WRITER, save)
  } finally {
    await Promise.all(adapters.map((adapter) => adapter.dispose().catch(() => undefined)))
  }
}
