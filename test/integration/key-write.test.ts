import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CREATE_SECRET, DELETE_SECRET, UPDATE_SECRET, type CreateSecretPayload } from '../../common/aggregates/secret.commands'
import type { ClientId } from '../../common/types'
import { createDataKeyCache } from '../../app/keys/data-key-cache'
import { withKeyWrite, type KeyWriteDeps } from '../../app/secrets/key-write'
import { recoverAll } from '../../app/secrets/recovery'
import { coreSettings, openVaultCore, type VaultCore } from '../../compose'
import { loadConfig } from '../../config'
import { createLogger } from '../../lib/logger'
import { currentStamps } from '../../store/change-stamps'
import { connectionFromUrl } from '../../store/connection'
import { lockKey } from '../../store/key-writes'
import { keyShardOf } from '../../store/keys/shard-keys.repository'
import { DATA_KEYS } from '../../store/resolve/tables'
import type { SecretCommand } from '../../store/resolve/event-store'
import { findReadableSecrets, keyShard, recordPending, type KeyRef } from '../../store/secrets.repository'
import { createServerDatabase } from '../helpers/backends'

// The crash-safe steps of every write (app/secrets/key-write.ts) against a real PostgreSQL: what
// each leaves in the read model, reSolve's key table, the intents and the change stamps. Needs
// the test server; without one these are skipped, loudly (test/global-setup.js).
const withServer = process.env.TEST_DATABASE_URL ? describe : describe.skip

const quiet = createLogger('error', () => undefined)
const ACTOR = 'key-write-spec' as ClientId

const refOf = (key: string, organizationId: string | null = null): KeyRef => ({ organizationId, key })

