import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type pg from 'pg'
import { dataKeyWrapping } from '../../common/encryption'
import { keyShardOf } from '../../store/keys/shard-keys.repository'
import { adminToken, as, clientWith } from '../helpers/api'
import { backends } from '../helpers/backends'
import { connectToStore } from '../helpers/database'
import { dataKeyOpener } from '../helpers/keys'
import { slotsOf, storedDataKeys, untilShredded } from '../helpers/keys-admin'
import { makeDataDir, newVaultSetup, runVaultToExit, startVault, type VaultProcess } from '../helpers/vault-process'

/**
 * The shredder, seen from outside: a delete's shard key is retired within the shred horizon
 * (VAULT_SHRED_HORIZON_SECONDS), the shard's live secrets keep reading on every process, and
 * the wrapped data key PostgreSQL still holds for the deleted secret opens with nothing left.
 */

const HORIZON_S = 2

describe.each(backends())('the shredder on the %s store', (backend) => {
  let vault: VaultProcess
  let api: ReturnType<typeof as>
  let db: pg.Client

  beforeAll(async () => {
    vault = await startVault(await newVaultSetup(backend, { VAULT_SHRED_HORIZON_SECONDS: String(HORIZON_S) }))
    api = as(vault.url, await adminToken(vault.url))
    db = await connectToStore(vault.setup)
  })
  afterAll(async () => {
    await db?.end()
    await vault?.stop()
  })

  it('retires the shard key of a deleted secret within the horizon, and its shard-mates keep reading', async () => {
    const values = new Map<string, string>()
    for (let i = 0; i < 60; i++) {
      values.set(`shred-${i}`, `value-${i}-${Math.random()}`)
      expect((await api.post('/secrets', { key: `shred-${i}`, secret: { pwd: values.get(`shred-${i}`) } })).status).toBe(200)
    }
    const stored = await storedDataKeys(db)
    const shardOf = (key: string) => keyShardOf(stored.get(`/${key}`)?.aggregateId as string)
    // Sixty secrets over 256 shards: two of them share one (a birthday certainty, 99.9%).
    const keys = [...values.keys()]
    const victim = keys.find((key) => keys.some((other) => other !== key && shardOf(other) === shardOf(key))) as string
    expect(victim).toBeDefined()
    const mate = keys.find((other) => other !== victim && shardOf(other) === shardOf(victim)) as string
    const before = stored.get(`/${victim}`) as { aggregateId: string; wrapped: string }
    const wrapping = dataKeyWrapping(before.wrapped)
    if (wrapping.kind !== 'shard') throw new Error('a new secret is wrapped under a shard key')
    const openDataKey = dataKeyOpener(vault.setup)
    expect(openDataKey(before.wrapped, before.aggregateId)).toHaveLength(32)

    expect((await api.delete(`/secrets/${victim}`)).status).toBe(204)
    const tookMs = await untilShredded(api, HORIZON_S * 1000 + 5_000)
    expect(tookMs).toBeLessThanOrEqual(HORIZON_S * 1000 + 1_000)

    // The generation the deleted data key was wrapped under is gone from the key store...
    const slots = slotsOf(vault.setup).filter((slot) => slot.shard === wrapping.shard)
    expect(slots.map((slot) => slot.generation)).toEqual([wrapping.generation + 1])
    // ...so the bytes PostgreSQL keeps of it open with nothing the store still holds.
    expect(() => openDataKey(before.wrapped, before.aggregateId)).toThrow(/not in the key store/)
    // The shard-mate was re-wrapped under the new key and reads as before.
    const mateNow = (await storedDataKeys(db)).get(`/${mate}`) as { wrapped: string }
    expect(dataKeyWrapping(mateNow.wrapped)).toEqual({ kind: 'shard', shard: wrapping.shard, generation: wrapping.generation + 1 })
    for (const [key, value] of values) {
      const read = await api.get(`/secrets/${key}`)
      if (key === victim) expect(read.status).toBe(404)
      else expect([read.status, read.body.secret]).toEqual([200, { pwd: value }])
    }
  })

  it('shreds organization secrets and re-created keys alike', async () => {
    expect((await api.post('/organizations/acme', { key: 'org-shred', secret: { pwd: 'first' } })).status).toBe(200)
    const first = (await storedDataKeys(db)).get('acme/org-shred') as { aggregateId: string; wrapped: string }
    expect((await api.delete('/organizations/acme/org-shred')).status).toBe(204)
    expect((await api.post('/organizations/acme', { key: 'org-shred', secret: { pwd: 'second' } })).status).toBe(200)
    await untilShredded(api, HORIZON_S * 1000 + 5_000)
    expect(() => dataKeyOpener(vault.setup)(first.wrapped, first.aggregateId)).toThrow(/not in the key store/)
    expect((await api.get('/organizations/acme/org-shred')).body.secret).toEqual({ pwd: 'second' })
  })

  it('shows key state to admins only', async () => {
    const reader = await clientWith(vault.url, await adminToken(vault.url), { secrets: true })
    expect((await as(vault.url, reader.token).get('/admin/keys')).status).toBe(403)
    expect((await as(vault.url, reader.token).post('/admin/rewrap')).status).toBe(403)
    expect((await as(vault.url, 'garbage').get('/admin/keys')).status).toBe(401)
    const report = await api.get('/admin/keys')
    expect(report.status).toBe(200)
    expect(report.body).toMatchObject({ keyStore: 'files', keys: [{ shardKeys: 256 }] })
  })
})

