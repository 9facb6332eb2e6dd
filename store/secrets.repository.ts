import type { PoolClient } from 'pg'
import type { SecretRow } from '../common/read-models/secrets.projection'
import { bumpStampClause, CHANGE_STAMPS_TABLE, shardOf } from './change-stamps'
import { keyShardOf } from './keys/shard-keys.repository'
import { VAULT_SCHEMA, type Db, type Pool } from './database'
import { DATA_KEYS } from './resolve/tables'

/** A key in its namespace; organizationId null is the standard namespace. */
export type KeyRef = Readonly<{ organizationId: string | null; key: string }>

export type Operation = 'create' | 'update' | 'delete'

/** A write in progress (or cut short by a crash) on one incarnation. */
export type PendingOperation = Readonly<KeyRef & { aggregateId: string; operation: Operation; actor: string }>

// '' stands for the standard namespace: organization ids are never empty, so it cannot clash.
const ns = (organizationId: string | null): string => organizationId ?? ''
const fromNs = (stored: string): string | null => (stored === '' ? null : stored)

/** Keys and organization ids cannot contain '/', so this names one (namespace, key) exactly. */
export const keyName = (ref: KeyRef): string => `${ns(ref.organizationId)}/${ref.key}`

const lockName = (ref: KeyRef): string => `secret:${keyName(ref)}`

/** The change-stamp shard of a key (store/change-stamps.ts). */
export const keyShard = (ref: KeyRef): number => shardOf(keyName(ref))

/**
 * Serializes writes to one key across every vault process sharing the database (a session
 * advisory lock on a dedicated connection). Waits up to the statement timeout.
 */
export const withKeyLock = async <T>(pool: Pool, ref: KeyRef, work: (client: PoolClient) => Promise<T>): Promise<T> => {
  const client = await pool.connect()
  let locked = false
  try {
    await client.query({ name: 'vault-key-lock', text: 'SELECT pg_advisory_lock(hashtextextended($1, 0))', values: [lockName(ref)] })
    locked = true
    return await work(client)
  } finally {
    await releaseLock(client, ref, locked)
  }
}

/** Like withKeyLock, but skips the key (returns null) when another process holds its lock. */
export const tryWithKeyLock = async <T>(
  pool: Pool,
  ref: KeyRef,
  work: (client: PoolClient) => Promise<T>,
): Promise<T | null> => {
  const client = await pool.connect()
  let locked = false
  try {
    const result = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
      [lockName(ref)],
    )
    locked = result.rows[0].locked
    return locked ? await work(client) : null
  } finally {
    await releaseLock(client, ref, locked)
  }
}

const releaseLock = async (client: PoolClient, ref: KeyRef, locked: boolean): Promise<void> => {
  if (!locked) return client.release()
  try {
    await client.query({ name: 'vault-key-unlock', text: 'SELECT pg_advisory_unlock(hashtextextended($1, 0))', values: [lockName(ref)] })
    client.release()
  } catch {
    // A connection we could not unlock on must not go back to the pool holding the lock.
    client.release(true)
  }
}

const INSERT_PENDING = `INSERT INTO ${VAULT_SCHEMA}.pending_operations (aggregate_id, organization_id, key, operation, actor)
     VALUES ($1, $2, $3, $4, $5)`

const RECORD_PENDING = { name: 'vault-record-pending', text: INSERT_PENDING }

// A recorded delete makes the secret read as gone on every process (findReadableSecrets), so
// it changes what a read answers: it bumps the key's change stamp in the same statement.
const RECORD_PENDING_DELETE = { name: 'vault-record-pending-delete', text: `WITH ${bumpStampClause(6)}\n${INSERT_PENDING}` }

export const recordPending = async (db: Db, pending: PendingOperation): Promise<void> => {
  const values: unknown[] = [pending.aggregateId, ns(pending.organizationId), pending.key, pending.operation, pending.actor]
  if (pending.operation === 'delete') values.push(keyShard(pending))
  await db.query({ ...(pending.operation === 'delete' ? RECORD_PENDING_DELETE : RECORD_PENDING), values })
}

type PendingRecord = { aggregate_id: string; organization_id: string; key: string; operation: Operation; actor: string }

const toPending = (row: PendingRecord): PendingOperation => ({
  aggregateId: row.aggregate_id,
  organizationId: fromNs(row.organization_id),
  key: row.key,
  operation: row.operation,
  actor: row.actor,
})

export const pendingForKey = async (db: Db, ref: KeyRef): Promise<PendingOperation[]> => {
  const result = await db.query<PendingRecord>(
    `SELECT aggregate_id, organization_id, key, operation, actor FROM ${VAULT_SCHEMA}.pending_operations
     WHERE organization_id = $1 AND key = $2 ORDER BY created_at`,
    [ns(ref.organizationId), ref.key],
  )
  return result.rows.map(toPending)
}

