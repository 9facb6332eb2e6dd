import { createHash } from 'node:crypto'
import type { Principal } from '../../common/types'
import { createTtlMap } from '../../lib/ttl-map'

/** How many verified tokens a process remembers; past it, the oldest are forgotten first. */
export const VERIFIED_TOKENS_BOUND = 10_000

export type VerifiedTokens = Readonly<{
  /** The principal of a token verified before and not expired now, or null. */
  get: (token: string) => Principal | null
  remember: (token: string, principal: Principal, expiresAtMs: number) => void
}>

/**
 * Verifying an HS256 token through jose costs about 60 µs (a WebCrypto HMAC on the thread pool),
 * a fifth of a read. A token is immutable and carries its grants until it expires, with no
 * revocation (README), so remembering that it verified changes nothing a caller can observe:
 * an entry is used only before the token's own expiry. SECURITY: entries are keyed by the
 * token's SHA-256, so the map holds no usable credential, and lookups do not compare tokens.
 */
export const createVerifiedTokens = (bound = VERIFIED_TOKENS_BOUND, now: () => number = Date.now): VerifiedTokens => {
  // Each entry is set to expire with its token; ttlMs is only the map's default, never used here.
  const entries = createTtlMap<string, Principal>({ max: bound, ttlMs: Number.POSITIVE_INFINITY, now })
  const idOf = (token: string) => createHash('sha256').update(token).digest('base64')

  return Object.freeze({
    get: (token: string) => entries.get(idOf(token)) ?? null,
    remember: (token: string, principal: Principal, expiresAtMs: number) => entries.setUntil(idOf(token), principal, expiresAtMs),
  })
}
