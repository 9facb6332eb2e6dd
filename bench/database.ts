import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { connectionFromUrl, type ConnectionSettings } from '../store/connection'
import type { Vault } from './vault'

// The embedded server: port from its postmaster.pid, password from the data directory.
const embeddedSettings = (vault: Vault): ConnectionSettings => {
  const pid = fs.readFileSync(path.join(vault.dataDir, 'postgres', 'data', 'postmaster.pid'), 'utf8').split('\n')
  const port = Number(pid[3])
  if (!Number.isInteger(port) || port <= 0) throw new Error('no port in the embedded postgres postmaster.pid')
  const password = fs.readFileSync(path.join(vault.dataDir, 'postgres.password'), 'utf8').trim()
  return { host: '127.0.0.1', port, user: 'vault', password, database: 'postgres' }
}

/** How the benchmark reaches the vault's own PostgreSQL: the DATABASE_URL it was given, or the embedded server. */
export const storeConnection = (vault: Vault): pg.ClientConfig =>
  vault.databaseUrl !== null ? { connectionString: vault.databaseUrl } : embeddedSettings(vault)

/** The same server as settings (host, port, user...), as the vault gives them to reSolve's adapter. */
export const storeSettings = (vault: Vault): ConnectionSettings =>
  vault.databaseUrl !== null ? connectionFromUrl(vault.databaseUrl) : embeddedSettings(vault)

/** What the report says about the server: version and the settings that make commits durable. */
export type ServerFacts = Readonly<{ version: string; fsync: string; synchronousCommit: string; walSyncMethod: string }>

export const serverFacts = async (connection: pg.ClientConfig): Promise<ServerFacts> => {
  const client = new pg.Client(connection)
  await client.connect()
  try {
    const setting = async (name: string) =>
      (await client.query<{ value: string }>('SELECT current_setting($1) AS value', [name])).rows[0].value
    return Object.freeze({
      version: (await client.query<{ version: string }>('SELECT version()')).rows[0].version,
      fsync: await setting('fsync'),
      synchronousCommit: await setting('synchronous_commit'),
      walSyncMethod: await setting('wal_sync_method'),
    })
  } finally {
    await client.end()
  }
}
