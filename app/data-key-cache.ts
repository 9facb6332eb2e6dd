import { cipherFor, cipherFromWrapped, unwrapDataKey, type MasterKey, type SecretCipher } from '../common/encryption'

/** How many unwrapped data keys a process keeps by default (VAULT_DATA_KEY_CACHE_SIZE). */
export const DATA_KEY_CACHE_SIZE = 10_000

/** The longest an unwrapped data key stays in memory after it was unwrapped. */
export const DATA_KEY_TTL_MS = 60_000

const SWEEP_EVERY_MS = 5_000

export type DataKeyCache = Readonly<{
  /**
   * The cipher of an aggregate, from its wrapped data key exactly as the store answered it just
   * now (null: shredded). The store's answer decides; the cache only saves unwrapping it again.
   */
  cipherOf: (aggregateId: string, wrapped: string | null) => SecretCipher
  /** Drops an aggregate's key at once, its bytes overwritten: for a key this process shredded. */
  forget: (aggregateId: string) => void
  /** Stops the timer that drops expired keys, and drops every key. */
  close: () => void
}>

type Entry = { wrapped: string; key: Buffer; cipher: SecretCipher; expiresAtMs: number }

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
export const createDataKeyCache = (master: MasterKey, size = DATA_KEY_CACHE_SIZE, now: () => number = Date.now): DataKeyCache => {
  const entries = new Map<string, Entry>()

  const drop = (aggregateId: string, entry: Entry) => {
    entries.delete(aggregateId)
    entry.key.fill(0)
  }

  const forget = (aggregateId: string) => {
    const entry = entries.get(aggregateId)
    if (entry !== undefined) drop(aggregateId, entry)
  }

  // Entries are in order of expiry (insertion order, one TTL for all): expired ones are at the front.
  const sweep = (at: number) => {
    for (const [aggregateId, entry] of entries) {
      if (entry.expiresAtMs > at) break
      drop(aggregateId, entry)
    }
  }
  // Without reads nothing would sweep; this keeps "at most DATA_KEY_TTL_MS in memory" true when idle.
  const sweeper = size === 0 ? null : setInterval(() => sweep(now()), SWEEP_EVERY_MS)
  sweeper?.unref()

  const cipherOf = (aggregateId: string, wrapped: string | null): SecretCipher => {
    if (wrapped === null) {
      forget(aggregateId)
      return cipherFromWrapped(master, null, aggregateId)
    }
    if (size === 0) return cipherFromWrapped(master, wrapped, aggregateId)
    const at = now()
    sweep(at)
    const entry = entries.get(aggregateId)
    if (entry !== undefined) {
      if (entry.wrapped === wrapped && entry.expiresAtMs > at) return entry.cipher
      drop(aggregateId, entry)
    }
    const key = unwrapDataKey(master, wrapped, aggregateId)
    // Past the bound, the oldest unwraps go first.
    for (const [oldestId, oldest] of entries) {
      if (entries.size < size) break
      drop(oldestId, oldest)
    }
    const cipher = cipherFor(key, aggregateId)
    entries.set(aggregateId, { wrapped, key, cipher, expiresAtMs: at + DATA_KEY_TTL_MS })
    return cipher
  }

  const close = () => {
    if (sweeper !== null) clearInterval(sweeper)
    for (const [aggregateId, entry] of entries) drop(aggregateId, entry)
  }

  return Object.freeze({ cipherOf, forget, close })
}
