import { createHash } from 'node:crypto'
import type { Principal } from '../../common/types'

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
  const entries = new Map<string, { principal: Principal; expiresAtMs: number }>()
  const idOf = (token: string) => createHash('sha256').update(token).digest('base64')

  return Object.freeze({
    get: (token: string) => {
      const id = idOf(token)
      const entry = entries.get(id)
      if (entry === undefined) return null
      if (entry.expiresAtMs > now()) return entry.principal
      entries.delete(id)
      return null
    },
    remember: (token: string, principal: Principal, expiresAtMs: number) => {
      // Map keeps insertion order: the first key is the oldest entry.
      while (entries.size >= bound) entries.delete(entries.keys().next().value as string)
      entries.set(idOf(token), { principal, expiresAtMs })
    },
  })
}