const createPayload = (ref: KeyRef, secret: Record<string, string>): CreateSecretPayload => ({
  ...ref,
  arn: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${ref.key}-Spec01`,
  secret,
  actor: ACTOR,
})

withServer('withKeyWrite, the crash-safe steps of a write', () => {
  let core: VaultCore
  let deps: KeyWriteDeps

  beforeAll(async () => {
    const config = loadConfig({ VAULT_KEYSTORE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'vault-kw-keys-')), VAULT_ENV: 'dev' })
    const settings = coreSettings(config, connectionFromUrl(await createServerDatabase()), crypto.randomBytes(32), false)
    core = await openVaultCore(settings, quiet)
    const dataKeys = createDataKeyCache(core.keys.unwrapDataKey, 16)
    deps = { pool: core.pool, eventStore: core.eventStore, log: quiet, keys: core.keys, dataKeys }
  })
  afterAll(async () => {
    deps?.dataKeys.close()
    await core?.close()
  })

  /** What is stored about a key and one incarnation of it, read straight from the database. */
  const stored = async (ref: KeyRef, aggregateId: string) => {
    const ns = ref.organizationId ?? ''
    const row = await core.pool.query<{ aggregate_id: string; version: number }>(
      'SELECT aggregate_id, version FROM vault.secrets WHERE organization_id = $1 AND key = $2',
      [ns, ref.key],
    )
    const key = await core.pool.query<{ wrapped: string | null }>(
      `SELECT ${DATA_KEYS.wrapped} AS wrapped FROM ${DATA_KEYS.table} WHERE ${DATA_KEYS.id} = $1`,
      [aggregateId],
    )
    const intents = await core.pool.query<{ operation: string }>(
      'SELECT operation FROM vault.pending_operations WHERE organization_id = $1 AND key = $2',
      [ns, ref.key],
    )
    const incarnations = await core.pool.query('SELECT 1 FROM vault.incarnations WHERE aggregate_id = $1', [aggregateId])
    return {
      row: row.rows[0] ?? null,
      /** 'held', 'shredded' (kept as a tombstone) or 'none' (never stored). */
      dataKey: key.rows.length === 0 ? 'none' : key.rows[0].wrapped === null ? 'shredded' : 'held',
      intents: intents.rows.map((intent) => intent.operation),
      incarnationRecorded: incarnations.rows.length === 1,
      readable: (await findReadableSecrets(core.pool, [ref]))[0] !== null,
    }
  }

  const stampOf = async (ref: KeyRef): Promise<bigint> => {
    const shard = keyShard(ref)
    return BigInt((await currentStamps(core.pool, [shard])).get(shard) ?? '0')
  }

  const shredRequests = async (aggregateId: string): Promise<number> => {
    const result = await core.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM vault.shred_requests WHERE shard = $1', [
      keyShardOf(aggregateId),
    ])
    return Number(result.rows[0].n)
  }

  const create = (ref: KeyRef, secret: Record<string, string> = { v: '1' }) =>
    withKeyWrite(deps, ref, (locked) => locked.write({ operation: 'create', payload: createPayload(ref, secret) }))

  /** A writer that does part of a write with the store's own steps, then "dies" (stops). */
  const crashedCreate = async (ref: KeyRef, upTo: 'key' | 'event'): Promise<string> => {
    const aggregateId = crypto.randomUUID()
    await lockKey(core.pool, ref, async (locked) => {
      await locked.record(aggregateId, 'create', ACTOR)
      const { wrapped, release } = await core.keys.newDataKey(locked, aggregateId)
      await core.eventStore.secretsManager.setSecret(aggregateId, wrapped)
      await release()
    })
    if (upTo === 'event') {
      await core.eventStore.executeCommand({ aggregateId, type: CREATE_SECRET, payload: createPayload(ref, { v: 'crashed' }) })
    }
    return aggregateId
  }

  describe('given no secret under the key', () => {
    it('a create settles its row, records its incarnation and clears its intent', async () => {
      const ref = refOf('kw-created')
      const { aggregateId, row } = await create(ref)
      expect(row).toMatchObject({ aggregateId, key: 'kw-created', version: 1 })
      expect(await stored(ref, aggregateId)).toEqual({
        row: { aggregate_id: aggregateId, version: 1 },
        dataKey: 'held',
        intents: [],
        incarnationRecorded: true,
        readable: true,
      })
    })

    it('a create that fails after its intent leaves no row and no readable key', async () => {
      const ref = refOf('kw-failed-create', 'acme')
      const attempted: string[] = []
      const failing: KeyWriteDeps = {
        ...deps,
        eventStore: {
          ...deps.eventStore,
          executeCommand: async (command: SecretCommand) => {
            attempted.push(command.aggregateId)
            throw new Error('the event store went away')
          },
        },
      }
      await expect(
        withKeyWrite(failing, ref, (locked) => locked.write({ operation: 'create', payload: createPayload(ref, { v: '1' }) })),
      ).rejects.toThrow('the event store went away')
      expect(attempted).toHaveLength(1)
      expect(await stored(ref, attempted[0])).toEqual({
        row: null,
        dataKey: 'shredded',
        intents: [],
        incarnationRecorded: false,
        readable: false,
      })
    })
  })

  describe('given a live secret', () => {
    it('an update settles its row and bumps the key\'s change stamp', async () => {
      const ref = refOf('kw-updated')
      const { aggregateId } = await create(ref)
      const before = await stampOf(ref)
      const result = await withKeyWrite(deps, ref, (locked) => {
        expect(locked.row).toMatchObject({ aggregateId, version: 1 })
        return locked.write({ operation: 'update', payload: { secret: { v: '2' }, description: 'second', actor: ACTOR } })
      })
      expect(result).toMatchObject({ aggregateId, row: { version: 2, description: 'second' } })
      expect(await stampOf(ref)).toBeGreaterThan(before)
      expect(await stored(ref, aggregateId)).toMatchObject({ row: { aggregate_id: aggregateId, version: 2 }, intents: [], readable: true })
    })

    it('a delete shreds the data key and requests a shred of its shard key', async () => {
      const ref = refOf('kw-deleted', 'acme')
      const { aggregateId } = await create(ref)
      const requestsBefore = await shredRequests(aggregateId)
      const stampBefore = await stampOf(ref)
      const { row } = await withKeyWrite(deps, ref, (locked) => locked.write({ operation: 'delete', payload: { actor: ACTOR } }))
      expect(row).toBeNull()
      expect(await stored(ref, aggregateId)).toEqual({
        row: null,
        dataKey: 'shredded',
        intents: [],
        incarnationRecorded: true,
        readable: false,
      })
      expect(await shredRequests(aggregateId)).toBe(requestsBefore + 1)
      expect(await stampOf(ref)).toBeGreaterThan(stampBefore)
    })

    it('makes one change per lock', async () => {
      const ref = refOf('kw-one-change')
      await create(ref)
      await expect(
        withKeyWrite(deps, ref, async (locked) => {
          await locked.write({ operation: 'update', payload: { secret: { v: '2' }, actor: ACTOR } })
          return locked.write({ operation: 'update', payload: { secret: { v: '3' }, actor: ACTOR } })
        }),
      ).rejects.toThrow('one change')
    })
  })

  describe('given an intent a crash left on the key', () => {
    it('finishes a cut-short delete before the next write sees the key', async () => {
      const ref = refOf('kw-crashed-delete')
      const { aggregateId } = await create(ref)
      await recordPending(core.pool, { ...ref, aggregateId, operation: 'delete', actor: ACTOR })
      await core.eventStore.executeCommand({ aggregateId, type: DELETE_SECRET, payload: { actor: ACTOR } })
      const seen = await withKeyWrite(deps, ref, async (locked) => ({ row: locked.row, state: await stored(ref, aggregateId) }))
      expect(seen.row).toBeNull()
      expect(seen.state).toMatchObject({ row: null, dataKey: 'shredded', intents: [] })
      // And the key is free for a new incarnation.
      const again = await create(ref, { v: 'again' })
      expect(again.aggregateId).not.toBe(aggregateId)
    })

    it('settles a cut-short update from its event before the next write', async () => {
      const ref = refOf('kw-crashed-update')
      const { aggregateId } = await create(ref)
      await recordPending(core.pool, { ...ref, aggregateId, operation: 'update', actor: ACTOR })
      await core.eventStore.executeCommand({ aggregateId, type: UPDATE_SECRET, payload: { secret: { v: '2' }, actor: ACTOR } })
      const result = await withKeyWrite(deps, ref, (locked) => {
        expect(locked.row).toMatchObject({ aggregateId, version: 2 })
        return locked.write({ operation: 'update', payload: { secret: { v: '3' }, actor: ACTOR } })
      })
      expect(result.row).toMatchObject({ version: 3 })
      expect(await stored(ref, aggregateId)).toMatchObject({ row: { version: 3 }, intents: [] })
    })
  })

  describe('given intents left by a crashed process, at the next start', () => {
    it('recovery finishes an intent with events and drops one without', async () => {
      const withEvent = refOf('kw-recovered-create')
      const withoutEvent = refOf('kw-dropped-create', 'acme')
      const finishedId = await crashedCreate(withEvent, 'event')
      const droppedId = await crashedCreate(withoutEvent, 'key')
      expect(await stored(withEvent, finishedId)).toMatchObject({ row: null, intents: ['create'], readable: false })

      expect(await recoverAll(deps)).toBe(2)

      expect(await stored(withEvent, finishedId)).toEqual({
        row: { aggregate_id: finishedId, version: 1 },
        dataKey: 'held',
        intents: [],
        incarnationRecorded: true,
        readable: true,
      })
      expect(await stored(withoutEvent, droppedId)).toEqual({
        row: null,
        dataKey: 'shredded',
        intents: [],
        incarnationRecorded: false,
        readable: false,
      })
      expect(await recoverAll(deps)).toBe(0)
    })
  })
})
