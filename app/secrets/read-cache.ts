import type { BatchRun } from '../../lib/batcher'
import { createTtlMap } from '../../lib/ttl-map'
import { currentStamps } from '../../store/change-stamps'
import type { Db } from '../../store/database'
import { findReadableSecrets, keyName, type KeyRef, type ReadableSecret, type StampedSecret } from '../../store/secrets.repository'

/** How many secrets a process remembers for reads by default (VAULT_READ_CACHE_SIZE). */
export const READ_CACHE_SIZE = 10_000

/** The longest a remembered secret stays in memory after it was read from PostgreSQL. */
export const READ_CACHE_TTL_MS = 60_000

const SWEEP_EVERY_MS = 5_000

/** What the cache asks PostgreSQL (store/secrets.repository.ts, store/change-stamps.ts). */
export type ReadSource = Readonly<{
  /** Each key's readable secret (null: none) with its shard's change stamp, in one statement. */
  find: (refs: readonly KeyRef[]) => Promise<ReadonlyArray<StampedSecret | null>>
  /** The current change stamp of each shard asked. */
  stamps: (shards: readonly number[]) => Promise<ReadonlyMap<number, string>>
  /** The name a key is remembered under (one per namespace and key). */
  nameOf: (ref: KeyRef) => string
}>

export type ReadCache = Readonly<{
  /** Reads a batch of keys (lib/batcher.ts): the answers PostgreSQL would give right now. */
  read: BatchRun<KeyRef, ReadableSecret | null>
  /** Drops what is remembered of a key, so its next read asks PostgreSQL in full. */
  forget: (ref: KeyRef) => void
  /** Stops the timer that drops expired secrets, and drops every one. */
  close: () => void
}>

/**
 * A read costs one statement that joins three tables and returns each secret's ciphertext and
 * wrapped data key; asking PostgreSQL only whether the keys' change stamps moved costs less
 * (BENCHMARKS.md, "Fifth round"). This remembers up to `size` secrets as a read found them, with
 * their shards' stamps, and answers a batch whose every key it remembers with one stamp query:
 * a key whose stamp is unchanged is answered as remembered, the others are read afresh.
 *
 * It cannot make a read stale on any process: each batch still asks PostgreSQL, after its
 * readers asked, and a write that changes a read's answer bumps its key's stamp in its own
 * transaction before it is acknowledged (store/change-stamps.ts), so an unchanged stamp means
 * no such write committed since the secret was read. Only secrets found are remembered; a key
 * that is absent is always asked for again.
 *
 * SECURITY: it holds what the database holds (ciphertexts and wrapped data keys), never a
 * plaintext. Its trade-off is the data-key cache's: a secret shredded by *another* process
 * stays in this one's memory, wrapped, until a read sees its stamp move, it expires
 * (READ_CACHE_TTL_MS, swept every 5 s), or newer ones push it out; a memory dump taken then holds
 * the master key too and could open it. Size 0 turns the cache off.
 */
export const createReadCache = (source: ReadSource, size = READ_CACHE_SIZE, now: () => number = Date.now): ReadCache => {
  const entries = createTtlMap<string, StampedSecret>({ max: size, ttlMs: READ_CACHE_TTL_MS, now })
  const sweeper = size === 0 ? null : setInterval(entries.purgeExpired, SWEEP_EVERY_MS)
  sweeper?.unref()

  // The map reads the clock as it sets, after the query. Past the bound, the oldest reads go first.
  const remember = (names: readonly string[], found: ReadonlyArray<StampedSecret | null>) =>
    found.forEach((secret, i) => (secret === null ? entries.delete(names[i]) : entries.set(names[i], secret)))

  const findAndRemember = async (refs: readonly KeyRef[], names: readonly string[]) => {
    const found = await source.find(refs)
    remember(names, found)
    return found
  }

  const read: ReadCache['read'] = async (refs) => {
    if (size === 0) return source.find(refs)
    const names = refs.map(source.nameOf)
    const known = names.map((name) => entries.get(name))
    // One key not remembered: the batch is read in full, one statement as before the cache.
    if (known.some((secret) => secret === undefined)) return findAndRemember(refs, names)
    const remembered = known as StampedSecret[]
    const stamps = await source.stamps([...new Set(remembered.map((secret) => secret.shard))])
    const answers: Array<ReadableSecret | null> = [...remembered]
    const moved = remembered.flatMap((secret, i) => (stamps.get(secret.shard) === secret.stamp ? [] : [i]))
    if (moved.length === 0) return answers
    const fresh = await findAndRemember(moved.map((i) => refs[i]), moved.map((i) => names[i]))
    moved.forEach((i, j) => (answers[i] = fresh[j]))
    return answers
  }

  const close = () => {
    if (sweeper !== null) clearInterval(sweeper)
    entries.clear()
  }

  return Object.freeze({ read, forget: (ref: KeyRef) => void entries.delete(source.nameOf(ref)), close })
}

/** The source over the vault's pool: the read statement and the stamp query. */
export const poolReadSource = (db: Db): ReadSource =>
  Object.freeze({
    find: (refs: readonly KeyRef[]) => findReadableSecrets(db, refs),
    stamps: (shards: readonly number[]) => currentStamps(db, shards),
    nameOf: keyName,
  })
