import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createKeyHierarchy, type KeyHierarchy } from '../../app/keys/key-hierarchy'
import {
  generateKey,
  masterKeyFrom,
  masterKeyRing,
  seal,
  wrapDataKey,
  wrapShardKey,
  type MasterKey,
  type MasterKeyRing,
} from '../../common/encryption'
import { MasterKeyUnavailableError, ShardKeyRetiredError } from '../../common/errors'
import { openFileKeyStore } from '../../store/keys/file-key-store'
import type { KeyStore } from '../../store/keys/key-store'

const TTL_MS = 5_000
const aMasterKey = () => masterKeyFrom(crypto.randomBytes(32))

/** A data key wrapped the way stores made before the key hierarchy hold it: `{masterKeyId}:v1...`. */
const legacyWrap = (master: MasterKey, dataKey: Buffer, aggregateId: string): string =>
  `${master.id}:${seal(master.key, dataKey, `data-key:${master.id}:${aggregateId}`)}`

describe('the key hierarchy over a file key store', () => {
  let dir: string
  let keyStore: KeyStore
  let clock: number
  const opened: KeyHierarchy[] = []
  const hierarchyOf = (ring: MasterKeyRing) => {
    const hierarchy = createKeyHierarchy(ring, keyStore, TTL_MS, () => clock)
    opened.push(hierarchy)
    return hierarchy
  }
  /** A data key wrapped under a shard key, as a write stores it in reSolve's secrets table. */
  const wrapUnder = (hierarchy: KeyHierarchy, shard: number, generation: number, dataKey: Buffer, aggregateId: string) =>
    hierarchy.withShardKey(shard, generation, (shardKey) => wrapDataKey(shardKey, dataKey, aggregateId))

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'key-hierarchy-'))
    keyStore = await openFileKeyStore(path.join(dir, 'keys'))
    clock = 1_000_000
  })

  afterEach(() => {
    for (const hierarchy of opened.splice(0)) hierarchy.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('stores a created shard key in the key store, wrapped by the current master key', async () => {
    const master = aMasterKey()
    const hierarchy = hierarchyOf(masterKeyRing(master))
    await hierarchy.createShardKey(4, 1)
    expect(await keyStore.list()).toEqual([{ shard: 4, generation: 1, masterKeyId: master.id }])
    expect(await keyStore.read({ shard: 4, generation: 1, masterKeyId: master.id })).toMatch(new RegExp(`^${master.id}:v1\\.`))
  })

  it('unwraps a data key wrapped under a shard key it created', async () => {
    const hierarchy = hierarchyOf(masterKeyRing(aMasterKey()))
    await hierarchy.createShardKey(4, 1)
    const dataKey = generateKey()
    const wrapped = await wrapUnder(hierarchy, 4, 1, dataKey, 'agg-1')
    expect(wrapped.startsWith('sk1:4:1:')).toBe(true)
    expect((await hierarchy.unwrapDataKey(wrapped, 'agg-1')).equals(dataKey)).toBe(true)
  })

  it('unwraps a data key in another process holding the same master key and key store', async () => {
    const ring = masterKeyRing(aMasterKey())
    const writer = hierarchyOf(ring)
    await writer.createShardKey(4, 1)
    const dataKey = generateKey()
    const wrapped = await wrapUnder(writer, 4, 1, dataKey, 'agg-1')
    expect((await hierarchyOf(ring).unwrapDataKey(wrapped, 'agg-1')).equals(dataKey)).toBe(true)
  })

  it('refuses a data key for another aggregate than it was wrapped for', async () => {
    const hierarchy = hierarchyOf(masterKeyRing(aMasterKey()))
    await hierarchy.createShardKey(4, 1)
    const wrapped = await wrapUnder(hierarchy, 4, 1, generateKey(), 'agg-1')
    await expect(hierarchy.unwrapDataKey(wrapped, 'agg-2')).rejects.toThrow()
  })

  it('refuses a shard key the key store never held as retired', async () => {
    const hierarchy = hierarchyOf(masterKeyRing(aMasterKey()))
    await expect(hierarchy.withShardKey(4, 1, () => 'used')).rejects.toThrow(ShardKeyRetiredError)
  })

  it('refuses a data key once its shard key is destroyed, even though it had been cached', async () => {
    const hierarchy = hierarchyOf(masterKeyRing(aMasterKey()))
    await hierarchy.createShardKey(4, 1)
    await hierarchy.createShardKey(4, 2)
    const wrapped = await wrapUnder(hierarchy, 4, 1, generateKey(), 'agg-1')
    const survivor = generateKey()
    const wrappedUnderNext = await wrapUnder(hierarchy, 4, 2, survivor, 'agg-2')
    await hierarchy.unwrapDataKey(wrapped, 'agg-1')

    await hierarchy.destroyShardKey(4, 1)

    await expect(hierarchy.unwrapDataKey(wrapped, 'agg-1')).rejects.toThrow(ShardKeyRetiredError)
    await expect(hierarchy.unwrapDataKey(wrapped, 'agg-1')).rejects.toMatchObject({ shard: 4, generation: 1 })
    expect(await keyStore.list()).toEqual([expect.objectContaining({ shard: 4, generation: 2 })])
    expect((await hierarchy.unwrapDataKey(wrappedUnderNext, 'agg-2')).equals(survivor)).toBe(true)
  })

  it('refuses a data key in another process once its cached copy of the destroyed shard key has lived its time to live', async () => {
    const ring = masterKeyRing(aMasterKey())
    const shredder = hierarchyOf(ring)
    const reader = hierarchyOf(ring)
    await shredder.createShardKey(4, 1)
    const wrapped = await wrapUnder(shredder, 4, 1, generateKey(), 'agg-1')
    await reader.unwrapDataKey(wrapped, 'agg-1')

    await shredder.destroyShardKey(4, 1)
    // Until then the reader still holds it: the bound the time to live sets (a fraction of the shred horizon).
    clock += TTL_MS - 1
    await expect(reader.unwrapDataKey(wrapped, 'agg-1')).resolves.toBeInstanceOf(Buffer)
    clock += 1

    await expect(reader.unwrapDataKey(wrapped, 'agg-1')).rejects.toThrow(ShardKeyRetiredError)
  })

  it('destroys every copy of a shard key, under each master key of the ring', async () => {
    const [old, current] = [aMasterKey(), aMasterKey()]
    const before = hierarchyOf(masterKeyRing(old))
    await before.createShardKey(4, 1)
    const wrapped = await wrapUnder(before, 4, 1, generateKey(), 'agg-1')
    // A rewrap in progress: the same shard key has a copy under the new master key too.
    const copy = await before.withShardKey(4, 1, (shardKey) => wrapShardKey(current, shardKey))
    await keyStore.write({ shard: 4, generation: 1, masterKeyId: current.id }, copy)
    expect(await keyStore.list()).toHaveLength(2)

    const hierarchy = hierarchyOf(masterKeyRing(current, [old]))
    await hierarchy.destroyShardKey(4, 1)

    expect(await keyStore.list()).toEqual([])
    await expect(hierarchy.unwrapDataKey(wrapped, 'agg-1')).rejects.toThrow(ShardKeyRetiredError)
  })

  it('finds a shard key whose only copy is wrapped by a previous master key of the ring', async () => {
    const [old, current] = [aMasterKey(), aMasterKey()]
    const before = hierarchyOf(masterKeyRing(old))
    await before.createShardKey(4, 1)
    const dataKey = generateKey()
    const wrapped = await wrapUnder(before, 4, 1, dataKey, 'agg-1')

    const after = hierarchyOf(masterKeyRing(current, [old]))
    expect((await after.unwrapDataKey(wrapped, 'agg-1')).equals(dataKey)).toBe(true)
    expect(await after.withShardKey(4, 1, (shardKey) => [shardKey.shard, shardKey.generation])).toEqual([4, 1])
  })

  it('wraps shard keys it creates under the current master key, not a previous one', async () => {
    const [old, current] = [aMasterKey(), aMasterKey()]
    await hierarchyOf(masterKeyRing(current, [old])).createShardKey(4, 1)
    expect(await keyStore.list()).toEqual([{ shard: 4, generation: 1, masterKeyId: current.id }])
  })

  it('unwraps a data key wrapped by the master key before the key hierarchy', async () => {
    const master = aMasterKey()
    const dataKey = generateKey()
    const hierarchy = hierarchyOf(masterKeyRing(master))
    expect((await hierarchy.unwrapDataKey(legacyWrap(master, dataKey, 'agg-1'), 'agg-1')).equals(dataKey)).toBe(true)
  })

  it('unwraps a legacy data key wrapped by a previous master key, and refuses one whose master key is not in the ring', async () => {
    const [old, current] = [aMasterKey(), aMasterKey()]
    const dataKey = generateKey()
    const legacy = legacyWrap(old, dataKey, 'agg-1')
    expect((await hierarchyOf(masterKeyRing(current, [old])).unwrapDataKey(legacy, 'agg-1')).equals(dataKey)).toBe(true)
    await expect(hierarchyOf(masterKeyRing(current)).unwrapDataKey(legacy, 'agg-1')).rejects.toThrow(MasterKeyUnavailableError)
  })

  it('overwrites the cached shard key bytes when closed', async () => {
    const hierarchy = hierarchyOf(masterKeyRing(aMasterKey()))
    await hierarchy.createShardKey(4, 1)
    // Kept past `use` only to see whether its bytes were overwritten (production code must not keep it).
    const cached = await hierarchy.withShardKey(4, 1, (shardKey) => shardKey.key)
    expect(cached.equals(Buffer.alloc(32))).toBe(false)
    hierarchy.close()
    expect(cached.equals(Buffer.alloc(32))).toBe(true)
  })
})
