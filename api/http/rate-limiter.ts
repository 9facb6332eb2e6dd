import { TooManyRequestsError } from '../../common/errors'
import { createTtlMap } from '../../lib/ttl-map'

/** Counts requests per key in fixed windows; throws TooManyRequestsError past the limit. */
export type RateLimiter = Readonly<{
  take: (key: string) => void
  /** Throws like `take` once the key has used up its window, without counting this call. */
  check: (key: string) => void
}>

type Window = { count: number; resetAt: number }

/**
 * In-memory and per process: with N vault processes a key gets at most N times the limit.
 * Memory is bounded: past `maxKeys` windows the oldest go, ended ones first (all are one length).
 */
export const createRateLimiter = (
  limit: number,
  windowMs: number,
  now: () => number = Date.now,
  maxKeys = 100_000,
): RateLimiter => {
  // A window leaves the map as it ends: a key's next request opens a new one.
  const windows = createTtlMap<string, Window>({ max: maxKeys, ttlMs: windowMs, now })

  const refuse = (window: Window, at: number) => new TooManyRequestsError(Math.max(1, Math.ceil((window.resetAt - at) / 1000)))

  return Object.freeze({
    take: (key: string) => {
      const at = now()
      let window = windows.get(key)
      if (window === undefined) {
        window = { count: 0, resetAt: at + windowMs }
        windows.setUntil(key, window, window.resetAt)
      }
      window.count++
      if (window.count > limit) throw refuse(window, at)
    },
    check: (key: string) => {
      const at = now()
      const window = windows.get(key)
      if (window !== undefined && window.count >= limit) throw refuse(window, at)
    },
  })
}