export const allPending = async (db: Db): Promise<PendingOperation[]> => {
  const result = await db.query<PendingRecord>(
    `SELECT aggregate_id, organization_id, key, operation, actor FROM ${VAULT_SCHEMA}.pending_operations
     ORDER BY created_at`,
  )
  return result.rows.map(toPending)
}

type SecretRecord = {
  aggregate_id: string
  organization_id: string
  key: string
  arn: string
  description: string | null
  version: number
  value: string
  created_at: string
  updated_at: string
}

const toRow = (record: SecretRecord): SecretRow => ({
  aggregateId: record.aggregate_id,
  organizationId: fromNs(record.organization_id),
  key: record.key,
  arn: record.arn,
  description: record.description,
  version: record.version,
  value: record.value,
  createdAt: Number(record.created_at),
  updatedAt: Number(record.updated_at),
})

/** A live secret as a read needs it: its row and its wrapped data key (null once shredded). */
export type ReadableSecret = Readonly<{ row: SecretRow; wrappedDataKey: string | null }>

/** A readable secret with its key's shard and that shard's change stamp, from the same statement. */
export type StampedSecret = ReadableSecret & Readonly<{ shard: number; stamp: string }>

// Prepared (named) once per connection: the hottest statement of the vault skips parsing and
// planning (the pool forces a generic plan: store/database.ts). It answers many keys at once
// (reads are batched, app/secrets.service.ts): $1 and $2 are the keys' namespaces and names,
// `i` says which of them a row answers; $3 are the keys' change-stamp shards, whose stamps come
// from the same snapshot as the rows.
const READABLE_SECRETS = {
  name: 'vault-readable-secrets',
  text: `SELECT asked.i, s.*, k.${DATA_KEYS.wrapped} AS wrapped_data_key, COALESCE(c.n, 0)::text AS stamp
     FROM unnest($1::text[], $2::text[], $3::integer[]) WITH ORDINALITY AS asked(organization_id, key, shard, i)
     JOIN ${VAULT_SCHEMA}.secrets s ON s.organization_id = asked.organization_id AND s.key = asked.key
     LEFT JOIN ${DATA_KEYS.table} k ON k.${DATA_KEYS.id} = s.aggregate_id
     LEFT JOIN ${CHANGE_STAMPS_TABLE} c ON c.shard = asked.shard
     WHERE NOT EXISTS (
       SELECT 1 FROM ${VAULT_SCHEMA}.pending_operations p WHERE p.aggregate_id = s.aggregate_id AND p.operation = 'delete')`,
}

/**
 * The secrets reads may answer with, and their wrapped data keys, in one statement (one
 * snapshot) on our pool: for each key asked, in order, its live row whose delete is not under
 * way, or null. Once a delete's intent is recorded the secret reads as gone on every process,
 * even if the process doing the delete dies before shredding (the repair finishes that); a
 * shredded key comes back as null.
 */
export const findReadableSecrets = async (db: Db, refs: readonly KeyRef[]): Promise<Array<StampedSecret | null>> => {
  if (refs.length === 0) return []
  const shards = refs.map(keyShard)
  const result = await db.query<SecretRecord & { i: string; wrapped_data_key: string | null; stamp: string }>({
    ...READABLE_SECRETS,
    values: [refs.map((ref) => ns(ref.organizationId)), refs.map((ref) => ref.key), shards],
  })
  const found: Array<StampedSecret | null> = refs.map(() => null)
  for (const record of result.rows) {
    const at = Number(record.i) - 1
    found[at] = { row: toRow(record), wrappedDataKey: record.wrapped_data_key, shard: shards[at], stamp: record.stamp }
  }
  return found
}

/** What a write of a key starts from: intents a crash left on it, its live row and that row's wrapped data key. */
export type KeyWriteState = Readonly<{ pending: PendingOperation[]; row: SecretRow | null; wrappedDataKey: string | null }>

// One round trip for what used to take two (intents, then the row); the key comes along, so the
// write's command does not look it up again. Always exactly one row: s.* are NULL without a secret.
const WRITE_STATE = {
  name: 'vault-write-state',
  text: `SELECT s.*, k.${DATA_KEYS.wrapped} AS wrapped_data_key, (
       SELECT json_agg(json_build_object('aggregate_id', p.aggregate_id, 'organization_id', p.organization_id,
         'key', p.key, 'operation', p.operation, 'actor', p.actor) ORDER BY p.created_at)
       FROM ${VAULT_SCHEMA}.pending_operations p WHERE p.organization_id = $1 AND p.key = $2) AS pending
     FROM (SELECT 1) AS one
     LEFT JOIN ${VAULT_SCHEMA}.secrets s ON s.organization_id = $1 AND s.key = $2
     LEFT JOIN ${DATA_KEYS.table} k ON k.${DATA_KEYS.id} = s.aggregate_id`,
}

