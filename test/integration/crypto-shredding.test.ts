import type pg from 'pg'
import { cipherFor, masterKeyFrom, type MasterKey } from '../../common/encryption'
import { dataKeyOpener } from '../helpers/keys'
import { adminToken, as } from '../helpers/api'
import { backends } from '../helpers/backends'
import { connectToStore } from '../helpers/database'
import { ADMIN_ID, newVaultSetup, startVault, type VaultProcess } from '../helpers/vault-process'

/**
 * Crypto-shredding, checked the way an attacker holding the whole database AND the master key
 * would check it: after a delete, no data key the store still holds opens any value the deleted
 * secret ever had. The same procedure opens them before the delete, so the check can succeed.
 */

type StoredEvent = Readonly<{ type: string; version: number; payload: Record<string, unknown> }>

/** A ciphertext as it sits in an event, with what it is bound to. */
type StoredValue = Readonly<{ aggregateId: string; version: number; sealed: string }>

const aggregateIdsOf = async (db: pg.Client, organizationId: string | null, key: string): Promise<string[]> => {
  const result = await db.query<{ aggregateId: string }>(
    `SELECT "aggregateId" FROM eventstore.events
     WHERE type = 'SecretCreated' AND payload->>'key' = $1
       AND (payload->>'organizationId') IS NOT DISTINCT FROM $2
     ORDER BY "timestamp", "aggregateVersion"`,
    [key, organizationId],
  )
  return result.rows.map((row) => row.aggregateId)
}

const eventsOf = async (db: pg.Client, aggregateId: string): Promise<StoredEvent[]> => {
  const result = await db.query<{ type: string; version: string; payload: Record<string, unknown> }>(
    `SELECT type, "aggregateVersion" AS version, payload FROM eventstore.events
     WHERE "aggregateId" = $1 ORDER BY "aggregateVersion"`,
    [aggregateId],
  )
  return result.rows.map((row) => ({ type: row.type, version: Number(row.version), payload: row.payload }))
}

const valuesOf = (aggregateId: string, events: readonly StoredEvent[]): StoredValue[] =>
  events
    .filter((event) => typeof event.payload.value === 'string')
    .map((event) => ({ aggregateId, version: event.version, sealed: event.payload.value as string }))

/** Every data key the store still holds, unwrapped with the master key and the key store (as an attacker with all would). */
const heldDataKeys = async (db: pg.Client, openDataKey: (wrapped: string, id: string) => Buffer): Promise<Map<string, Buffer>> => {
  const result = await db.query<{ id: string; secret: string }>(
    'SELECT id, secret FROM eventstore.secrets WHERE secret IS NOT NULL',
  )
  return new Map(result.rows.map((row) => [row.id, openDataKey(row.secret, row.id)]))
}

const dataKeyRow = async (db: pg.Client, aggregateId: string) => {
  const result = await db.query<{ secret: string | null }>('SELECT secret FROM eventstore.secrets WHERE id = $1', [
    aggregateId,
  ])
  return result.rows
}

/** Tries every candidate key, with the associated data of the value's own aggregate and version. */
const openWithAny = (value: StoredValue, candidates: readonly Buffer[]): string | null => {
  for (const key of candidates) {
    try {
      return cipherFor(key, value.aggregateId).decrypt(value.sealed, value.version)
    } catch {
      // Not this key.
    }
  }
  return null
}

