import type pg from 'pg'
import { dataKeyWrapping } from '../../common/encryption'
import { adminToken, as } from '../helpers/api'
import { backends } from '../helpers/backends'
import { connectToStore } from '../helpers/database'
import { dataKeyOpener } from '../helpers/keys'
import { slotsOf, storedDataKeys, untilLogged, untilShredded } from '../helpers/keys-admin'
import { newVaultSetup, startVault, stopLeftoverPostgres, type VaultProcess, type VaultSetup } from '../helpers/vault-process'

/**
 * SIGKILL inside the shredder, at each of its steps: after a new shard key is switched in, after
 * the data keys are re-wrapped, after the first old key is destroyed. After each restart the
 * interrupted pass is finished, every live secret reads what was written, every deleted one's
 * data key opens with nothing left in the key store, and each shard has exactly one key.
 */

const STEPS = ['shard key switched', 'data keys re-wrapped', 'shard re-keyed'] as const

const check = async (vault: VaultProcess, db: pg.Client, live: Map<string, number>, deleted: Array<{ aggregateId: string; wrapped: string }>) => {
  const api = as(vault.url, await adminToken(vault.url))
  await untilShredded(api, 10_000)
  for (const [key, value] of live) expect([key, (await api.get(`/secrets/${key}`)).body?.secret]).toEqual([key, { v: value }])
  const open = dataKeyOpener(vault.setup)
  for (const gone of deleted) expect(() => open(gone.wrapped, gone.aggregateId)).toThrow(/not in the key store/)
  const slots = slotsOf(vault.setup)
  expect(new Set(slots.map((slot) => slot.shard)).size).toBe(256)
  expect(slots).toHaveLength(256)
  const generations = await db.query<{ shard: number; generation: number; retiring: boolean }>('SELECT shard, generation, retiring FROM vault.shard_keys')
  expect(generations.rows.filter((row) => row.retiring)).toEqual([])
  const current = new Map(generations.rows.map((row) => [row.shard, row.generation]))
  for (const slot of slots) expect(current.get(slot.shard)).toBe(slot.generation)
  for (const [key] of live) {
    const stored = (await storedDataKeys(db)).get(`/${key}`) as { wrapped: string }
    const wrapping = dataKeyWrapping(stored.wrapped)
    expect(wrapping.kind === 'shard' && current.get(wrapping.shard) === wrapping.generation).toBe(true)
  }
}

describe.each(backends())('the shredder killed mid-pass on the %s store', (backend) => {
  let setup: VaultSetup
  let vault: VaultProcess

  beforeAll(async () => {
    setup = await newVaultSetup(backend, { VAULT_SHRED_HORIZON_SECONDS: '1' })
    vault = await startVault(setup)
  })
  afterAll(async () => {
    await vault?.stop()
  })

  it.each(STEPS)('finishes a pass killed after "%s" and loses no live key', async (step) => {
    const api = as(vault.url, await adminToken(vault.url))
    const live = new Map<string, number>()
    const round = STEPS.indexOf(step)
    for (let i = 0; i < 120; i++) {
      const key = `r${round}-${i}`
      expect((await api.post('/secrets', { key, secret: { v: i } })).status).toBe(200)
      live.set(key, i)
    }
    let db = await connectToStore(vault.setup)
    const stored = await storedDataKeys(db)
    await db.end()
    const deleted: Array<{ aggregateId: string; wrapped: string }> = []
    const before = vault.output().length
    for (let i = 0; i < 120; i += 2) {
      const key = `r${round}-${i}`
      deleted.push(stored.get(`/${key}`) as { aggregateId: string; wrapped: string })
      expect((await api.delete(`/secrets/${key}`)).status).toBe(204)
      live.delete(key)
    }
    const logged = async () => {
      for (;;) {
        await untilLogged(vault, step, 15_000)
        if (vault.output().indexOf(`"msg":"${step}"`, before) >= 0) return
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    }
    await logged()
    await vault.stop('SIGKILL')
    if (setup.backend === 'embedded') stopLeftoverPostgres(setup.dataDir)
    vault = await startVault(setup)
    db = await connectToStore(vault.setup)
    try {
      await check(vault, db, live, deleted)
    } finally {
      await db.end()
    }
  })
})
