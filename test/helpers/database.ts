import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { connectionFromUrl, type ConnectionSettings } from '../../store/connection'
import type { VaultSetup } from './vault-process'

/**
 * Where a vault's database is, as the product's own modules want it. Embedded: only while the
 * vault runs, its port is in postmaster.pid.
 */
export const storeConnection = (setup: VaultSetup): ConnectionSettings => {
  if (setup.backend === 'server') return connectionFromUrl(setup.env.DATABASE_URL)
  const pid = fs.readFileSync(path.join(setup.dataDir, 'postgres', 'data', 'postmaster.pid'), 'utf8').split('\n')
  return {
    host: '127.0.0.1',
    port: Number(pid[3]),
    user: 'vault',
    password: fs.readFileSync(path.join(setup.dataDir, 'postgres.password'), 'utf8').trim(),
    database: 'postgres',
  }
}

/**
 * A direct connection to a vault's database, to check what is stored (at rest) the way an
 * attacker with a copy of the database would. Embedded: the port comes from postmaster.pid.
 */
export const connectToStore = async (setup: VaultSetup): Promise<pg.Client> => {
  const client = new pg.Client({ ...storeConnection(setup) })
  await client.connect()
  return client
}

/** Every row of every table of the vault's schemas, as text: a dump of what is at rest. */
export const dumpStore = async (client: pg.Client): Promise<string> => {
  const tables = await client.query<{ schema: string; name: string }>(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
     WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'`,
  )
  const parts: string[] = []
  for (const { schema, name } of tables.rows) {
    const rows = await client.query(`SELECT * FROM ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}`)
    parts.push(`${schema}.${name}: ${JSON.stringify(rows.rows)}`)
  }
  return parts.join('\n')
}

/** Every file under a directory, read as bytes (for searching plaintext at rest). */
export const readAllFiles = (dir: string): Array<{ file: string; content: Buffer }> => {
  const out: Array<{ file: string; content: Buffer }> = []
  const walk = (current: string) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.isFile()) out.push({ file: full, content: fs.readFileSync(full) })
    }
  }
  walk(dir)
  return out
}
