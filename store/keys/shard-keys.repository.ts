import type { PoolClient } from 'pg'
import { fnv1a } from '../../lib/fnv'
import { VAULT_SCHEMA, withTransaction, type Db, type Pool } from '../database'
import { DATA_KEYS } from '../resolve/tables'

/**
 * How many shard keys a store has. A delete costs its shard a re-key: every live data key of the
 * shard re-wrapped (live secrets / 256 of them), so more shards make a shred cheaper and the
 * key store larger. Fixed for a store's life: a data key's shard is computed, never stored.
 */
export const KEY_SHARDS = 256

/** The shard of an aggregate's data key. */
export const keyShardOf = (aggregateId: string): number => fnv1a(aggregateId) % KEY_SHARDS

// Advisory-lock classes (the two-integer form, apart from the key locks' one-bigint form):
// WRAP is held shared while a data key is wrapped under a shard's current key and stored, and
// exclusively while the shredder switches the shard to a new key; SHRED makes one process at a
// time re-key (or rewrap) a shard.
const WRAP_LOCK = 0x4b57
const SHRED_LOCK = 0x4b53

const SHARD_KEYS = `${VAULT_SCHEMA}.shard_keys`
const SHRED_REQUESTS = `${VAULT_SCHEMA}.shred_requests`

export type ShardGeneration = Readonly<{ shard: number; generation: number; retiring: boolean; covers: string }>

export const shardGenerations = async (db: Db): Promise<ShardGeneration[]> => {
  const result = await db.query<{ shard: number; generation: number; retiring: boolean; covers: string }>(
    `SELECT shard, generation, retiring, covers::text FROM ${SHARD_KEYS} ORDER BY shard, generation`,
  )
  return result.rows
}

/** Records generation 1 of the shards that have none (first start); the key store already holds them. */
export const recordFirstGenerations = async (db: Db, shards: readonly number[]): Promise<void> => {
  await db.query(
    `INSERT INTO ${SHARD_KEYS} (shard, generation) SELECT s, 1 FROM unnest($1::integer[]) AS s ON CONFLICT DO NOTHING`,
    [shards],
  )
}

/**
 * Takes the shard's wrap lock (shared) on `client` and answers its current generation. Two
 * statements: under READ COMMITTED each takes its snapshot when it starts, so the generation is
 * read only once the lock is held, after any switch that held it exclusively has committed.
 */
export const lockCurrentGeneration = async (client: PoolClient, shard: number): Promise<number> => {
  const result = (await client.query(
    `SELECT pg_advisory_lock_shared(${WRAP_LOCK}, ${shard | 0});
     SELECT generation FROM ${SHARD_KEYS} WHERE shard = ${shard | 0} AND NOT retiring`,
  )) as unknown as Array<{ rows: Array<{ generation: number }> }>
  const row = result[1].rows[0]
  if (row === undefined) {
    await unlockGeneration(client, shard)
    throw new Error(`Shard ${shard} has no current key`)
  }
  return row.generation
}

export const unlockGeneration = async (client: PoolClient, shard: number): Promise<void> => {
  await client.query({ name: 'vault-wrap-unlock', text: `SELECT pg_advisory_unlock_shared(${WRAP_LOCK}, $1)`, values: [shard] })
}

/** A shard's current generation, held (shared) until `release`: the shard cannot switch keys meanwhile. */
export type ShardKeyLock = Readonly<{ generation: number; release: () => Promise<void> }>

/** Where a data key's wrap takes its shard lock: the connection of a write that holds its key's lock. */
export type ShardKeyLocks = Readonly<{ lockShardKey: (shard: number) => Promise<ShardKeyLock> }>

/** The shard wrap locks on one connection (a session lock: it must be released on the same one). */
export const shardKeyLocksOn = (client: PoolClient): ShardKeyLocks =>
  Object.freeze({
    lockShardKey: async (shard: number) => {
      const generation = await lockCurrentGeneration(client, shard)
      return Object.freeze({ generation, release: () => unlockGeneration(client, shard) })
    },
  })

/**
 * Makes `generation` the shard's current key and marks the old one retiring, once no data key is
 * being wrapped under the old one (the exclusive wrap lock). The new generation covers every
 * shred request committed by now: those deletes nulled their data keys before, so the re-wrap
 * that follows cannot copy them under the new key.
 */