/** Read under the key's lock, so nothing it returns can change before the write ends. */
export const readForWrite = async (db: Db, ref: KeyRef): Promise<KeyWriteState> => {
  type Record = Partial<SecretRecord> & { wrapped_data_key: string | null; pending: PendingRecord[] | null }
  const result = await db.query<Record>({ ...WRITE_STATE, values: [ns(ref.organizationId), ref.key] })
  const record = result.rows[0]
  const row = record.aggregate_id == null ? null : toRow(record as SecretRecord)
  return { pending: (record.pending ?? []).map(toPending), row, wrappedDataKey: row === null ? null : record.wrapped_data_key }
}

/**
 * Makes the read model agree with an incarnation's events, and clears the intent, atomically:
 * `row` null removes the incarnation's live row. One statement (its parts are data-modifying
 * WITH clauses, which PostgreSQL runs to completion in the statement's one transaction): one
 * round trip and one commit instead of BEGIN, two or three statements and COMMIT.
 */
export const settle = async (
  client: PoolClient,
  ref: KeyRef,
  aggregateId: string,
  row: SecretRow | null,
  recordIncarnation: boolean,
): Promise<void> => {
  const statement = SETTLE[`${row === null ? 'remove' : 'upsert'}${recordIncarnation ? '+incarnation' : ''}`]
  const values: unknown[] = [aggregateId, ns(ref.organizationId), ref.key, keyShard(ref)]
  if (row === null) values.push(keyShardOf(aggregateId))
  if (row !== null) {
    if (row.aggregateId !== aggregateId) throw new Error('A settled row belongs to its own incarnation')
    values.push(ns(row.organizationId), row.key, row.arn, row.description, row.version, row.value, row.createdAt, row.updatedAt)
  }
  await client.query({ ...statement, values })
}

// $1 aggregate id, $2 namespace and $3 key (of the intent), $4 its change-stamp shard, $5.. the row.
const UPSERT_ROW = `upserted AS (
  INSERT INTO ${VAULT_SCHEMA}.secrets
    (organization_id, key, aggregate_id, arn, description, version, value, created_at, updated_at)
  VALUES ($5, $6, $1, $7, $8, $9, $10, $11, $12)
  ON CONFLICT (organization_id, key) DO UPDATE SET
    aggregate_id = EXCLUDED.aggregate_id, arn = EXCLUDED.arn, description = EXCLUDED.description,
    version = EXCLUDED.version, value = EXCLUDED.value, created_at = EXCLUDED.created_at,
    updated_at = EXCLUDED.updated_at)`
const REMOVE_ROW = `removed AS (DELETE FROM ${VAULT_SCHEMA}.secrets WHERE aggregate_id = $1)`
const RECORD_INCARNATION = `incarnation AS (
  INSERT INTO ${VAULT_SCHEMA}.incarnations (organization_id, key, aggregate_id) VALUES ($2, $3, $1)
  ON CONFLICT (aggregate_id) DO NOTHING)`
// SECURITY: a removed incarnation's data key is already null in reSolve's table, but its old
// bytes stay in PostgreSQL's files: its shard key must be retired (app/keys/shredder.ts). $5 is
// the data key's shard; asked in the statement that settles the delete, so no crash loses it.
const REQUEST_SHRED = `shred AS (INSERT INTO ${VAULT_SCHEMA}.shred_requests (shard) VALUES ($5::integer))`
const CLEAR_INTENT = `cleared AS (DELETE FROM ${VAULT_SCHEMA}.pending_operations WHERE aggregate_id = $1)`

const settleStatement = (name: string, parts: string[]) => ({
  name: `vault-settle-${name}`,
  // $2 and $3 are typed here because the statements without an incarnation do not use them.
  text: `WITH ${parts.join(',\n')}\nSELECT $2::text AS organization_id, $3::text AS key`,
})

// Every settle may change what a read answers (a row, or a delete's intent cleared), so each
// bumps the key's change stamp in its own transaction (store/change-stamps.ts).
const BUMP_STAMP = bumpStampClause(4)

const SETTLE: Record<string, { name: string; text: string }> = {
  upsert: settleStatement('upsert', [UPSERT_ROW, CLEAR_INTENT, BUMP_STAMP]),
  'upsert+incarnation': settleStatement('upsert-incarnation', [UPSERT_ROW, RECORD_INCARNATION, CLEAR_INTENT, BUMP_STAMP]),
  remove: settleStatement('remove', [REMOVE_ROW, REQUEST_SHRED, CLEAR_INTENT, BUMP_STAMP]),
  'remove+incarnation': settleStatement('remove-incarnation', [REMOVE_ROW, RECORD_INCARNATION, REQUEST_SHRED, CLEAR_INTENT, BUMP_STAMP]),
}

/** Every incarnation a key has had, oldest first (empty: the key never existed). */
export const listIncarnations = async (db: Db, ref: KeyRef): Promise<string[]> => {
  const result = await db.query<{ aggregate_id: string }>(
    `SELECT aggregate_id FROM ${VAULT_SCHEMA}.incarnations WHERE organization_id = $1 AND key = $2 ORDER BY seq`,
    [ns(ref.organizationId), ref.key],
  )
  return result.rows.map((row) => row.aggregate_id)
}