describe.each(backends())('crypto-shredding on the %s store', (backend) => {
  let vault: VaultProcess
  let api: ReturnType<typeof as>
  let db: pg.Client
  let master: MasterKey
  let openDataKey: (wrapped: string, id: string) => Buffer

  beforeAll(async () => {
    vault = await startVault(await newVaultSetup(backend))
    api = as(vault.url, await adminToken(vault.url))
    db = await connectToStore(vault.setup)
    master = masterKeyFrom(Buffer.from(vault.setup.env.VAULT_MASTER_KEY, 'base64'))
    openDataKey = dataKeyOpener(vault.setup)
  })
  afterAll(async () => {
    await db?.end()
    await vault?.stop()
  })

  /** Everything an attacker with the database and the master key could try a value with. */
  const everyCandidateKey = async (): Promise<Buffer[]> => [...(await heldDataKeys(db, openDataKey)).values(), master.key]

  /** Creates a secret and updates it twice; answers its aggregate id and the three values, oldest first. */
  const secretWithThreeValues = async (base: string, key: string) => {
    const values = [{ pwd: `${key}-first` }, { pwd: `${key}-second` }, { pwd: `${key}-third`, nested: { deep: 'x' } }]
    expect((await api.post(base, { key, secret: values[0], description: 'shred me' })).status).toBe(200)
    expect((await api.post(`${base}/${key}`, { secret: values[1] })).status).toBe(200)
    expect((await api.post(`${base}/${key}`, { secret: values[2] })).status).toBe(200)
    const organizationId = base === '/secrets' ? null : base.split('/')[2]
    const [aggregateId] = await aggregateIdsOf(db, organizationId, key)
    return { aggregateId, values }
  }

  it('opens every stored value of a live secret with its data key unwrapped by the master key', async () => {
    const { aggregateId, values } = await secretWithThreeValues('/secrets', 'control')
    const stored = valuesOf(aggregateId, await eventsOf(db, aggregateId))
    expect(stored).toHaveLength(3)
    const candidates = await everyCandidateKey()
    expect(stored.map((value) => JSON.parse(openWithAny(value, candidates) ?? 'null'))).toEqual(values)
  })

  it('keeps the events of a deleted secret with their metadata in clear and tombstones its data key', async () => {
    const { aggregateId } = await secretWithThreeValues('/secrets', 'audited')
    expect((await api.delete('/secrets/audited')).status).toBe(204)

    const events = await eventsOf(db, aggregateId)
    expect(events.map((event) => [event.type, event.version])).toEqual([
      ['SecretCreated', 1],
      ['SecretUpdated', 2],
      ['SecretUpdated', 3],
      ['SecretDeleted', 4],
    ])
    for (const event of events) {
      expect(event.payload).toEqual(expect.objectContaining({ key: 'audited', organizationId: null, actor: ADMIN_ID }))
    }
    expect(events[0].payload.description).toBe('shred me')
    expect(events[3].payload.value).toBeUndefined()
    // The row stays as a tombstone, so the id can never be given a key again.
    expect(await dataKeyRow(db, aggregateId)).toEqual([{ secret: null }])
    const readModel = await db.query('SELECT 1 FROM vault.secrets WHERE aggregate_id = $1', [aggregateId])
    expect(readModel.rows).toHaveLength(0)
    const pending = await db.query('SELECT 1 FROM vault.pending_operations WHERE aggregate_id = $1', [aggregateId])
    expect(pending.rows).toHaveLength(0)
  })

  it('leaves no key in the store, master key included, that opens any value of a deleted secret', async () => {
    const { aggregateId, values } = await secretWithThreeValues('/secrets', 'shredded')
    const stored = valuesOf(aggregateId, await eventsOf(db, aggregateId))
    const before = await everyCandidateKey()
    // The same procedure reads every value before the delete...
    expect(stored.map((value) => JSON.parse(openWithAny(value, before) ?? 'null'))).toEqual(values)

    expect((await api.delete('/secrets/shredded')).status).toBe(204)

    // ...and none after it, with every key the store still holds.
    const after = await everyCandidateKey()
    expect(after.length).toBeGreaterThan(1)
    for (const value of stored) expect(openWithAny(value, after)).toBeNull()
    expect((await api.get('/secrets/shredded')).status).toBe(404)
  })

  it('shreds an organization secret the same way', async () => {
    const { aggregateId, values } = await secretWithThreeValues('/organizations/acme', 'shared')
    const stored = valuesOf(aggregateId, await eventsOf(db, aggregateId))
    expect(stored).toHaveLength(3)
    const candidates = await everyCandidateKey()
    expect(stored.map((value) => JSON.parse(openWithAny(value, candidates) ?? 'null'))).toEqual(values)

    expect((await api.delete('/organizations/acme/shared')).status).toBe(204)

    expect(await dataKeyRow(db, aggregateId)).toEqual([{ secret: null }])
    const after = await everyCandidateKey()
    for (const value of stored) expect(openWithAny(value, after)).toBeNull()
  })

  it('re-creates a deleted key as a new aggregate whose data key opens none of the old values', async () => {
    const { aggregateId: first, values } = await secretWithThreeValues('/secrets', 'reborn')
    const oldDataKey = (await heldDataKeys(db, openDataKey)).get(first)
    expect(oldDataKey).toBeDefined()
    const oldValues = valuesOf(first, await eventsOf(db, first))
    expect((await api.delete('/secrets/reborn')).status).toBe(204)

    expect((await api.post('/secrets', { key: 'reborn', secret: { pwd: 'brand-new' } })).status).toBe(200)

    const incarnations = await aggregateIdsOf(db, null, 'reborn')
    expect(incarnations).toHaveLength(2)
    const [, second] = incarnations
    expect(second).not.toBe(first)
    const held = await heldDataKeys(db, openDataKey)
    const newDataKey = held.get(second)
    expect(newDataKey).toBeDefined()
    expect(newDataKey?.equals(oldDataKey as Buffer)).toBe(false)
    expect(held.has(first)).toBe(false)

    const candidates = [...held.values(), master.key]
    for (const value of oldValues) {
      expect(openWithAny(value, candidates)).toBeNull()
      // Not even when the old ciphertext is presented as the new incarnation's.
      expect(openWithAny({ ...value, aggregateId: second }, candidates)).toBeNull()
    }
    const read = await api.get('/secrets/reborn')
    expect(read.body.secret).toEqual({ pwd: 'brand-new' })
    for (const old of values) expect(read.text).not.toContain(old.pwd)
  })
})
