import crypto from 'node:crypto'
import fs from 'node:fs'
import { deriveKey, masterKeyFrom, seal } from '../../common/encryption'
import { adminToken, as, clientWith, tokenFor } from '../helpers/api'
import { backends } from '../helpers/backends'
import { connectToStore } from '../helpers/database'
import { dataKeyOpener, keyStoreDirOf } from '../helpers/keys'
import { ADMIN_ID, ADMIN_SECRET, newVaultSetup, startVault } from '../helpers/vault-process'

/**
 * A store made before the key hierarchy: data keys wrapped by the master key directly
 * (`{masterKeyId}:v1...`, aad `data-key:{masterKeyId}:{aggregateId}`), client secrets sealed
 * without a key id, no key store. Built here exactly, from a store of today, then opened by this
 * version: every secret reads as before, the data keys move under shard keys, and the start says
 * which master key still has old copies in PostgreSQL's files until it is retired.
 */

describe.each(backends())('upgrading a %s store made before the key hierarchy', (backend) => {
  it('migrates at start without losing a secret, and says what the old copies mean', async () => {
    const masterKey = crypto.randomBytes(32).toString('base64')
    const setup = await newVaultSetup(backend, { VAULT_MASTER_KEY: masterKey })
    const master = masterKeyFrom(Buffer.from(masterKey, 'base64'))
    let vault = await startVault(setup)
    let api = as(vault.url, await adminToken(vault.url))
    for (let i = 0; i < 5; i++) expect((await api.post('/secrets', { key: `old-${i}`, secret: { v: i } })).status).toBe(200)
    expect((await api.post('/secrets/old-0', { secret: { v: 'updated' } })).status).toBe(200)
    const client = await clientWith(vault.url, await adminToken(vault.url), { secrets: true })

    const db = await connectToStore(setup)
    try {
      const open = dataKeyOpener(setup)
      const keys = await db.query<{ id: string; secret: string }>('SELECT id, secret FROM eventstore.secrets WHERE secret IS NOT NULL')
      for (const row of keys.rows) {
        const legacy = `${master.id}:${seal(master.key, open(row.secret, row.id), `data-key:${master.id}:${row.id}`)}`
        await db.query('UPDATE eventstore.secrets SET secret = $2 WHERE id = $1', [row.id, legacy])
      }
      const sealing = deriveKey(master, 'client-secrets')
      for (const [id, secret] of [[ADMIN_ID, ADMIN_SECRET], [client.clientId, client.clientSecret]]) {
        await db.query('UPDATE vault.clients SET sealed_secret = $2 WHERE client_id = $1', [id, seal(sealing, secret, `client:${id}`)])
      }
      await db.query("DELETE FROM vault.shard_keys; DELETE FROM vault.meta WHERE name = 'keystore_id'")
    } finally {
      await db.end()
    }
    await vault.stop()
    fs.rmSync(keyStoreDirOf(setup), { recursive: true, force: true })

    vault = await startVault(setup)
    try {
      expect(vault.output()).toContain('re-wrapped data keys of a store made before the key hierarchy under shard keys')
      expect(vault.output()).toContain(`"masterKeyId":"${master.id}"`)
      api = as(vault.url, await adminToken(vault.url))
      expect((await api.get('/secrets/old-0')).body.secret).toEqual({ v: 'updated' })
      for (let i = 1; i < 5; i++) expect((await api.get(`/secrets/old-${i}`)).body.secret).toEqual({ v: i })
      const token = await tokenFor(vault.url, client.clientId, client.clientSecret)
      expect((await as(vault.url, token).get('/secrets/old-1')).status).toBe(200)
      const report = (await api.get('/admin/keys')).body
      expect(report.keys).toEqual([expect.objectContaining({ id: master.id, shardKeys: 256, dataKeys: 0 })])
      expect((await api.post('/secrets/old-1', { secret: { v: 'after' } })).status).toBe(200)
      expect((await api.get('/secrets/old-1')).body.secret).toEqual({ v: 'after' })
    } finally {
      await vault.stop()
    }
  })
})