describe.each(backends())('the key store a %s store is bound to', (backend) => {
  it('refuses to start on another key store directory, naming it', async () => {
    const setup = await newVaultSetup(backend)
    const vault = await startVault(setup)
    await vault.stop()
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-other-keys-'))
    const second = await runVaultToExit({ ...setup, env: { ...setup.env, VAULT_KEYSTORE_DIR: elsewhere } })
    expect(second.code).toBe(1)
    expect(second.output).toContain(`the key store (${elsewhere}) is not the one this database uses`)
    // The right one still works.
    const again = await startVault(setup)
    expect((await as(again.url, await adminToken(again.url)).get('/admin/keys')).status).toBe(200)
    await again.stop()
  })

  it('keeps shard keys in the database when told to, and says at start what that promises', async () => {
    const vault = await startVault(await newVaultSetup(backend, { VAULT_KEYSTORE: 'database', VAULT_SHRED_HORIZON_SECONDS: '1' }))
    try {
      expect(vault.output()).toContain('shard keys are kept in the database (VAULT_KEYSTORE=database)')
      const api = as(vault.url, await adminToken(vault.url))
      expect((await api.post('/secrets', { key: 'in-db', secret: { pwd: 'x' } })).status).toBe(200)
      expect((await api.post('/secrets', { key: 'gone', secret: { pwd: 'y' } })).status).toBe(200)
      expect((await api.delete('/secrets/gone')).status).toBe(204)
      await untilShredded(api, 6_000)
      expect((await api.get('/secrets/in-db')).body.secret).toEqual({ pwd: 'x' })
      expect((await api.get('/admin/keys')).body.keyStore).toBe('database')
    } finally {
      await vault.stop()
    }
  })
})

const withServer = backends().includes('server') ? describe : describe.skip

withServer('two vault processes sharing one database and key store', () => {
  it('never fail a read on one process while the other deletes and the shards are re-keyed', async () => {
    const setup = await newVaultSetup('server', { VAULT_SHRED_HORIZON_SECONDS: '1' })
    const first = await startVault(setup)
    const second = await startVault({ ...setup, dataDir: makeDataDir() })
    try {
      const writer = as(first.url, await adminToken(first.url))
      const reader = as(second.url, await adminToken(second.url))
      const live = Array.from({ length: 80 }, (_, i) => `live-${i}`)
      for (const key of live) expect((await writer.post('/secrets', { key, secret: { v: key } })).status).toBe(200)
      for (let i = 0; i < 40; i++) expect((await writer.post('/secrets', { key: `doomed-${i}`, secret: { v: i } })).status).toBe(200)
      // Warm the reader's caches (data keys, shard keys, rows) before the re-keys begin.
      for (const key of live) expect((await reader.get(`/secrets/${key}`)).status).toBe(200)

      let stop = false
      const failures: string[] = []
      let reads = 0
      const readLoop = async () => {
        for (let i = 0; !stop; i++) {
          const key = live[i % live.length]
          const reply = await reader.get(`/secrets/${key}`)
          reads++
          if (reply.status !== 200 || reply.body.secret?.v !== key) failures.push(`${key}: ${reply.status} ${reply.text}`)
        }
      }
      const loops = Array.from({ length: 4 }, readLoop)
      for (let i = 0; i < 40; i++) {
        expect((await writer.delete(`/secrets/doomed-${i}`)).status).toBe(204)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      await untilShredded(writer, 8_000)
      await new Promise((resolve) => setTimeout(resolve, 500))
      stop = true
      await Promise.all(loops)
      expect(failures).toEqual([])
      expect(reads).toBeGreaterThan(200)
    } finally {
      await second.stop()
      await first.stop()
    }
  })
})
