import { TooManyRequestsError } from '../../common/errors'

/** Counts requests per key in fixed windows; throws TooManyRequestsError past the limit. */
export type RateLimiter = Readonly<{
  take: (key: string) => void
  /** Throws like `take` once the key has used up its window, without counting this call. */
  check: (key: string) => void
}>

type Window = { count: number; resetAt: number }

/**
 * In-memory and per process: with N vault processes a key gets at most N times the limit.
 * Memory is bounded: past `maxKeys` windows, expired ones are swept and then the oldest go.
 */
export const createRateLimiter = (
  limit: number,
  windowMs: number,
  now: () => number = Date.now,
  maxKeys = 100_000,
): RateLimiter => {
  const windows = new Map<string, Window>()

  const sweep = (at: number) => {
    for (const [key, window] of windows) if (window.resetAt <= at) windows.delete(key)
    for (const key of windows.keys()) {
      if (windows.size < maxKeys) break
      windows.delete(key)
    }
  }

  const refuse = (window: Window, at: number) => new TooManyRequestsError(Math.max(1, Math.ceil((window.resetAt - at) / 1000)))

  return Object.freeze({
    take: (key: string) => {
      const at = now()
      let window = windows.get(key)
      if (window === undefined || window.resetAt <= at) {
        if (windows.size >= maxKeys) sweep(at)
        window = { count: 0, resetAt: at + windowMs }
        windows.set(key, window)
      }
      window.count++
      if (window.count > limit) throw refuse(window, at)
    },
    check: (key: string) => {
      const at = now()
      const window = windows.get(key)
      if (window !== undefined && window.resetAt > at && window.count >= limit) throw refuse(window, at)
    },
  })
}
