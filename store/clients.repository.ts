import { VAULT_SCHEMA, type Db } from './database'

/** A client as stored: its secret only sealed. */
export type ClientRecord = Readonly<{
  clientId: string
  name: string
  sealedSecret: string
  admin: boolean
  secrets: boolean
  organizations: readonly string[]
}>

type Row = { client_id: string; name: string; sealed_secret: string; admin: boolean; secrets: boolean; organizations: string[] }

const toRecord = (row: Row): ClientRecord => ({
  clientId: row.client_id,
  name: row.name,
  sealedSecret: row.sealed_secret,
  admin: row.admin,
  secrets: row.secrets,
  organizations: row.organizations,
})

export const findClient = async (db: Db, clientId: string): Promise<ClientRecord | null> => {
  const result = await db.query<Row>(`SELECT * FROM ${VAULT_SCHEMA}.clients WHERE client_id = $1`, [clientId])
  return result.rows.length === 0 ? null : toRecord(result.rows[0])
}

export const insertClient = async (db: Db, client: ClientRecord): Promise<void> => {
  await db.query(
    `INSERT INTO ${VAULT_SCHEMA}.clients (client_id, name, sealed_secret, admin, secrets, organizations)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [client.clientId, client.name, client.sealedSecret, client.admin, client.secrets, [...client.organizations]],
  )
}

/** Registers the bootstrap admin, or makes the existing one an admin with the configured secret. */
export const upsertAdminClient = async (db: Db, client: ClientRecord): Promise<void> => {
  await db.query(
    `INSERT INTO ${VAULT_SCHEMA}.clients (client_id, name, sealed_secret, admin, secrets, organizations)
     VALUES ($1, $2, $3, true, true, '{}')
     ON CONFLICT (client_id) DO UPDATE SET sealed_secret = EXCLUDED.sealed_secret, admin = true`,
    [client.clientId, client.name, client.sealedSecret],
  )
}

export const hasAdminClient = async (db: Db): Promise<boolean> => {
  const result = await db.query(`SELECT 1 FROM ${VAULT_SCHEMA}.clients WHERE admin LIMIT 1`)
  return result.rows.length > 0
}

/** Client secrets not sealed under the given master key (a rewrap's work). */
export const secretsNotSealedBy = async (db: Db, masterKeyId: string): Promise<Array<{ clientId: string; sealedSecret: string }>> => {
  const result = await db.query<{ client_id: string; sealed_secret: string }>(
    `SELECT client_id, sealed_secret FROM ${VAULT_SCHEMA}.clients WHERE sealed_secret NOT LIKE $1`,
    [`${masterKeyId}:%`],
  )
  return result.rows.map((row) => ({ clientId: row.client_id, sealedSecret: row.sealed_secret }))
}

/** Replaces a sealed secret if it is still what was read (a concurrent change wins). */
export const replaceSealedSecret = async (db: Db, clientId: string, from: string, to: string): Promise<boolean> => {
  const result = await db.query(`UPDATE ${VAULT_SCHEMA}.clients SET sealed_secret = $3 WHERE client_id = $1 AND sealed_secret = $2`, [
    clientId,
    from,
    to,
  ])
  return (result.rowCount ?? 0) > 0
}

/** How many client secrets each master key seals ('' for those sealed before keys were named). */
export const sealedSecretsByKey = async (db: Db): Promise<Map<string, number>> => {
  const result = await db.query<{ key_id: string; n: string }>(
    `SELECT CASE WHEN position(':' IN sealed_secret) > 0 THEN split_part(sealed_secret, ':', 1) ELSE '' END AS key_id, count(*)::text AS n
     FROM ${VAULT_SCHEMA}.clients GROUP BY 1`,
  )
  return new Map(result.rows.map((row) => [row.key_id, Number(row.n)]))
}
