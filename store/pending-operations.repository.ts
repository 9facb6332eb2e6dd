import { bumpStampClause } from './change-stamps'
import { VAULT_SCHEMA, type Db } from './database'
import { fromNs, keyShard, ns, type KeyRef } from './secret-records'

export type Operation = 'create' | 'update' | 'delete'

/** A write in progress (or cut short by a crash) on one incarnation. */
export type PendingOperation = Readonly<KeyRef & { aggregateId: string; operation: Operation; actor: string }>

const INSERT_PENDING = `INSERT INTO ${VAULT_SCHEMA}.pending_operations (aggregate_id, organization_id, key, operation, actor)
     VALUES ($1, $2, $3, $4, $5)`

const RECORD_PENDING = { name: 'vault-record-pending', text: INSERT_PENDING }

// A recorded delete makes the secret read as gone on every process (findReadableSecrets), so
// it changes what a read answers: it bumps the key's change stamp in the same statement.
const RECORD_PENDING_DELETE = { name: 'vault-record-pending-delete', text: `WITH ${bumpStampClause(6)}\n${INSERT_PENDING}` }

/** Records a write's intent, before its first side effect. */
export const recordPending = async (db: Db, pending: PendingOperation): Promise<void> => {
  const values: unknown[] = [pending.aggregateId, ns(pending.organizationId), pending.key, pending.operation, pending.actor]
  if (pending.operation === 'delete') values.push(keyShard(pending))
  await db.query({ ...(pending.operation === 'delete' ? RECORD_PENDING_DELETE : RECORD_PENDING), values })
}

export type PendingRecord = { aggregate_id: string; organization_id: string; key: string; operation: Operation; actor: string }

export const toPending = (row: PendingRecord): PendingOperation => ({
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
