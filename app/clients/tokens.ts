import { randomUUID, webcrypto } from 'node:crypto'
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose'
import { deriveKey, type MasterKeyRing } from '../../common/encryption'
import { UnauthenticatedError } from '../../common/errors'
import type { ClientId, OrganizationId, Principal } from '../../common/types'
import { createVerifiedTokens } from './verified-tokens'

export type AccessToken = Readonly<{ access_token: string; token_type: 'Bearer'; expires_in: number }>

export type Tokens = Readonly<{
  issue: (principal: Principal) => Promise<AccessToken>
  verify: (token: string) => Promise<Principal>
}>

type Claims = { adm?: unknown; sec?: unknown; org?: unknown }

/**
 * Bearer tokens are HS256 JWTs (jose) carrying the client's grants, signed with a key derived
 * from the current master key, so every vault process sharing the store accepts every other's
 * tokens. The header's `kid` names that master key: after a rotation, a token signed under a
 * previous key is accepted while that key is still in the ring (VAULT_MASTER_KEY_PREVIOUS) and
 * refused once it is dropped. A token without `kid` (issued before keys were named) is checked
 * with the current key.
 */
export const createTokens = (ring: MasterKeyRing, env: string, ttlSeconds: number): Tokens => {
  // Imported once as WebCrypto keys: given bytes (or a secret KeyObject, which jose exports back
  // to bytes), jose 6 runs crypto.subtle.importKey on every sign and every verify.
  const keys = new Map(
    ring.keys.map((master) => [
      master.id,
      webcrypto.subtle.importKey('raw', deriveKey(master, 'token-signing'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']),
    ]),
  )
  const signingKey = keys.get(ring.current.id) as Promise<webcrypto.CryptoKey>
  const keyFor = async (header: { kid?: string }) => {
    const key = keys.get(header.kid ?? ring.current.id)
    if (key === undefined) throw new UnauthenticatedError('The access token is not valid')
    return key
  }
  const verified = createVerifiedTokens()
  const issuer = 'event-vault'
  const audience = `event-vault:${env}`

  const issue = async (principal: Principal): Promise<AccessToken> => {
    const token = await new SignJWT({ adm: principal.admin, sec: principal.secrets, org: [...principal.organizations] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: ring.current.id })
      .setSubject(principal.clientId)
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .setJti(randomUUID())
      .sign(await signingKey)
    return { access_token: token, token_type: 'Bearer', expires_in: ttlSeconds }
  }

  const verify = async (token: string): Promise<Principal> => {
    const known = verified.get(token)
    if (known !== null) return known
    let payload: Claims & { sub?: string; exp?: number }
    try {
      ;({ payload } = await jwtVerify<Claims>(token, keyFor, { issuer, audience, algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] }))
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new UnauthenticatedError('The access token has expired')
      throw new UnauthenticatedError('The access token is not valid')
    }
    const { sub, adm, sec, org } = payload
    if (typeof sub !== 'string' || typeof adm !== 'boolean' || typeof sec !== 'boolean' || !Array.isArray(org)) {
      throw new UnauthenticatedError('The access token is not valid')
    }
    const principal: Principal = Object.freeze({
      clientId: sub as ClientId,
      admin: adm,
      secrets: sec,
      organizations: Object.freeze(org.filter((id): id is OrganizationId => typeof id === 'string')),
    })
    // jose refused a token without `exp` or past it: remembered until that moment, not after.
    if (typeof payload.exp === 'number') verified.remember(token, principal, payload.exp * 1000)
    return principal
  }

  return Object.freeze({ issue, verify })
}
