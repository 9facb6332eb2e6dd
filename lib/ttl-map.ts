import { LRUCache } from 'lru-cache'

/** How an entry left the map: pushed out past `max`, its time was up, deleted or cleared, or another value was set under its key. */
export type EvictReason = 'bound' | 'expired' | 'deleted' | 'replaced'

export type TtlMapOptions<K, V> = Readonly<{
  /** The most entries held (a whole number); past it the oldest set goes first. 0 holds nothing. */
  max: number
  /** How long an entry lives, in ms, when `set` is not told otherwise. */
  ttlMs: number
  /** The clock, in ms (Date.now by default): tests pass their own and need not wait. */
  now?: () => number
  /**
   * Runs at once for each value that leaves the map, however it leaves: pushed out, expired
   * (when looked up or purged), deleted, cleared, or replaced by `set`. It must not use the map.
   */
  onEvict?: (value: V, key: K, reason: EvictReason) => void
}>

export type TtlMap<K, V> = Readonly<{
  /** The value under `key` if it has not expired (an expired one goes now). Neither renews nor refreshes it. */
  get: (key: K) => V | undefined
  /**
   * Sets `value` under `key` as the newest entry, for `ttlMs` (the map's own by default). A ttl of
   * 0 or less keeps nothing: an entry under `key` is deleted, and onEvict gets `value` at once.
   */
  set: (key: K, value: V, ttlMs?: number) => void
  /** Like `set`, to expire at `expiresAtMs` on the map's clock. */
  setUntil: (key: K, value: V, expiresAtMs: number) => void
  delete: (key: K) => boolean
  clear: () => void
  /** Drops every expired entry now; otherwise one goes when it is looked up or pushed out. */
  purgeExpired: () => void
  /** Entries held, expired ones included until they are looked up or purged. */
  size: () => number
}>

const REASONS: Readonly<Record<LRUCache.DisposeReason, EvictReason>> = {
  evict: 'bound',
  expire: 'expired',
  delete: 'deleted',
  set: 'replaced',
  fetch: 'replaced', // fetch() is not used here
}

/**
 * A bounded map whose entries expire, over lru-cache. Oldest out first: `get` does not make an
 * entry newer (lru-cache's `peek`), so with one ttl for all, the bound pushes out the entry that
 * would have expired next. An entry is gone once its age reaches its ttl. Nothing runs on a
 * timer: an expired entry stays held, unreadable, until it is looked up, purged or pushed out.
 */
export const createTtlMap = <K extends {}, V extends {}>({ max, ttlMs, now = Date.now, onEvict }: TtlMapOptions<K, V>): TtlMap<K, V> => {
  if (!Number.isInteger(max) || max < 0) throw new RangeError('max must be a whole number')
  if (!(ttlMs > 0)) throw new RangeError('ttlMs must be positive')

  // lru-cache takes a start time of 0 for "no ttl". The clock it reads is ours moved to read 2^32
  // at the map's creation, so only a clock gone back some 50 days could stamp an entry 0.
  const origin = now()
  const clock = (at: number) => at - origin + 2 ** 32
  const cache = new LRUCache<K, V>({
    max: Math.max(1, max),
    // Read the clock at each look-up; by default lru-cache reuses a reading until a (real) timer clears it.
    ttlResolution: 0,
    perf: { now: () => clock(now()) },
    dispose: onEvict && ((value, key, reason) => onEvict(value, key, REASONS[reason])),
  })

  // lru-cache counts an entry stale once its age is *more* than its ttl. Stamped 1 ms early with
  // its ttl rounded up, an entry goes once its age reaches its ttl: exactly so for a clock in whole
  // ms (Date.now), and otherwise at most 1 ms early, never late.
  const put = (key: K, value: V, at: number, ttl: number) => {
    if (max === 0 || !(ttl > 0)) {
      cache.delete(key)
      onEvict?.(value, key, max === 0 ? 'bound' : 'expired')
      return
    }
    cache.set(key, value, { ttl: Math.ceil(ttl), start: clock(at) - 1 })
  }

  return Object.freeze({
    get: (key: K) => {
      const value = cache.peek(key)
      // peek leaves an expired entry in place; get drops it, telling onEvict it expired.
      if (value === undefined) cache.get(key)
      return value
    },
    set: (key: K, value: V, ttl = ttlMs) => put(key, value, now(), ttl),
    setUntil: (key: K, value: V, expiresAtMs: number) => {
      const at = now()
      put(key, value, at, expiresAtMs - at)
    },
    delete: (key: K) => cache.delete(key),
    clear: () => cache.clear(),
    purgeExpired: () => void cache.purgeStale(),
    size: () => cache.size,
  })
}
