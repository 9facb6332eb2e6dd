import { VAULT_SCHEMA, type Db } from './database'
import { fromNs, type KeyRef } from './secret-records'

/** Secrets whose scheduled delete is due at `now` (ms), oldest first, at most `limit`. */
export const dueDeletions = async (db: Db, now: number, limit: number): Promise<KeyRef[]> => {
  const result = await db.query<{ organization_id: string; key: string }>(
    `SELECT organization_id, key FROM ${VAULT_SCHEMA}.secrets
     WHERE deletion_date IS NOT NULL AND deletion_date <= $1 ORDER BY deletion_date LIMIT $2`,
    [now, limit],
  )
  return result.rows.map((row) => ({ organizationId: fromNs(row.organization_id), key: row.key }))
}
