import { fnv1a } from '../lib/fnv'
import { VAULT_SCHEMA, type Db } from './database'

/**
 * Change stamps: a counter per shard of the key space, bumped in the same transaction as every
 * write that changes what a read of a key in that shard answers (a settled row, a delete's
 * intent). A process that remembers a secret as one statement found it, together with its
 * shard's stamp from that same statement, knows the secret is still exactly that if a later
 * statement finds the same stamp: no such write can have committed in between. Asking for a
 * few stamps costs about half the read statement's round trip (app/secrets/read-cache.ts, BENCHMARKS.md "Fifth
 * round"), and it is still one question to PostgreSQL per batch, so every process sees every
 * acknowledged write of every other at once.
 *
 * DESIGN: sharded rather than one counter, so that concurrent writes of different keys rarely
 * wait on each other's commit for the counter's row lock. A shard without a row has stamp 0;
 * a row is made by its first bump. Stamps only grow; they are never reset or deleted.
 */
export const STAMP_SHARDS = 1024

export const CHANGE_STAMPS_TABLE = `${VAULT_SCHEMA}.change_stamps`

/**
 * The shard of a key, named `{namespace}/{key}`: FNV-1a, so every process (and every version)
 * agrees on it without asking the database. Two keys in one shard only invalidate each other.
 */
export const shardOf = (name: string): number => fnv1a(name) % STAMP_SHARDS

/** A WITH clause that bumps the stamp of the shard in parameter `$n` (an integer). */
export const bumpStampClause = (n: number): string => `stamped AS (
  INSERT INTO ${CHANGE_STAMPS_TABLE} AS c (shard, n) VALUES ($${n}::integer, 1)
  ON CONFLICT (shard) DO UPDATE SET n = c.n + 1)`

// `= ANY` on the primary key, not a join with unnest: PostgreSQL's generic plan for the join
// hashed the whole table on every call (0.2 ms a round trip against 0.12-0.15 ms).
const CURRENT_STAMPS = {
  name: 'vault-change-stamps',
  text: `SELECT shard, n::text AS stamp FROM ${CHANGE_STAMPS_TABLE} WHERE shard = ANY($1::integer[])`,
}

/** The current stamp of each shard asked (as text: stamps are bigints); 0 for a shard never written. */
export const currentStamps = async (db: Db, shards: readonly number[]): Promise<Map<number, string>> => {
  const stamps = new Map<number, string>(shards.map((shard) => [shard, '0']))
  if (shards.length === 0) return stamps
  const result = await db.query<{ shard: number; stamp: string }>({ ...CURRENT_STAMPS, values: [shards] })
  for (const row of result.rows) stamps.set(row.shard, row.stamp)
  return stamps
}
