import { createReadCache, READ_CACHE_TTL_MS, type ReadCache, type ReadSource } from '../../app/secrets/read-cache'
import type { KeyRef, StampedSecret } from '../../store/secrets.repository'

/**
 * A store as the cache sees it: secrets by name, each in a shard whose stamp every write
 * bumps, as the vault's writes do (store/change-stamps.ts). It counts what it is asked.
 * The cache is what is under test; the database's side is tested in the integration suite.
 */
const fakeStore = (shardOf: (name: string) => number = () => 0) => {
  const secrets = new Map<string, { value: string; version: number }>()
  const stamps = new Map<number, number>()
  const asked = { finds: [] as string[][], stampChecks: 0 }
  const nameOf = (ref: KeyRef) => `${ref.organizationId ?? ''}/${ref.key}`
  const stampedOf = (name: string): StampedSecret | null => {
    const secret = secrets.get(name)
    if (secret === undefined) return null
    const shard = shardOf(name)
    return {
      row: {
        aggregateId: `agg-${name}`,
        organizationId: null,
        key: name,
        arn: 'arn',
        description: null,
  tags: [],
  deletionDate: null,
        version: secret.version,
        value: secret.value,
        createdAt: 0,
        updatedAt: 0,
      },
      wrappedDataKey: 'wrapped',
      shard,
      stamp: String(stamps.get(shard) ?? 0),
    }
  }
  const source: ReadSource = {
    find: async (refs) => {
      asked.finds.push(refs.map(nameOf))
      return refs.map((ref) => stampedOf(nameOf(ref)))
    },
    stamps: async (shards) => {
      asked.stampChecks += 1
      return new Map(shards.map((shard) => [shard, String(stamps.get(shard) ?? 0)]))
    },
    nameOf,
  }
  const write = (key: string, value: string | null) => {
    const name = `/${key}`
    const before = secrets.get(name)
    if (value === null) secrets.delete(name)
    else secrets.set(name, { value, version: (before?.version ?? 0) + 1 })
    stamps.set(shardOf(name), (stamps.get(shardOf(name)) ?? 0) + 1)
  }
  return { source, write, asked }
}

const ref = (key: string): KeyRef => ({ organizationId: null, key })
const valuesOf = (answers: readonly ({ row: { value: string } } | null)[]) => answers.map((answer) => answer?.row.value ?? null)

describe('the read cache checked against change stamps', () => {
  let clock = 0
  let cache: ReadCache
  const cacheOf = (store: ReturnType<typeof fakeStore>, size: number) => (cache = createReadCache(store.source, size, () => clock))

  beforeEach(() => {
    clock = 1_000_000
  })
  afterEach(() => cache.close())

  it('answers a batch of remembered secrets with one stamp check and no read', async () => {
    const store = fakeStore()
    store.write('a', 'A1')
    store.write('b', 'B1')
    cacheOf(store, 10)
    expect(valuesOf(await cache.read([ref('a'), ref('b')]))).toEqual(['A1', 'B1'])
    expect(valuesOf(await cache.read([ref('b'), ref('a'), ref('a')]))).toEqual(['B1', 'A1', 'A1'])
    expect(store.asked.finds).toHaveLength(1)
    expect(store.asked.stampChecks).toBe(1)
  })

  it('reads afresh exactly the keys whose stamp moved, and answers every key in order', async () => {
    const store = fakeStore((name) => (name === '/b' ? 1 : 0))
    store.write('a', 'A1')
    store.write('b', 'B1')
    cacheOf(store, 10)
    await cache.read([ref('a'), ref('b')])
    store.write('b', 'B2')
    expect(valuesOf(await cache.read([ref('a'), ref('b')]))).toEqual(['A1', 'B2'])
    expect(store.asked.finds).toEqual([['/a', '/b'], ['/b']])
    // The fresh answer is remembered in turn.
    expect(valuesOf(await cache.read([ref('b')]))).toEqual(['B2'])
    expect(store.asked.finds).toHaveLength(2)
  })

  it('answers a deleted secret as absent once its stamp moved, and keeps asking for an absent key', async () => {
    const store = fakeStore()
    store.write('a', 'A1')
    cacheOf(store, 10)
    await cache.read([ref('a')])
    store.write('a', null)
    expect(await cache.read([ref('a')])).toEqual([null])
    expect(await cache.read([ref('a')])).toEqual([null])
    expect(await cache.read([ref('never')])).toEqual([null])
    expect(store.asked.finds).toEqual([['/a'], ['/a'], ['/a'], ['/never']])
  })

  it('reads a whole batch in one statement when one of its keys is not remembered', async () => {
    const store = fakeStore()
    store.write('a', 'A1')
    store.write('b', 'B1')
    cacheOf(store, 10)
    await cache.read([ref('a')])
    expect(valuesOf(await cache.read([ref('a'), ref('b')]))).toEqual(['A1', 'B1'])
    expect(store.asked.finds).toEqual([['/a'], ['/a', '/b']])
    expect(store.asked.stampChecks).toBe(0)
  })

  it('keeps at most its bound, the oldest reads going first', async () => {
    const store = fakeStore()
    for (const key of ['a', 'b', 'c']) store.write(key, key)
    cacheOf(store, 2)
    await cache.read([ref('a')])
    await cache.read([ref('b')])
    await cache.read([ref('c')])
    await cache.read([ref('b'), ref('c')])
    expect(store.asked.finds).toHaveLength(3)
    await cache.read([ref('a')])
    expect(store.asked.finds).toHaveLength(4)
  })

  it('forgets a secret READ_CACHE_TTL_MS after it was read, on use and by its timer when idle', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] })
    try {
      const store = fakeStore()
      store.write('a', 'A1')
      cacheOf(store, 10)
      await cache.read([ref('a')])
      clock += READ_CACHE_TTL_MS - 1
      await cache.read([ref('a')])
      expect(store.asked.finds).toHaveLength(1)
      clock += 1
      await cache.read([ref('a')])
      expect(store.asked.finds).toHaveLength(2)
      // Idle: the sweep drops it without any read.
      clock += READ_CACHE_TTL_MS
      jest.advanceTimersByTime(5_000)
      store.asked.stampChecks = 0
      await cache.read([ref('a')])
      expect(store.asked.finds).toHaveLength(3)
      expect(store.asked.stampChecks).toBe(0)
    } finally {
      jest.useRealTimers()
    }
  })

  it('remembers nothing at size 0 and after close', async () => {
    const store = fakeStore()
    store.write('a', 'A1')
    cacheOf(store, 0)
    await cache.read([ref('a')])
    await cache.read([ref('a')])
    expect(store.asked.finds).toHaveLength(2)
    cache.close()
    cacheOf(store, 10)
    await cache.read([ref('a')])
    cache.close()
    await cache.read([ref('a')])
    expect(store.asked.finds).toHaveLength(4)
  })

  it('fails the batch when the stamp check fails, instead of answering from memory', async () => {
    const store = fakeStore()
    store.write('a', 'A1')
    const outage = new Error('connection terminated')
    cache = createReadCache({ ...store.source, stamps: async () => Promise.reject(outage) }, 10, () => clock)
    await cache.read([ref('a')])
    await expect(cache.read([ref('a')])).rejects.toBe(outage)
  })
})
