import crypto from 'node:crypto'
import { deriveKey, masterKeyFrom } from '../../common/encryption'

// Tokens that look right but must be refused: tampered, unsigned, signed with the wrong key,
// expired, for another audience, cut short.

/** A token's JSON parts, to tamper with them. */
export const decodePart = (part: string): Record<string, unknown> => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
export const encodePart = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

export const base64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url')
export const hs256 = (key: Buffer, header: object, payload: object): string => {
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`
  return `${signingInput}.${crypto.createHmac('sha256', key).update(signingInput).digest('base64url')}`
}

/** Tokens that look right but must be refused, made from the admin's, put into `tokens` by name. */
export const forgeTokens = (tokens: Record<string, string>, admin: string, masterKeyBase64: string) => {
  const [header, payload, signature] = admin.split('.')
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>
  const now = Math.floor(Date.now() / 1000)
  const signingKey = deriveKey(masterKeyFrom(Buffer.from(masterKeyBase64, 'base64')), 'token-signing')
  tokens['alg-none'] = `${base64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${payload}.`
  tokens['wrong-key'] = hs256(crypto.randomBytes(32), { alg: 'HS256', typ: 'JWT' }, claims)
  tokens.tampered = `${header}.${base64url(JSON.stringify({ ...claims, sub: 'someone-else', adm: true }))}.${signature}`
  tokens.expired = hs256(signingKey, { alg: 'HS256', typ: 'JWT' }, { ...claims, iat: now - 7200, exp: now - 3600 })
  tokens['wrong-audience'] = hs256(signingKey, { alg: 'HS256', typ: 'JWT' }, { ...claims, aud: 'event-vault:prd' })
  tokens.truncated = admin.slice(0, -6)
}
