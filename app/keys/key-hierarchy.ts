import {
  dataKeyWrapping,
  generateKey,
  unwrapDataKey,
  unwrapLegacyDataKey,
  unwrapShardKey,
  wrapDataKey,
  wrapShardKey,
  type MasterKeyRing,
  type ShardKey,
} from '../../common/encryption'
import { ShardKeyRetiredError } from '../../common/errors'
import type { KeySlot, KeyStore } from '../../store/keys/key-store'
import { keyShardOf, type ShardKeyLocks } from '../../store/keys/shard-keys.repository'

export type KeyHierarchy = Readonly<{
  ring: MasterKeyRing
  keyStore: KeyStore
  /**
   * A fresh data key, wrapped under the current key of its shard. The shard cannot switch to a
   * new key (app/keys/shredder.ts) until `release`, which the caller runs once the wrapped key
   * is stored, so no data key is ever wrapped under a key being retired. The shard's lock is
   * taken through `locks`: the locked key of the write (store/key-writes.ts).
   */
  newDataKey: (locks: ShardKeyLocks, aggregateId: string) => Promise<{ wrapped: string; release: () => Promise<void> }>
  /** Unwraps a data key through its shard key (or, for stores made before the hierarchy, its master key). */
  unwrapDataKey: (wrapped: string, aggregateId: string) => Promise<Buffer>
  /** Runs `use` with a shard key from the key store (cached for a few seconds); `use` must not keep it. */
  withShardKey: <T>(shard: number, generation: number, use: (key: ShardKey) => T) => Promise<T>
  /** Stores a new shard key, wrapped by the current master key; it is not current until recorded. */
  createShardKey: (shard: number, generation: number) => Promise<void>
  /** Destroys every copy of a shard key, and forgets it here. */
  destroyShardKey: (shard: number, generation: number) => Promise<void>
  close: () => void
}>

type Cached = { key: ShardKey; expiresAtMs: number }

/**
 * SECURITY: shard keys are cached unwrapped for `ttlMs` (a fraction of the shred horizon), so a
 * key retired by another process leaves this one's memory well within the horizon.
 */
export const createKeyHierarchy = (
  ring: MasterKeyRing,
  keyStore: KeyStore,
  ttlMs: number,
  now: () => number = Date.now,
): KeyHierarchy => {
  const cache = new Map<string, Cached>()
  const loading = new Map<string, Promise<ShardKey | null>>()
  const nameOf = (shard: number, generation: number) => `${shard}/${generation}`

  const forget = (name: string) => {
    const cached = cache.get(name)
    cache.delete(name)
    cached?.key.key.fill(0)
  }
  const sweep = () => {
    const at = now()
    for (const [name, cached] of cache) if (cached.expiresAtMs <= at) forget(name)
  }
  const sweeper = setInterval(sweep, Math.max(250, Math.floor(ttlMs / 2)))
  sweeper.unref()

  // Every master key of the ring is tried: during a rewrap a shard key has a copy under each.
  const load = async (shard: number, generation: number): Promise<ShardKey | null> => {
    for (const master of ring.keys) {
      const wrapped = await keyStore.read({ shard, generation, masterKeyId: master.id })
      if (wrapped !== null) return unwrapShardKey(ring, wrapped, shard, generation)
    }
    return null
  }

  const withShardKey = async <T>(shard: number, generation: number, use: (key: ShardKey) => T): Promise<T> => {
    const name = nameOf(shard, generation)
    const cached = cache.get(name)
    if (cached !== undefined && cached.expiresAtMs > now()) return use(cached.key)
    let pending = loading.get(name)
    if (pending === undefined) {
      pending = load(shard, generation).finally(() => loading.delete(name))
      loading.set(name, pending)
    }
    const loaded = await pending
    if (loaded === null) throw new ShardKeyRetiredError(shard, generation)
    const current = cache.get(name)
    if (current !== undefined && current.expiresAtMs > now()) return use(current.key)
    if (current !== undefined) forget(name)
    const fresh = { key: { ...loaded, key: Buffer.from(loaded.key) }, expiresAtMs: now() + ttlMs }
    cache.set(name, fresh)
    return use(fresh.key)
  }

  const newDataKey: KeyHierarchy['newDataKey'] = async (locks, aggregateId) => {
    const shard = keyShardOf(aggregateId)
    const { generation, release } = await locks.lockShardKey(shard)
    try {
      const dataKey = generateKey()
      const wrapped = await withShardKey(shard, generation, (key) => wrapDataKey(key, dataKey, aggregateId))
      dataKey.fill(0)
      return { wrapped, release }
    } catch (error) {
      await release().catch(() => undefined)
      throw error
    }
  }

  const unwrap: KeyHierarchy['unwrapDataKey'] = async (wrapped, aggregateId) => {
    const wrapping = dataKeyWrapping(wrapped)
    if (wrapping.kind === 'master') return unwrapLegacyDataKey(ring, wrapped, aggregateId)
    return withShardKey(wrapping.shard, wrapping.generation, (key) => unwrapDataKey(key, wrapped, aggregateId))
  }

  const createShardKey = async (shard: number, generation: number) => {
    const key = generateKey()
    await keyStore.write({ shard, generation, masterKeyId: ring.current.id }, wrapShardKey(ring.current, { shard, generation, key }))
    key.fill(0)
  }

  const destroyShardKey = async (shard: number, generation: number) => {
    forget(nameOf(shard, generation))
    const copies: KeySlot[] = (await keyStore.list()).filter((slot) => slot.shard === shard && slot.generation === generation)
    for (const slot of copies) await keyStore.destroy(slot)
  }

  const close = () => {
    clearInterval(sweeper)
    for (const name of [...cache.keys()]) forget(name)
  }

  return Object.freeze({ ring, keyStore, newDataKey, unwrapDataKey: unwrap, withShardKey, createShardKey, destroyShardKey, close })
}
