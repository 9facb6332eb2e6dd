import { VAULT_SCHEMA, type Db } from './database'

/** Records a setting of the store if it has none yet, and answers the one in force. */
export const settleMeta = async (db: Db, name: string, value: string): Promise<string> => {
  await db.query(`INSERT INTO ${VAULT_SCHEMA}.meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [name, value])
  return (await readMeta(db, name)) as string
}

export const readMeta = async (db: Db, name: string): Promise<string | null> => {
  const result = await db.query<{ value: string }>(`SELECT value FROM ${VAULT_SCHEMA}.meta WHERE name = $1`, [name])
  return result.rows[0]?.value ?? null
}

export const writeMeta = async (db: Db, name: string, value: string): Promise<void> => {
  await db.query(`INSERT INTO ${VAULT_SCHEMA}.meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`, [
    name,
    value,
  ])
}
