import type { SecretRow } from '../common/read-models/secrets.projection'
import { VAULT_SCHEMA, type Db } from './database'
import { toRow, type SecretRecord } from './secret-records'

export type ListingFilter = Readonly<{
  /** '' for the standard namespace (store/secret-records.ts). */
  namespace: string
  prefix: string
  /** A tag the secrets must carry, or null. */
  tag: Readonly<{ key: string; value: string }> | null
  /** Keys after this one (in the index's order); '' from the start. */
  after: string
  limit: number
}>

// Keyset paging on the primary key's order: a page starts after the last key of the one before,
// so a secret live through the whole listing is answered exactly once, whatever is created or
// deleted meanwhile. A delete under way, or scheduled, reads as gone, as for a read.
const LIST = {
  name: 'vault-list-secrets',
  text: `SELECT s.* FROM ${VAULT_SCHEMA}.secrets s
     WHERE s.organization_id = $1 AND s.key > $2 AND left(s.key, length($3)) = $3
       AND ($4::jsonb IS NULL OR s.tags @> $4::jsonb) AND s.deletion_date IS NULL
       AND NOT EXISTS (
         SELECT 1 FROM ${VAULT_SCHEMA}.pending_operations p WHERE p.aggregate_id = s.aggregate_id AND p.operation = 'delete')
     ORDER BY s.key LIMIT $5`,
}

/** Up to `limit` live rows of a namespace after `after`, in key order. */
export const listSecretRows = async (db: Db, filter: ListingFilter): Promise<SecretRow[]> => {
  const tag = filter.tag === null ? null : JSON.stringify([filter.tag])
  const result = await db.query<SecretRecord>({ ...LIST, values: [filter.namespace, filter.after, filter.prefix, tag, filter.limit] })
  return result.rows.map(toRow)
}
