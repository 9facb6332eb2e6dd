import { createReadCache, poolReadSource, type ReadCache, type ReadSource } from '../../app/secrets/read-cache'
import { currentStamps } from '../../store/change-stamps'
import { createPool, type Pool } from '../../store/database'
import { keyShard, recordPending, type KeyRef } from '../../store/secrets.repository'
import { adminToken, as } from '../helpers/api'
import { backends } from '../helpers/backends'
import { storeConnection } from '../helpers/database'
import { newVaultSetup, startVault, type VaultProcess, type VaultSetup } from '../helpers/vault-process'

// Reads answer remembered secrets after checking only their change stamps (app/secrets/read-cache.ts,
// store/change-stamps.ts). These check, on a real PostgreSQL, that every write a vault
// acknowledges moves the stamp, so a cache in another process never answers what was.

describe.each(backends())('the read cache on the %s store', (backend) => {
  let setup: VaultSetup
  let vault: VaultProcess
  let api: ReturnType<typeof as>
  let pool: Pool

  beforeAll(async () => {
    setup = await newVaultSetup(backend)
    vault = await startVault(setup)
    api = as(vault.url, await adminToken(vault.url))
    pool = createPool(storeConnection(setup))
  })
  afterAll(async () => {
    await pool.end()
    await vault.stop()
  })

  const stampOf = async (ref: KeyRef): Promise<bigint> => {
    const shard = keyShard(ref)
    return BigInt((await currentStamps(pool, [shard])).get(shard) ?? 'missing')
  }

  it.each([
    ['a standard secret', null, '/secrets'],
    ['an organization secret', 'acme', '/organizations/acme'],
  ])('moves the stamp of %s with each write the vault acknowledges', async (_name, organizationId, scope) => {
    const ref = { organizationId, key: `stamped-${organizationId ?? 'std'}` }
    const before = await stampOf(ref)
    expect((await api.post(scope, { key: ref.key, secret: { v: 1 } })).status).toBe(200)
    const created = await stampOf(ref)
    expect(created).toBeGreaterThan(before)
    expect((await api.post(`${scope}/${ref.key}`, { secret: { v: 2 } })).status).toBe(200)
    const updated = await stampOf(ref)
    expect(updated).toBeGreaterThan(created)
    expect((await api.delete(`${scope}/${ref.key}`)).status).toBe(204)
    expect(await stampOf(ref)).toBeGreaterThan(updated)
    // A read changes nothing.
    const settled = await stampOf(ref)
    expect((await api.get(`${scope}/${ref.key}`)).status).toBe(404)
    expect(await stampOf(ref)).toBe(settled)
  })

  describe('a cache in this process, beside the vault process that writes', () => {
    let cache: ReadCache
    let finds: number
    let checks: number
    const counted = (source: ReadSource): ReadSource => ({
      ...source,
      find: (refs) => ((finds += 1), source.find(refs)),
      stamps: (shards) => ((checks += 1), source.stamps(shards)),
    })
    beforeEach(() => {
      finds = 0
      checks = 0
      cache = createReadCache(counted(poolReadSource(pool)), 100)
    })
    afterEach(() => cache.close())

    const readOne = async (key: string) => (await cache.read([{ organizationId: null, key }]))[0]

    it('answers from memory after a stamp check, until the vault acknowledges an update', async () => {
      expect((await api.post('/secrets', { key: 'remembered', secret: { v: 1 } })).status).toBe(200)
      const first = await readOne('remembered')
      expect(first?.row.version).toBe(1)
      for (let i = 0; i < 3; i++) expect(await readOne('remembered')).toBe(first)
      expect({ finds, checks }).toEqual({ finds: 1, checks: 3 })

      expect((await api.post('/secrets/remembered', { secret: { v: 2 } })).status).toBe(200)
      expect((await readOne('remembered'))?.row.version).toBe(2)
      expect(finds).toBe(2)
    })

    it('answers a remembered secret as gone once a delete is recorded, before the delete even finishes', async () => {
      expect((await api.post('/secrets', { key: 'doomed', secret: { v: 1 } })).status).toBe(200)
      const live = await readOne('doomed')
      expect(live).not.toBeNull()
      // The state a process that died right after recording its delete leaves behind.
      await recordPending(pool, { organizationId: null, key: 'doomed', aggregateId: live!.row.aggregateId, operation: 'delete', actor: 'crashed' })
      expect(await readOne('doomed')).toBeNull()
      // The vault finishes that delete before the key's next write, and a new incarnation reads.
      expect((await api.post('/secrets', { key: 'doomed', secret: { v: 'again' } })).status).toBe(200)
      const again = await readOne('doomed')
      expect(again?.row.aggregateId).not.toBe(live!.row.aggregateId)
      expect(again?.row.version).toBe(1)
    })

    it('answers exactly as the uncached read does for a batch of present, changed and absent keys', async () => {
      for (const key of ['batch-a', 'batch-b']) expect((await api.post('/secrets', { key, secret: { key } })).status).toBe(200)
      const refs = ['batch-a', 'batch-b', 'batch-none', 'batch-a'].map((key) => ({ organizationId: null, key }))
      await cache.read(refs)
      expect((await api.post('/secrets/batch-b', { secret: { key: 'b2' } })).status).toBe(200)
      expect((await api.delete('/secrets/batch-a')).status).toBe(204)
      const strip = (answers: readonly unknown[]) => JSON.parse(JSON.stringify(answers)) as unknown
      const uncached = await poolReadSource(pool).find(refs)
      expect(strip(await cache.read(refs))).toEqual(strip(uncached))
      expect((await cache.read(refs)).map((found) => found?.row.version ?? null)).toEqual([null, 2, null, null])
    })
  })
})
