import { cipherFor, shreddedCipher, type SecretCipher } from '../../common/encryption'
import { createTtlMap } from '../../lib/ttl-map'

/** How many unwrapped data keys a process keeps by default (VAULT_DATA_KEY_CACHE_SIZE). */
export const DATA_KEY_CACHE_SIZE = 10_000

/**
 * The longest an unwrapped data key stays in memory after it was unwrapped (shorter when the
 * shred horizon is: a deleted secret's key must not outlive the horizon in any process).
 */
export const DATA_KEY_TTL_MS = 60_000

const SWEEP_EVERY_MS = 5_000

export type DataKeyCache = Readonly<{
  /**
   * Runs `use` with the cipher of an aggregate, from its wrapped data key exactly as the store
   * answered it just now (null: shredded). The store's answer decides; the cache only saves
   * unwrapping it again. `use` runs at once and must not keep the cipher: its key may be zeroed.
   */
  withCipher: <T>(aggregateId: string, wrapped: string | null, use: (cipher: SecretCipher) => T) => Promise<T>
  /** Drops an aggregate's key at once, its bytes overwritten: for a key this process shredded. */
  forget: (aggregateId: string) => void
  /** Stops the timer that drops expired keys, and drops every key. */
  close: () => void
}>

type Entry = { wrapped: string; key: Buffer; cipher: SecretCipher }

/**
 * Unwrapping a data key is one AES-GCM open per read, about 8% of a read's CPU (BENCHMARKS.md,
 * "Third round"). This keeps up to `size` unwrapped keys, each for at most DATA_KEY_TTL_MS.
 *
 * It cannot make a read wrong on any process: a read still asks PostgreSQL for the live row and
 * its wrapped key in the same query, and uses a cached key only when the wrapped key stored now
 * is the one it was unwrapped from. A shredded key (null), a re-created secret (a new aggregate
 * id) and a re-wrapped or altered key (other text) all miss.
 *
 * SECURITY: the trade-off is memory, not correctness. The process holds the master key, which
 * opens every live data key anyway; what the cache adds is that a key shredded by another
 * process stays in this one's memory until it expires (DATA_KEY_TTL_MS, swept every 5 s) or is
 * pushed out by newer ones: a memory dump taken then, together with an old copy of the
 * database, could open that secret's values. Keys this process shreds, and keys a read finds
 * shredded, are forgotten at once, their bytes overwritten. Size 0 turns the cache off.
 */
/** Unwraps a data key (through its shard key: app/keys/key-hierarchy.ts). */
export type UnwrapDataKey = (wrapped: string, aggregateId: string) => Promise<Buffer>

export const createDataKeyCache = (
  unwrap: UnwrapDataKey,
  size = DATA_KEY_CACHE_SIZE,
  now: () => number = Date.now,
  ttlMs = DATA_KEY_TTL_MS,
): DataKeyCache => {
  // However a key leaves (pushed out, expired, forgotten, replaced, closed), its bytes are overwritten.
  const entries = createTtlMap<string, Entry>({ max: size, ttlMs, now, onEvict: (entry) => entry.key.fill(0) })
  const forget = (aggregateId: string) => void entries.delete(aggregateId)

  // Without reads nothing would sweep; this keeps "at most DATA_KEY_TTL_MS in memory" true when idle.
  const sweeper = size === 0 ? null : setInterval(entries.purgeExpired, SWEEP_EVERY_MS)
  sweeper?.unref()

  // Synchronous from here to `use`: no other call can drop (and zero) the key while it is used.
  const useEntry = <T>(entry: Entry, use: (cipher: SecretCipher) => T): T => use(entry.cipher)

  const withCipher = async <T>(aggregateId: string, wrapped: string | null, use: (cipher: SecretCipher) => T): Promise<T> => {
    if (wrapped === null) {
      forget(aggregateId)
      return use(shreddedCipher)
    }
    if (size === 0) return use(cipherFor(await unwrap(wrapped, aggregateId), aggregateId))
    const cached = entries.get(aggregateId)
    if (cached?.wrapped === wrapped) return useEntry(cached, use)
    const key = await unwrap(wrapped, aggregateId)
    const raced = entries.get(aggregateId)
    // Another read unwrapped the same key meanwhile: keep its entry, forget this copy.
    if (raced?.wrapped === wrapped) {
      key.fill(0)
      return useEntry(raced, use)
    }
    // Replaces (and zeroes) an entry for other wrapped text; past the bound, the oldest unwraps go first.
    const entry = { wrapped, key, cipher: cipherFor(key, aggregateId) }
    entries.set(aggregateId, entry)
    return useEntry(entry, use)
  }

  const close = () => {
    if (sweeper !== null) clearInterval(sweeper)
    entries.clear()
  }

  return Object.freeze({ withCipher, forget, close })
}
