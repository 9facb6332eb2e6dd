import type { PoolClient } from 'pg'
import type { Pool } from './database'
import { keyName, type KeyRef } from './secret-records'

const lockName = (ref: KeyRef): string => `secret:${keyName(ref)}`

/**
 * Serializes writes to one key across every vault process sharing the database (a session
 * advisory lock on a dedicated connection). Waits up to the statement timeout.
 */
export const withKeyLock = async <T>(pool: Pool, ref: KeyRef, work: (client: PoolClient) => Promise<T>): Promise<T> => {
  const client = await pool.connect()
  let locked = false
  try {
    await client.query({ name: 'vault-key-lock', text: 'SELECT pg_advisory_lock(hashtextextended($1, 0))', values: [lockName(ref)] })
    locked = true
    return await work(client)
  } finally {
    await releaseLock(client, ref, locked)
  }
}

/** Like withKeyLock, but skips the key (returns null) when another process holds its lock. */
export const tryWithKeyLock = async <T>(
  pool: Pool,
  ref: KeyRef,
  work: (client: PoolClient) => Promise<T>,
): Promise<T | null> => {
  const client = await pool.connect()
  let locked = false
  try {
    const result = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
      [lockName(ref)],
    )
    locked = result.rows[0].locked
    return locked ? await work(client) : null
  } finally {
    await releaseLock(client, ref, locked)
  }
}

const releaseLock = async (client: PoolClient, ref: KeyRef, locked: boolean): Promise<void> => {
  if (!locked) return client.release()
  try {
    await client.query({ name: 'vault-key-unlock', text: 'SELECT pg_advisory_unlock(hashtextextended($1, 0))', values: [lockName(ref)] })
    client.release()
  } catch {
    // A connection we could not unlock on must not go back to the pool holding the lock.
    client.release(true)
  }
}
