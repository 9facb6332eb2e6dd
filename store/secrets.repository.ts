import type { PoolClient } from 'pg'
import type { SecretRow } from '../common/read-models/secrets.projection'
import { VAULT_SCHEMA, type Db, type Pool } from './database'

/** A key in its namespace; organizationId null is the standard namespace. */
export type KeyRef = Readonly<{ organizationId: string | null; key: string }>

export type Operation = 'create' | 'update' | 'delete'

/** A write in progress (or cut short by a crash) on one incarnation. */
export type PendingOperation = Readonly<KeyRef & { aggregateId: string; operation: Operation; actor: string }>

// '' stands for the standard namespace: organization ids are never empty, so it cannot clash.
const ns = (organizationId: string | null): string => organizationId ?? ''
const fromNs = (stored: string): string | null => (stored === '' ? null : stored)

// Keys and organization ids cannot contain '/', so this names one (namespace, key) exactly.
const lockName = (ref: KeyRef): string => `secret:${ns(ref.organizationId)}/${ref.key}`

/**
 * Serializes writes to one key across every vault process sharing the database (a session
 * advisory lock on a dedicated connection). Waits up to the statement timeout.
 */
export const withKeyLock = async <T>(pool: Pool, ref: KeyRef, work: (client: PoolClient) => Promise<T>): Promise<T> => {
  const client = await pool.connect()
  let locked = false
  try {
    await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [lockName(ref)])
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
    await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockName(ref)])
    client.release()
  } catch {
    // A connection we could not unlock on must not go back to the pool holding the lock.
    client.release(true)
  }
}

export const recordPending = async (db: Db, pending: PendingOperation): Promise<void> => {
  await db.query(
    `INSERT INTO ${VAULT_SCHEMA}.pending_operations (aggregate_id, organization_id, key, operation, actor)
     VALUES ($1, $2, $3, $4, $5)`,
    [pending.aggregateId, ns(pending.organizationId), pending.key, pending.operation, pending.actor],
  )
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

/** The live secret under a key, read-your-writes: rows are written before a write is answered. */
export const findSecret = async (db: Db, ref: KeyRef): Promise<SecretRow | null> => {
  const result = await db.query<SecretRecord>(
    `SELECT * FROM ${VAULT_SCHEMA}.secrets WHERE organization_id = $1 AND key = $2`,
    [ns(ref.organizationId), ref.key],
  )
  return result.rows.length === 0 ? null : toRow(result.rows[0])
}

/**
 * The secret a read may answer with: a live row whose delete is not under way. Once a delete's
 * intent is recorded the secret reads as gone on every process, even if the process doing the
 * delete dies before shredding (the repair finishes that).
 */
export const findReadableSecret = async (db: Db, ref: KeyRef): Promise<SecretRow | null> => {
  const result = await db.query<SecretRecord>(
    `SELECT s.* FROM ${VAULT_SCHEMA}.secrets s
     WHERE s.organization_id = $1 AND s.key = $2 AND NOT EXISTS (
       SELECT 1 FROM ${VAULT_SCHEMA}.pending_operations p WHERE p.aggregate_id = s.aggregate_id AND p.operation = 'delete')`,
    [ns(ref.organizationId), ref.key],
  )
  return result.rows.length === 0 ? null : toRow(result.rows[0])
}

/**
 * Makes the read model agree with an incarnation's events, and clears the intent, in one
 * transaction: `row` null removes the incarnation's live row.
 */
export const settle = async (
  client: PoolClient,
  ref: KeyRef,
  aggregateId: string,
  row: SecretRow | null,
  recordIncarnation: boolean,
): Promise<void> => {
  await client.query('BEGIN')
  try {
    if (row === null) {
      await client.query(`DELETE FROM ${VAULT_SCHEMA}.secrets WHERE aggregate_id = $1`, [aggregateId])
    } else {
      await upsertRow(client, row)
    }
    if (recordIncarnation) {
      await client.query(
        `INSERT INTO ${VAULT_SCHEMA}.incarnations (organization_id, key, aggregate_id) VALUES ($1, $2, $3)
         ON CONFLICT (aggregate_id) DO NOTHING`,
        [ns(ref.organizationId), ref.key, aggregateId],
      )
    }
    await client.query(`DELETE FROM ${VAULT_SCHEMA}.pending_operations WHERE aggregate_id = $1`, [aggregateId])
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  }
}

const upsertRow = (client: PoolClient, row: SecretRow) =>
  client.query(
    `INSERT INTO ${VAULT_SCHEMA}.secrets
       (organization_id, key, aggregate_id, arn, description, version, value, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (organization_id, key) DO UPDATE SET
       aggregate_id = EXCLUDED.aggregate_id, arn = EXCLUDED.arn, description = EXCLUDED.description,
       version = EXCLUDED.version, value = EXCLUDED.value, created_at = EXCLUDED.created_at,
       updated_at = EXCLUDED.updated_at`,
    [
      ns(row.organizationId),
      row.key,
      row.aggregateId,
      row.arn,
      row.description,
      row.version,
      row.value,
      row.createdAt,
      row.updatedAt,
    ],
  )

/** Every incarnation a key has had, oldest first (empty: the key never existed). */
export const listIncarnations = async (db: Db, ref: KeyRef): Promise<string[]> => {
  const result = await db.query<{ aggregate_id: string }>(
    `SELECT aggregate_id FROM ${VAULT_SCHEMA}.incarnations WHERE organization_id = $1 AND key = $2 ORDER BY seq`,
    [ns(ref.organizationId), ref.key],
  )
  return result.rows.map((row) => row.aggregate_id)
}
