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
