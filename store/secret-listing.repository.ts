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
// deleted meanwhile. A delete under way, or scheduled, reads as gone, as for a read. Ordered as
// the primary key is, so that PostgreSQL's generic plan (store/database.ts) walks the index and
// stops at the page's end: a filter it cannot estimate (`tags @>`, or `left(key, ...)` instead of
// starts_with) made it sort the whole namespace for every page, 9-17 ms a page of 10,000.
const listStatement = (name: string, tagged: boolean) => ({
  name,
  text: `SELECT s.* FROM ${VAULT_SCHEMA}.secrets s
     WHERE s.organization_id = $1 AND s.key > $2 AND starts_with(s.key, $3) AND s.deletion_date IS NULL
       ${tagged ? 'AND s.tags @> $5::jsonb' : ''}
       AND NOT EXISTS (
         SELECT 1 FROM ${VAULT_SCHEMA}.pending_operations p WHERE p.aggregate_id = s.aggregate_id AND p.operation = 'delete')
     ORDER BY s.organization_id, s.key LIMIT $4`,
})

const LIST = listStatement('vault-list-secrets', false)
// A tag filter reads every secret of the namespace that has the prefix (there is no index on tags).
const LIST_TAGGED = listStatement('vault-list-tagged-secrets', true)

/** Up to `limit` live rows of a namespace after `after`, in key order. */
export const listSecretRows = async (db: Db, filter: ListingFilter): Promise<SecretRow[]> => {
  const values: unknown[] = [filter.namespace, filter.after, filter.prefix, filter.limit]
  if (filter.tag !== null) values.push(JSON.stringify([filter.tag]))
  const result = await db.query<SecretRecord>({ ...(filter.tag === null ? LIST : LIST_TAGGED), values })
  return result.rows.map(toRow)
}
