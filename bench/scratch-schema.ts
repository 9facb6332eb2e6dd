import crypto from 'node:crypto'
import pg from 'pg'

/**
 * Runs `use` in a fresh schema of its own on the benchmarked server, dropped afterwards whatever
 * happens: the ceilings write their scratch rows there, never beside the vault's tables.
 */
export const withScratchSchema = async <T>(
  connection: pg.ClientConfig,
  prefix: string,
  use: (schema: string, admin: pg.Client) => Promise<T>,
): Promise<T> => {
  const schema = `${prefix}_${crypto.randomBytes(4).toString('hex')}`
  const admin = new pg.Client(connection)
  await admin.connect()
  try {
    await admin.query(`CREATE SCHEMA ${schema}`)
    return await use(schema, admin)
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined)
    await admin.end()
  }
}