export const switchGeneration = (pool: Pool, shard: number, generation: number): Promise<void> =>
  withTransaction(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(${WRAP_LOCK}, $1)`, [shard])
    await client.query(`UPDATE ${SHARD_KEYS} SET retiring = true WHERE shard = $1 AND NOT retiring`, [shard])
    await client.query(
      `INSERT INTO ${SHARD_KEYS} (shard, generation, covers)
       VALUES ($1, $2, COALESCE((SELECT max(id) FROM ${SHRED_REQUESTS} WHERE shard = $1), 0))`,
      [shard, generation],
    )
  })

/** Shards to re-key: a delete asked at least `delayMs` ago, or a re-key a crash cut short. */
export const dueShards = async (db: Db, delayMs: number): Promise<number[]> => {
  const result = await db.query<{ shard: number }>(
    `SELECT shard FROM ${SHRED_REQUESTS} GROUP BY shard HAVING min(requested_at) <= now() - $1 * interval '1 millisecond'
     UNION SELECT shard FROM ${SHARD_KEYS} WHERE retiring`,
    [delayMs],
  )
  return result.rows.map((row) => row.shard)
}

/** Shred requests not yet done: how many, and the oldest's age (for GET /admin/keys). */
export const pendingShreds = async (db: Db): Promise<{ shards: number; oldestMs: number }> => {
  const result = await db.query<{ shards: string; oldest_ms: string | null }>(
    `SELECT count(DISTINCT shard)::text AS shards, (extract(epoch FROM now() - min(requested_at)) * 1000)::bigint::text AS oldest_ms
     FROM ${SHRED_REQUESTS}`,
  )
  return { shards: Number(result.rows[0].shards), oldestMs: Number(result.rows[0].oldest_ms ?? 0) }
}

/** Takes the shards' shred locks that no other process holds; answers those taken. */
export const tryLockShards = async (client: PoolClient, shards: readonly number[]): Promise<number[]> => {
  const result = await client.query<{ shard: number; locked: boolean }>(
    `SELECT s AS shard, pg_try_advisory_lock(${SHRED_LOCK}, s) AS locked FROM unnest($1::integer[]) AS s`,
    [shards],
  )
  return result.rows.filter((row) => row.locked).map((row) => row.shard)
}

/** Waits for a shard's shred lock (a rewrap must not copy a key the shredder is retiring). */
export const lockShard = async (client: PoolClient, shard: number): Promise<void> => {
  await client.query(`SELECT pg_advisory_lock(${SHRED_LOCK}, $1)`, [shard])
}

export const unlockShards = async (client: PoolClient, shards: readonly number[]): Promise<void> => {
  await client.query(`SELECT pg_advisory_unlock(${SHRED_LOCK}, s) FROM unnest($1::integer[]) AS s`, [shards])
}

export type StoredDataKey = Readonly<{ aggregateId: string; wrapped: string }>

/** The live data keys wrapped under any key of these shards, read from reSolve's secrets table. */
export const dataKeysOfShards = async (db: Db, shards: readonly number[]): Promise<StoredDataKey[]> => {
  const result = await db.query<{ id: string; secret: string }>(
    `SELECT ${DATA_KEYS.id} AS id, ${DATA_KEYS.wrapped} AS secret FROM ${DATA_KEYS.table}
     WHERE ${DATA_KEYS.wrapped} LIKE 'sk1:%' AND split_part(${DATA_KEYS.wrapped}, ':', 2)::integer = ANY($1::integer[])`,
    [shards],
  )
  return result.rows.map((row) => ({ aggregateId: row.id, wrapped: row.secret }))
}

/** Data keys still wrapped by a master key directly (stores made before the key hierarchy). */
export const masterWrappedDataKeys = async (db: Db): Promise<StoredDataKey[]> => {
  const result = await db.query<{ id: string; secret: string }>(
    `SELECT ${DATA_KEYS.id} AS id, ${DATA_KEYS.wrapped} AS secret FROM ${DATA_KEYS.table}
     WHERE ${DATA_KEYS.wrapped} IS NOT NULL AND ${DATA_KEYS.wrapped} NOT LIKE 'sk1:%'`,
  )
  return result.rows.map((row) => ({ aggregateId: row.id, wrapped: row.secret }))
}

export type Rewrapped = Readonly<{ aggregateId: string; from: string; to: string }>

/** Replaces wrapped data keys that are still what was read (a concurrent delete wins); answers how many. */
export const replaceDataKeys = async (db: Db, changes: readonly Rewrapped[]): Promise<number> => {
  if (changes.length === 0) return 0
  const result = await db.query(
    `UPDATE ${DATA_KEYS.table} AS k SET ${DATA_KEYS.wrapped} = u.next
     FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, previous, next)
     WHERE k.${DATA_KEYS.id} = u.id AND k.${DATA_KEYS.wrapped} = u.previous`,
    [changes.map((c) => c.aggregateId), changes.map((c) => c.from), changes.map((c) => c.to)],
  )
  return result.rowCount ?? 0
}

/** After the retiring keys of a shard are destroyed: forget them and the requests the switch covered. */
export const finishShard = async (db: Db, shard: number): Promise<void> => {
  await db.query(
    `WITH covered AS (SELECT covers FROM ${SHARD_KEYS} WHERE shard = $1 AND NOT retiring),
     forgotten AS (DELETE FROM ${SHARD_KEYS} WHERE shard = $1 AND retiring)
     DELETE FROM ${SHRED_REQUESTS} WHERE shard = $1 AND id <= (SELECT covers FROM covered)`,
    [shard],
  )
}

/** Shard-key lock around a migration's re-wrap: shared, in the caller's transaction. */
export const lockShardsForWrap = async (client: PoolClient, shards: readonly number[]): Promise<void> => {
  await client.query(`SELECT pg_advisory_xact_lock_shared(${WRAP_LOCK}, s) FROM unnest($1::integer[]) AS s`, [shards])
}
