import { unwrapLegacyDataKey, wrapDataKey, wrappingKeyId } from '../../common/encryption'
import type { Logger } from '../../lib/logger'
import { withTransaction, type Pool } from '../../store/database'
import {
  KEY_SHARDS,
  keyShardOf,
  lockShardsForWrap,
  masterWrappedDataKeys,
  recordFirstGenerations,
  replaceDataKeys,
  shardGenerations,
} from '../../store/keys/shard-keys.repository'
import { readMeta, settleMeta, writeMeta } from '../../store/meta.repository'
import type { KeyHierarchy } from './key-hierarchy'
import { checkNeededKeys, ORIGINAL_KEY_META } from './key-report'

/** Processes that share a database must share its key store; this one is not it. */
export class KeyStoreMismatchError extends Error {
  constructor(where: string) {
    super(
      `the key store (${where}) is not the one this database uses: every vault process on one database must share ` +
        'one key store (VAULT_KEYSTORE_DIR on a shared directory), or use VAULT_KEYSTORE=database (a weaker promise: README)',
    )
    this.name = 'KeyStoreMismatchError'
  }
}

const KEY_SETUP_LOCK = 0x4b49
const LEGACY_META = 'legacy_wrapping_keys'

/**
 * Everything the key hierarchy needs before a process serves: the key store is the database's
 * own, every master key something needs is given, every shard has a current key, and data keys
 * of a store made before the hierarchy are re-wrapped under shard keys. Serialized across
 * processes; each step can be taken again after a crash.
 */
export const prepareKeys = async (pool: Pool, keys: KeyHierarchy, keyStoreWhere: string, log: Logger): Promise<void> => {
  const { keyStore, ring } = keys
  const client = await pool.connect()
  try {
    await client.query('SELECT pg_advisory_lock($1)', [KEY_SETUP_LOCK])
    if ((await settleMeta(client, 'keystore_id', await keyStore.identity())) !== (await keyStore.identity())) {
      throw new KeyStoreMismatchError(keyStoreWhere)
    }
    await settleMeta(client, ORIGINAL_KEY_META, ring.current.id)
    await checkNeededKeys(pool, keyStore, ring)
    const recorded = new Set((await shardGenerations(client)).filter((row) => !row.retiring).map((row) => row.shard))
    const missing = Array.from({ length: KEY_SHARDS }, (_, shard) => shard).filter((shard) => !recorded.has(shard))
    for (const shard of missing) await keys.createShardKey(shard, 1)
    await recordFirstGenerations(client, missing)
    await migrateMasterWrapped(pool, keys, log)
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [KEY_SETUP_LOCK]).catch(() => undefined)
    client.release()
  }
  await warnOfWeakerPromises(pool, keys, log)
}

/**
 * A store made before the key hierarchy wrapped data keys with the master key directly. They are
 * re-wrapped under shard keys, but PostgreSQL keeps the old copies: for those secrets a delete
 * is final only once that master key is retired (rotated away and destroyed). Which keys those
 * are is recorded, so the start can say so for as long as one of them is still given.
 */
const migrateMasterWrapped = async (pool: Pool, keys: KeyHierarchy, log: Logger): Promise<void> => {
  const legacy = await masterWrappedDataKeys(pool)
  if (legacy.length === 0) return
  const ids = new Set(((await readMeta(pool, LEGACY_META)) ?? '').split(',').filter((id) => id !== ''))
  for (const stored of legacy) ids.add(wrappingKeyId(stored.wrapped))
  await writeMeta(pool, LEGACY_META, [...ids].join(','))
  for (const stored of legacy) {
    const shard = keyShardOf(stored.aggregateId)
    await withTransaction(pool, async (client) => {
      await lockShardsForWrap(client, [shard])
      const [current] = (await shardGenerations(client)).filter((row) => row.shard === shard && !row.retiring)
      const dataKey = unwrapLegacyDataKey(keys.ring, stored.wrapped, stored.aggregateId)
      const next = await keys.withShardKey(shard, current.generation, (key) => wrapDataKey(key, dataKey, stored.aggregateId))
      dataKey.fill(0)
      await replaceDataKeys(client, [{ aggregateId: stored.aggregateId, from: stored.wrapped, to: next }])
    })
  }
  log.warn('re-wrapped data keys of a store made before the key hierarchy under shard keys', { dataKeys: legacy.length })
}

const warnOfWeakerPromises = async (pool: Pool, keys: KeyHierarchy, log: Logger) => {
  if (!keys.keyStore.erases) {
    log.warn(
      'shard keys are kept in the database (VAULT_KEYSTORE=database): a delete is final only once every master key in force then is retired',
    )
  }
  const legacy = ((await readMeta(pool, LEGACY_META)) ?? '').split(',').filter((id) => keys.ring.keys.some((key) => key.id === id))
  for (const id of legacy) {
    log.warn(
      'secrets made before the key hierarchy have old copies of their data keys wrapped by this master key in PostgreSQL files: ' +
        'their deletes are final once it is retired (rotate to a new key, POST /admin/rewrap, then destroy this one)',
      { masterKeyId: id },
    )
  }
}

