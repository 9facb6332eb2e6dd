import pg from 'pg'
import { measureClosedLoops } from './closed-loops'
import { withScratchSchema } from './scratch-schema'
import type { Measurement } from './stats'

/** Bytes of the text column of each inserted row (about one stored secret event). */
const PAYLOAD_BYTES = 256
const WARMUP_INSERTS_PER_CLIENT = 20

/**
 * The storage ceiling: single-row INSERT commits (autocommit, the server's durability
 * settings) into a scratch table, from N clients in closed loops, each waiting for its commit
 * before sending the next, which is what N connections of load do to the vault.
 */
export const measureStorageCeiling = (
  connection: pg.ClientConfig,
  connections: readonly number[],
  seconds: number,
): Promise<Measurement[]> =>
  withScratchSchema(connection, 'bench_ceiling', async (schema, admin) => {
    const table = `${schema}.commits`
    await admin.query(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, payload text NOT NULL)`)
    const results: Measurement[] = []
    for (const clients of connections) results.push(await insertLoop(connection, table, clients, seconds))
    return results
  })

const insertLoop = async (connection: pg.ClientConfig, table: string, clients: number, seconds: number) => {
  const payload = 'x'.repeat(PAYLOAD_BYTES)
  const sql = `INSERT INTO ${table} (payload) VALUES ($1)`
  const pool = await Promise.all(
    Array.from({ length: clients }, async () => {
      const client = new pg.Client(connection)
      await client.connect()
      return client
    }),
  )
  try {
    return await measureClosedLoops(pool, seconds, WARMUP_INSERTS_PER_CLIENT, (client) => client.query(sql, [payload]))
  } finally {
    await Promise.all(pool.map((client) => client.end().catch(() => undefined)))
  }
}
