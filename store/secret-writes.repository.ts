import type { PoolClient } from 'pg'
import type { SecretRow } from '../common/read-models/secrets.projection'
import { bumpStampClause } from './change-stamps'
import { VAULT_SCHEMA, type Db } from './database'
import { keyShardOf } from './keys/shard-keys.repository'
import { toPending, type PendingOperation, type PendingRecord } from './pending-operations.repository'
import { DATA_KEYS } from './resolve/tables'
import { keyShard, ns, toRow, type KeyRef, type SecretRecord } from './secret-records'

// The write side of the read model: what a write of a key starts from, and the one statement
// that ends it. Both run under the key's lock (store/key-locks.ts), through store/key-writes.ts.

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
    values.push(ns(row.organizationId), row.key, row.arn, row.description, row.version, row.value, row.createdAt, row.updatedAt, JSON.stringify(row.tags), row.deletionDate)
  }
  await client.query({ ...statement, values })
}

// $1 aggregate id, $2 namespace and $3 key (of the intent), $4 its change-stamp shard, $5.. the row.
const UPSERT_ROW = `upserted AS (
  INSERT INTO ${VAULT_SCHEMA}.secrets
    (organization_id, key, aggregate_id, arn, description, version, value, created_at, updated_at, tags, deletion_date)
  VALUES ($5, $6, $1, $7, $8, $9, $10, $11, $12, $13::jsonb, $14::bigint)
  ON CONFLICT (organization_id, key) DO UPDATE SET
    aggregate_id = EXCLUDED.aggregate_id, arn = EXCLUDED.arn, description = EXCLUDED.description,
    version = EXCLUDED.version, value = EXCLUDED.value, created_at = EXCLUDED.created_at,
    updated_at = EXCLUDED.updated_at, tags = EXCLUDED.tags, deletion_date = EXCLUDED.deletion_date)`
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
