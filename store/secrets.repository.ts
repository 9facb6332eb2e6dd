import type { SecretRow } from '../common/read-models/secrets.projection'
import { VAULT_SCHEMA, type Db } from './database'
import { CHANGE_STAMPS_TABLE } from './change-stamps'
import { DATA_KEYS } from './resolve/tables'
import { keyShard, ns, toRow, type KeyRef, type SecretRecord } from './secret-records'

// The read side of vault.secrets. Writes go through store/key-writes.ts (locks, intents, settle).
export { keyName, keyShard, type KeyRef } from './secret-records'
// Tests stage a crash's state with the intent a write records first.
export { recordPending, type Operation, type PendingOperation } from './pending-operations.repository'

/** A live secret as a read needs it: its row and its wrapped data key (null once shredded). */
export type ReadableSecret = Readonly<{ row: SecretRow; wrappedDataKey: string | null }>

/** A readable secret with its key's shard and that shard's change stamp, from the same statement. */
export type StampedSecret = ReadableSecret & Readonly<{ shard: number; stamp: string }>

// Prepared (named) once per connection: the hottest statement of the vault skips parsing and
// planning (the pool forces a generic plan: store/database.ts). It answers many keys at once
// (reads are batched, app/secrets/secrets.service.ts): $1 and $2 are the keys' namespaces and names,
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

/** Every incarnation a key has had, oldest first (empty: the key never existed). */
export const listIncarnations = async (db: Db, ref: KeyRef): Promise<string[]> => {
  const result = await db.query<{ aggregate_id: string }>(
    `SELECT aggregate_id FROM ${VAULT_SCHEMA}.incarnations WHERE organization_id = $1 AND key = $2 ORDER BY seq`,
    [ns(ref.organizationId), ref.key],
  )
  return result.rows.map((row) => row.aggregate_id)
}
