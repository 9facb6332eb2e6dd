import crypto from 'node:crypto'
import type { KeyHierarchy } from '../app/keys/key-hierarchy'
import { generateKey, wrapDataKey } from '../common/encryption'
import { VAULT_SCHEMA, type Pool } from '../store/database'
import { DATA_KEYS as RESOLVE_DATA_KEYS } from '../store/resolve/tables'
import { keyShardOf, shardGenerations } from '../store/keys/shard-keys.repository'

// reSolve's data-key table (store/resolve/tables.ts): `id` and `secret` are its columns.
const DATA_KEYS = RESOLVE_DATA_KEYS.table
const BATCH = 5_000

/** Data keys as they were made, by aggregate id: a sample to check that reads still open them. */
export type Sample = Map<string, Buffer>

const currentGenerations = async (pool: Pool): Promise<Map<number, number>> =>
  new Map((await shardGenerations(pool)).filter((row) => !row.retiring).map((row) => [row.shard, row.generation]))

/**
 * Inserts `count` rows into reSolve's secrets table, each a fresh data key wrapped under its
 * shard's current key with the vault's own `wrapDataKey` (what `keys.newDataKey` does, without
 * its per-key wrap lock: nothing else writes here). Every `sampleEvery`-th key is kept in
 * `sample`. Answers the aggregate ids, in batches of 5,000 rows per INSERT.
 */
export const insertDataKeys = async (
  pool: Pool,
  keys: KeyHierarchy,
  count: number,
  sample: Sample | null = null,
  sampleEvery = 100,
): Promise<string[]> => {
  const current = await currentGenerations(pool)
  const ids: string[] = []
  for (let start = 0; start < count; start += BATCH) {
    const batch: string[] = []
    const wrapped: string[] = []
    for (let n = start; n < Math.min(count, start + BATCH); n++) {
      const aggregateId = crypto.randomUUID()
      const shard = keyShardOf(aggregateId)
      const dataKey = generateKey()
      wrapped.push(await keys.withShardKey(shard, current.get(shard) as number, (key) => wrapDataKey(key, dataKey, aggregateId)))
      batch.push(aggregateId)
      if (sample !== null && n % sampleEvery === 0) sample.set(aggregateId, dataKey)
      else dataKey.fill(0)
    }
    await pool.query(`INSERT INTO ${DATA_KEYS} (id, secret) SELECT * FROM unnest($1::text[], $2::text[])`, [batch, wrapped])
    ids.push(...batch)
  }
  return ids
}

/**
 * `count` deleted secrets as a delete leaves them: a data key stored, then set to NULL as
 * reSolve's deleteSecret does (its old bytes stay in PostgreSQL's files, which is why the shard
 * key must go), and a shred request for its shard, asked an hour ago so that it is due.
 * Answers the shards the deletions touched.
 */
export const insertDeletions = async (pool: Pool, keys: KeyHierarchy, count: number): Promise<number> => {
  const ids = await insertDataKeys(pool, keys, count)
  for (let start = 0; start < ids.length; start += BATCH) {
    const batch = ids.slice(start, start + BATCH)
    await pool.query(`UPDATE ${DATA_KEYS} SET secret = NULL WHERE id = ANY($1::text[]) AND secret IS NOT NULL`, [batch])
    await pool.query(
      `INSERT INTO ${VAULT_SCHEMA}.shred_requests (shard, requested_at)
       SELECT s, now() - interval '1 hour' FROM unnest($1::integer[]) AS s`,
      [batch.map(keyShardOf)],
    )
  }
  return new Set(ids.map(keyShardOf)).size
}

/** The store at rest before a timed step: dead rows vacuumed, statistics fresh, dirty pages written. */
export const settleStore = async (pool: Pool): Promise<void> => {
  await pool.query(`VACUUM ANALYZE ${DATA_KEYS}`)
  await pool.query(`VACUUM ANALYZE ${VAULT_SCHEMA}.shred_requests`)
  await pool.query('CHECKPOINT')
}

/** Every stored data key at once, as one digest: a rewrap must leave it as it was. */
export const dataKeysDigest = async (pool: Pool): Promise<string> => {
  const result = await pool.query<{ n: string; digest: string }>(
    `SELECT count(*)::text AS n, md5(string_agg(coalesce(secret, '-'), ',' ORDER BY id)) AS digest FROM ${DATA_KEYS}`,
  )
  return `${result.rows[0].n}:${result.rows[0].digest}`
}

export type StoreCheck = Readonly<{ live: number; deleted: number; stale: number; pendingShreds: number; retiring: number; slots: number }>

/**
 * What a finished pass must leave: no request pending, no key retiring, one key per shard in the
 * key store, every live data key under its shard's current key, and the sample still opening to
 * the data keys it was made with.
 */
export const checkStore = async (pool: Pool, keys: KeyHierarchy, sample: Sample): Promise<StoreCheck> => {
  const counts = (
    await pool.query<{ live: string; deleted: string; stale: string }>(
      `SELECT count(*) FILTER (WHERE k.secret IS NOT NULL)::text AS live,
              count(*) FILTER (WHERE k.secret IS NULL)::text AS deleted,
              count(*) FILTER (WHERE k.secret IS NOT NULL AND g.generation IS NULL)::text AS stale
       FROM ${DATA_KEYS} AS k
       LEFT JOIN ${VAULT_SCHEMA}.shard_keys AS g
         ON NOT g.retiring AND k.secret LIKE 'sk1:%'
        AND g.shard = split_part(k.secret, ':', 2)::integer AND g.generation = split_part(k.secret, ':', 3)::integer`,
    )
  ).rows[0]
  const pending = Number((await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${VAULT_SCHEMA}.shred_requests`)).rows[0].n)
  const retiring = (await shardGenerations(pool)).filter((row) => row.retiring).length
  const slots = (await keys.keyStore.list()).length
  const stored = await pool.query<{ id: string; secret: string }>(`SELECT id, secret FROM ${DATA_KEYS} WHERE id = ANY($1::text[])`, [
    [...sample.keys()],
  ])
  for (const row of stored.rows) {
    const opened = await keys.unwrapDataKey(row.secret, row.id)
    if (!opened.equals(sample.get(row.id) as Buffer)) throw new Error(`data key of ${row.id} does not open to the key it was made with`)
  }
  if (stored.rows.length !== sample.size) throw new Error(`${sample.size - stored.rows.length} sampled data keys are missing`)
  return { live: Number(counts.live), deleted: Number(counts.deleted), stale: Number(counts.stale), pendingShreds: pending, retiring, slots }
}
