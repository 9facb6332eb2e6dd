import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { CREATE_SECRET, DELETE_SECRET, UPDATE_SECRET } from '../../common/aggregates/secret.commands'
import { createKeyHierarchy } from '../../app/keys/key-hierarchy'
import { createPool } from '../../store/database'
import { openEventStore } from '../../store/resolve/event-store'
import { openFileKeyStore } from '../../store/keys/file-key-store'
import { shardKeyLocksOn } from '../../store/keys/shard-keys.repository'
import { recordPending, type Operation } from '../../store/secrets.repository'
import { adminToken, as } from '../helpers/api'
import { backends } from '../helpers/backends'
import { connectToStore, storeConnection } from '../helpers/database'
import { keyStoreDirOf, ringOf } from '../helpers/keys'
import { ADMIN_ID, newVaultSetup, startVault, type VaultProcess, type VaultSetup } from '../helpers/vault-process'

/**
 * A create or delete spans the secrets manager, the event store and the read model, which
 * share no transaction. These tests build, with the product's own store modules, the exact
 * state a crash leaves between those steps, then check that the vault finishes the write:
 * at the next start, and (while it runs) before the next write of that key.
 */

const CRASHED_ACTOR = 'crashed-writer'

/** A writer that does part of what the vault does for a write, then "dies" (stops). */
const crashingWriter = async (setup: VaultSetup) => {
  const connection = storeConnection(setup)
  const keys = createKeyHierarchy(ringOf(setup), await openFileKeyStore(keyStoreDirOf(setup)), 1_000)
  const pool = createPool(connection)
  const eventStore = await openEventStore(connection, keys.unwrapDataKey)
  const intent = (operation: Operation, aggregateId: string, key: string, organizationId: string | null = null) =>
    recordPending(pool, { organizationId, key, aggregateId, operation, actor: CRASHED_ACTOR })
  return {
    /** A create that stored its intent and its data key, and maybe its event, then died. */
    createUpTo: async (step: 'key' | 'event', key: string, secret: object) => {
      const aggregateId = randomUUID()
      await intent('create', aggregateId, key)
      const client = await pool.connect()
      try {
        const { wrapped, release } = await keys.newDataKey(shardKeyLocksOn(client), aggregateId)
        await eventStore.secretsManager.setSecret(aggregateId, wrapped)
        await release()
      } finally {
        client.release()
      }
      if (step === 'event') {
        await eventStore.executeCommand({
          aggregateId,
          type: CREATE_SECRET,
          payload: {
            organizationId: null,
            key,
            arn: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${key}-Crash1`,
            secret,
            actor: CRASHED_ACTOR,
          },
        })
      }
      return aggregateId
    },
    /** A delete that stored its intent, and maybe SecretDeleted, but never shredded the key. */
    deleteUpTo: async (step: 'intent' | 'event', aggregateId: string, key: string, organizationId: string | null = null) => {
      await intent('delete', aggregateId, key, organizationId)
      if (step === 'event') {
        await eventStore.executeCommand({ aggregateId, type: DELETE_SECRET, payload: { actor: CRASHED_ACTOR } })
      }
    },
    /** An update that stored its event but never brought the read model up to it. */
    updateUpToEvent: async (aggregateId: string, key: string, secret: object) => {
      await intent('update', aggregateId, key)
      await eventStore.executeCommand({ aggregateId, type: UPDATE_SECRET, payload: { secret, actor: CRASHED_ACTOR } })
    },
    close: async () => {
      keys.close()
      await eventStore.dispose()
      await pool.end()
    },
  }
}

/** What is stored about one incarnation, read straight from the database. */
const storedState = async (db: pg.Client, aggregateId: string) => {
  const query = <T extends pg.QueryResultRow>(sql: string) => db.query<T>(sql, [aggregateId])
  // One query at a time: a pg client does not run them concurrently.
  const key = await query<{ secret: string | null }>('SELECT secret FROM eventstore.secrets WHERE id = $1')
  const events = await query<{ type: string }>(
    'SELECT type FROM eventstore.events WHERE "aggregateId" = $1 ORDER BY "aggregateVersion"',
  )
  const pending = await query<{ operation: string }>('SELECT operation FROM vault.pending_operations WHERE aggregate_id = $1')
  const row = await query<{ version: number }>('SELECT version FROM vault.secrets WHERE aggregate_id = $1')
  return {
    /** 'held', 'shredded' (tombstone) or 'none' (never stored). */
    dataKey: key.rows.length === 0 ? 'none' : key.rows[0].secret === null ? 'shredded' : 'held',
    events: events.rows.map((event) => event.type),
    pending: pending.rows.map((intent) => intent.operation),
    readModelVersion: row.rows[0]?.version ?? null,
  }
}

const aggregateIdOf = async (db: pg.Client, key: string, organizationId = ''): Promise<string> => {
  const result = await db.query<{ aggregate_id: string }>(
    'SELECT aggregate_id FROM vault.secrets WHERE organization_id = $1 AND key = $2',
    [organizationId, key],
  )
  return result.rows[0].aggregate_id
}

const historyTypes = async (api: ReturnType<typeof as>, route: string) => {
  const reply = await api.get(`${route}/history`)
  return reply.status === 200 ? reply.body.events.map((event: { type: string }) => event.type) : reply.status
}

describe.each(backends())('repair of interrupted writes on the %s store', (backend) => {
  describe('at the next start after a crash', () => {
    let vault: VaultProcess
    let api: ReturnType<typeof as>
    let db: pg.Client
    const ids: Record<string, string> = {}

    beforeAll(async () => {
      const setup = await newVaultSetup(backend)
      const crashed = await startVault(setup)
      const before = as(crashed.url, await adminToken(crashed.url))
      for (const [route, key] of [
        ['/secrets', 'half-deleted'],
        ['/organizations/acme', 'intent-only'],
        ['/secrets', 'stale-update'],
      ]) {
        expect((await before.post(route, { key, secret: { v: 'one' } })).status).toBe(200)
      }
      db = await connectToStore(setup)
      const writer = await crashingWriter(setup)
      try {
        ids.orphan = await writer.createUpTo('key', 'orphan', { v: 'never' })
        ids.unseen = await writer.createUpTo('event', 'unseen', { v: 'created' })
        ids.halfDeleted = await aggregateIdOf(db, 'half-deleted')
        await writer.deleteUpTo('event', ids.halfDeleted, 'half-deleted')
        ids.intentOnly = await aggregateIdOf(db, 'intent-only', 'acme')
        await writer.deleteUpTo('intent', ids.intentOnly, 'intent-only', 'acme')
        ids.staleUpdate = await aggregateIdOf(db, 'stale-update')
        await writer.updateUpToEvent(ids.staleUpdate, 'stale-update', { v: 'two' })
      } finally {
        await writer.close()
      }
      // The state is what a crash leaves: keys still held, intents still there.
      expect(await storedState(db, ids.orphan)).toEqual({
        dataKey: 'held',
        events: [],
        pending: ['create'],
        readModelVersion: null,
      })
      expect(await storedState(db, ids.halfDeleted)).toEqual({
        dataKey: 'held',
        events: ['SecretCreated', 'SecretDeleted'],
        pending: ['delete'],
        readModelVersion: 1,
      })
      expect((await storedState(db, ids.staleUpdate)).readModelVersion).toBe(1)
      await db.end()

      expect(await crashed.stop('SIGKILL')).toBeNull()
      vault = await startVault(setup)
      api = as(vault.url, await adminToken(vault.url))
      db = await connectToStore(setup)
    })
    afterAll(async () => {
      await db?.end()
      await vault?.stop()
    })

    it('finishes every interrupted write before it serves, and says so', () => {
      const listening = vault
        .output()
        .split('\n')
        .filter((line) => line.includes('"msg":"listening"'))
        .map((line) => JSON.parse(line))
      expect(listening).toEqual([expect.objectContaining({ recovered: 5 })])
      expect(vault.output()).toContain('finished a write interrupted by a crash')
    })

    it('tombstones the data key of a create that died before its event, and shows no secret', async () => {
      expect(await storedState(db, ids.orphan)).toEqual({ dataKey: 'shredded', events: [], pending: [], readModelVersion: null })
      expect((await api.get('/secrets/orphan')).status).toBe(404)
      expect(await historyTypes(api, '/secrets/orphan')).toBe(404)
      // The key is free: a real create now works.
      expect((await api.post('/secrets', { key: 'orphan', secret: { v: 'real' } })).status).toBe(200)
      expect((await api.get('/secrets/orphan')).body.secret).toEqual({ v: 'real' })
    })

    it('finishes a create whose event was stored before the crash', async () => {
      expect(await storedState(db, ids.unseen)).toEqual({
        dataKey: 'held',
        events: ['SecretCreated'],
        pending: [],
        readModelVersion: 1,
      })
      expect((await api.get('/secrets/unseen')).body.secret).toEqual({ v: 'created' })
      const history = await api.get('/secrets/unseen/history')
      expect(history.body.events).toEqual([expect.objectContaining({ type: 'SecretCreated', actor: CRASHED_ACTOR })])
    })

    it('shreds the key of a delete that stored SecretDeleted but died before shredding', async () => {
      expect(await storedState(db, ids.halfDeleted)).toEqual({
        dataKey: 'shredded',
        events: ['SecretCreated', 'SecretDeleted'],
        pending: [],
        readModelVersion: null,
      })
      expect((await api.get('/secrets/half-deleted')).status).toBe(404)
      expect(await historyTypes(api, '/secrets/half-deleted')).toEqual(['SecretCreated', 'SecretDeleted'])
      expect((await api.delete('/secrets/half-deleted')).status).toBe(205)
    })

    it('completes an organization delete that died right after recording its intent', async () => {
      expect(await storedState(db, ids.intentOnly)).toEqual({
        dataKey: 'shredded',
        events: ['SecretCreated', 'SecretDeleted'],
        pending: [],
        readModelVersion: null,
      })
      expect((await api.get('/organizations/acme/intent-only')).status).toBe(404)
      const history = await api.get('/organizations/acme/intent-only/history')
      expect(history.body.events).toEqual([
        expect.objectContaining({ type: 'SecretCreated', actor: ADMIN_ID }),
        expect.objectContaining({ type: 'SecretDeleted', actor: CRASHED_ACTOR }),
      ])
    })

    it('brings the read model up to an update whose event was stored before the crash', async () => {
      expect(await storedState(db, ids.staleUpdate)).toEqual({
        dataKey: 'held',
        events: ['SecretCreated', 'SecretUpdated'],
        pending: [],
        readModelVersion: 2,
      })
      expect((await api.get('/secrets/stale-update')).body.secret).toEqual({ v: 'two' })
      expect((await api.post('/secrets/stale-update', { secret: { v: 'three' } })).status).toBe(200)
      expect((await api.get('/secrets/stale-update')).body.secret).toEqual({ v: 'three' })
    })

    it('leaves no intent behind and no readable key for anything deleted or never created', async () => {
      expect((await db.query('SELECT * FROM vault.pending_operations')).rows).toEqual([])
      const readable = await db.query<{ id: string }>(
        `SELECT id FROM eventstore.secrets s WHERE secret IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM vault.secrets v WHERE v.aggregate_id = s.id)`,
      )
      expect(readable.rows).toEqual([])
    })
  })

  describe('after a real crash in the middle of a burst of writes', () => {
    it('leaves no intent, no readable key without a live secret, and every acknowledged write', async () => {
      const setup = await newVaultSetup(backend)
      const first = await startVault(setup)
      const api = as(first.url, await adminToken(first.url))
      for (let index = 0; index < 15; index++) {
        expect((await api.post('/secrets', { key: `doomed-${index}`, secret: { n: index } })).status).toBe(200)
      }
      // Deletes, creates and updates all at once; the vault is killed while they run.
      const outcome = (reply: Promise<{ status: number }>) => reply.then((r) => r.status, () => 'lost' as const)
      const deletes = Array.from({ length: 15 }, (_, index) => outcome(api.delete(`/secrets/doomed-${index}`)))
      const creates = Array.from({ length: 15 }, (_, index) =>
        outcome(api.post('/secrets', { key: `fresh-${index}`, secret: { n: index } })),
      )
      const updates = Array.from({ length: 15 }, (_, index) =>
        outcome(api.post(`/secrets/doomed-${index}`, { secret: { n: index, updated: true } })),
      )
      await Promise.race([...deletes, ...creates])
      await new Promise((resolve) => setTimeout(resolve, 15))
      expect(await first.stop('SIGKILL')).toBeNull()
      const [deleted, created] = [await Promise.all(deletes), await Promise.all(creates)]
      await Promise.all(updates)

      const vault = await startVault(setup)
      const db = await connectToStore(setup)
      try {
        const again = as(vault.url, await adminToken(vault.url))
        expect((await db.query('SELECT * FROM vault.pending_operations')).rows).toEqual([])
        const orphanedKeys = await db.query(
          `SELECT id FROM eventstore.secrets s WHERE secret IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM vault.secrets v WHERE v.aggregate_id = s.id)`,
        )
        expect(orphanedKeys.rows).toEqual([])
        for (let index = 0; index < 15; index++) {
          const gone = await again.get(`/secrets/doomed-${index}`)
          if (deleted[index] === 204) expect(gone.status).toBe(404)
          else expect([200, 404]).toContain(gone.status)
          const fresh = await again.get(`/secrets/fresh-${index}`)
          if (created[index] === 200) expect(fresh.body.secret).toEqual({ n: index })
          else expect([200, 404]).toContain(fresh.status)
        }
      } finally {
        await db.end()
        await vault.stop()
      }
    })
  })

  describe('before the next write of the key, while the vault runs', () => {
    let vault: VaultProcess
    let api: ReturnType<typeof as>
    let db: pg.Client
    let writer: Awaited<ReturnType<typeof crashingWriter>>

    beforeAll(async () => {
      vault = await startVault(await newVaultSetup(backend))
      api = as(vault.url, await adminToken(vault.url))
      db = await connectToStore(vault.setup)
      writer = await crashingWriter(vault.setup)
    })
    afterAll(async () => {
      await writer?.close()
      await db?.end()
      await vault?.stop()
    })

    it('finishes an interrupted delete before the key is created again', async () => {
      expect((await api.post('/secrets', { key: 'lazy-delete', secret: { v: 'old' } })).status).toBe(200)
      const old = await aggregateIdOf(db, 'lazy-delete')
      await writer.deleteUpTo('event', old, 'lazy-delete')

      const created = await api.post('/secrets', { key: 'lazy-delete', secret: { v: 'new' } })
      expect(created.status).toBe(200)

      expect(await storedState(db, old)).toEqual({
        dataKey: 'shredded',
        events: ['SecretCreated', 'SecretDeleted'],
        pending: [],
        readModelVersion: null,
      })
      expect(await aggregateIdOf(db, 'lazy-delete')).not.toBe(old)
      expect((await api.get('/secrets/lazy-delete')).body.secret).toEqual({ v: 'new' })
      expect(await historyTypes(api, '/secrets/lazy-delete')).toEqual(['SecretCreated', 'SecretDeleted', 'SecretCreated'])
    })

    it('finishes an interrupted update before the next update of the key', async () => {
      expect((await api.post('/secrets', { key: 'lazy-update', secret: { v: 1 } })).status).toBe(200)
      const id = await aggregateIdOf(db, 'lazy-update')
      await writer.updateUpToEvent(id, 'lazy-update', { v: 2 })

      expect((await api.post('/secrets/lazy-update', { secret: { v: 3 } })).status).toBe(200)

      expect(await storedState(db, id)).toEqual({
        dataKey: 'held',
        events: ['SecretCreated', 'SecretUpdated', 'SecretUpdated'],
        pending: [],
        readModelVersion: 3,
      })
      expect((await api.get('/secrets/lazy-update')).body.secret).toEqual({ v: 3 })
    })

    it('tombstones an orphaned key before creating the key for real', async () => {
      const orphan = await writer.createUpTo('key', 'lazy-orphan', { v: 'never' })

      expect((await api.post('/secrets', { key: 'lazy-orphan', secret: { v: 'real' } })).status).toBe(200)

      expect(await storedState(db, orphan)).toEqual({ dataKey: 'shredded', events: [], pending: [], readModelVersion: null })
      expect(await aggregateIdOf(db, 'lazy-orphan')).not.toBe(orphan)
      expect((await api.get('/secrets/lazy-orphan')).body.secret).toEqual({ v: 'real' })
      expect(await historyTypes(api, '/secrets/lazy-orphan')).toEqual(['SecretCreated'])
    })

    it('reads a secret whose delete is under way (or was cut short) as gone, on every process', async () => {
      expect((await api.post('/secrets', { key: 'read-while-deleting', secret: { v: 'doomed' } })).status).toBe(200)
      const id = await aggregateIdOf(db, 'read-while-deleting')
      await writer.deleteUpTo('event', id, 'read-while-deleting')

      // The data key still exists (nothing shredded it yet), yet the value is no longer served.
      expect((await storedState(db, id)).dataKey).toBe('held')
      const read = await api.get('/secrets/read-while-deleting')
      expect(read.status).toBe(404)
      expect(read.text).not.toContain('doomed')
    })

    it('completes a delete left as a bare intent before deleting the key again, deleting it once', async () => {
      expect((await api.post('/secrets', { key: 'lazy-intent', secret: { v: 1 } })).status).toBe(200)
      const id = await aggregateIdOf(db, 'lazy-intent')
      await writer.deleteUpTo('intent', id, 'lazy-intent')

      // Either answer says "it is gone"; what matters is that it is gone once, and shredded.
      expect([204, 205]).toContain((await api.delete('/secrets/lazy-intent')).status)

      expect(await storedState(db, id)).toEqual({
        dataKey: 'shredded',
        events: ['SecretCreated', 'SecretDeleted'],
        pending: [],
        readModelVersion: null,
      })
      expect((await api.get('/secrets/lazy-intent')).status).toBe(404)
    })
  })
})
