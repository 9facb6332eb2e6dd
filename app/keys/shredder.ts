import { dataKeyWrapping, unwrapDataKey, wrapDataKey } from '../../common/encryption'
import type { Logger } from '../../lib/logger'
import type { Pool } from '../../store/database'
import {
  dataKeysOfShards,
  dueShards,
  finishShard,
  replaceDataKeys,
  shardGenerations,
  switchGeneration,
  tryLockShards,
  unlockShards,
  type Rewrapped,
  type ShardGeneration,
} from '../../store/keys/shard-keys.repository'
import type { KeyHierarchy } from './key-hierarchy'

export type Shredder = Readonly<{
  /** Re-keys every shard that is due and that no other process is re-keying; answers how many. */
  pass: () => Promise<number>
  start: () => void
  stop: () => Promise<void>
}>

const REWRAP_BATCH = 1_000

/**
 * When a pass looks for due shards, and how long a delete waits before its shard is re-keyed (so
 * that the deletes of a burst share one re-key): both a fraction of the horizon, leaving most of
 * it for the pass itself.
 */
export const shredTiming = (horizonMs: number) => ({
  everyMs: Math.min(5_000, Math.max(200, Math.floor(horizonMs / 10))),
  delayMs: Math.floor(horizonMs / 4),
})

/**
 * SECURITY: the shredder makes a delete final. PostgreSQL keeps the bytes of a nulled data key
 * (WAL, dead tuples, backups), wrapped under its shard key; re-keying the shard (a new key,
 * every live data key of the shard re-wrapped under it, the old key destroyed in the key store)
 * leaves those bytes wrapped under a key that exists nowhere.
 *
 * Crash-safe at every step, and each step can be taken again: a new key is stored before it is
 * recorded as current (an unrecorded one is destroyed by the next pass); the switch commits
 * before the re-wrap starts; the old key is destroyed only once no live data key is wrapped
 * under it; its record and the requests it covered are deleted last. Any process may run a
 * pass: a shard's shred lock keeps it to one at a time, and a crashed one's lock dies with its
 * connection. A live secret is never unreadable: its data key is replaced only by a wrapping
 * that opens, and a reader that still holds the old one reads it again (ShardKeyRetiredError).
 */
export const createShredder = (pool: Pool, keys: KeyHierarchy, horizonMs: number, log: Logger): Shredder => {
  const { everyMs, delayMs } = shredTiming(horizonMs)
  let timer: NodeJS.Timeout | null = null
  let running: Promise<number> | null = null

  const generationsOf = async (shards: readonly number[]) => {
    const all = await shardGenerations(pool)
    return shards.map((shard) => all.filter((row) => row.shard === shard))
  }

  // A key a crash left stored but not recorded wraps nothing: destroy it.
  const destroyUnrecorded = async (shard: number, recorded: readonly ShardGeneration[]) => {
    const slots = (await keys.keyStore.list()).filter((slot) => slot.shard === shard)
    for (const slot of slots) {
      if (!recorded.some((row) => row.generation === slot.generation)) await keys.destroyShardKey(shard, slot.generation)
    }
  }

  const switchToNewKey = async (shard: number, recorded: readonly ShardGeneration[]) => {
    if (recorded.some((row) => row.retiring)) return
    const generation = Math.max(0, ...recorded.map((row) => row.generation)) + 1
    await keys.createShardKey(shard, generation)
    await switchGeneration(pool, shard, generation)
    log.debug('shard key switched', { shard, generation })
  }

  // Until no live data key of these shards is wrapped under a retiring key.
  const rewrapShards = async (shards: readonly number[]) => {
    const current = new Map((await shardGenerations(pool)).filter((row) => !row.retiring).map((row) => [row.shard, row.generation]))
    let rewrapped = 0
    for (;;) {
      const stale = (await dataKeysOfShards(pool, shards)).filter((stored) => {
        const wrapping = dataKeyWrapping(stored.wrapped)
        return wrapping.kind === 'shard' && wrapping.generation !== current.get(wrapping.shard)
      })
      if (stale.length === 0) return rewrapped
      for (let i = 0; i < stale.length; i += REWRAP_BATCH) {
        const changes: Rewrapped[] = []
        for (const { aggregateId, wrapped } of stale.slice(i, i + REWRAP_BATCH)) {
          const wrapping = dataKeyWrapping(wrapped)
          if (wrapping.kind !== 'shard') continue
          const dataKey = await keys.withShardKey(wrapping.shard, wrapping.generation, (key) => unwrapDataKey(key, wrapped, aggregateId))
          const next = await keys.withShardKey(wrapping.shard, current.get(wrapping.shard) as number, (key) =>
            wrapDataKey(key, dataKey, aggregateId),
          )
          dataKey.fill(0)
          changes.push({ aggregateId, from: wrapped, to: next })
        }
        rewrapped += await replaceDataKeys(pool, changes)
      }
    }
  }

  const retireOldKeys = async (shard: number) => {
    const [recorded] = await generationsOf([shard])
    for (const row of recorded.filter((it) => it.retiring)) await keys.destroyShardKey(shard, row.generation)
    await finishShard(pool, shard)
    log.debug('shard re-keyed', { shard, retired: recorded.filter((it) => it.retiring).length })
  }

  const run = async (): Promise<number> => {
    const due = await dueShards(pool, delayMs)
    if (due.length === 0) return 0
    const client = await pool.connect()
    let shards: number[] = []
    try {
      shards = await tryLockShards(client, due)
      const recorded = await generationsOf(shards)
      for (const [i, shard] of shards.entries()) {
        await destroyUnrecorded(shard, recorded[i])
        await switchToNewKey(shard, recorded[i])
      }
      const rewrapped = await rewrapShards(shards)
      log.debug('data keys re-wrapped', { shards: shards.length, rewrapped })
      for (const shard of shards) await retireOldKeys(shard)
      if (shards.length > 0) log.info('shred pass', { shards: shards.length, rewrapped })
      return shards.length
    } finally {
      await unlockShards(client, shards).then(
        () => client.release(),
        () => client.release(true),
      )
    }
  }

  const pass = () => {
    running ??= run().finally(() => (running = null))
    return running
  }

  const tick = () => {
    pass().catch((error: unknown) => log.warn('shred pass failed; it is retried', { error: error instanceof Error ? error.name : typeof error }))
  }

  return Object.freeze({
    pass,
    start: () => {
      timer ??= setInterval(tick, everyMs)
      timer.unref()
    },
    stop: async () => {
      if (timer !== null) clearInterval(timer)
      timer = null
      await running?.catch(() => undefined)
    },
  })
}
