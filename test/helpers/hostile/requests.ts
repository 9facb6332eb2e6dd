import type { RawRequest } from '../raw-socket'
import type { Auth, Spec } from './spec'

// A generated request as it goes out on a raw socket, its credentials filled in.

/** The Authorization header `auth` stands for, made from `tokens` (filled in once the vault runs). */
export const authHeader = (auth: Auth, tokens: Readonly<Record<string, string>>): string | undefined => {
  if (typeof auth === 'object') return auth.header
  switch (auth) {
    case 'none':
      return undefined
    case 'admin':
      return `Bearer ${tokens.admin}`
    case 'admin-lowercase-scheme':
      return `bearer ${tokens.admin}`
    case 'admin-double-space':
      return `Bearer  ${tokens.admin}`
    case 'admin-no-scheme':
      return tokens.admin
    case 'admin-token-scheme':
      return `Token ${tokens.admin}`
    case 'admin-basic-scheme':
      return `Basic ${tokens.admin}`
    case 'admin-twice':
      return `Bearer ${tokens.admin} Bearer ${tokens.admin}`
    default:
      return `Bearer ${tokens[auth]}`
  }
}

/** The raw request a spec stands for. */
export const rawRequestOf = (spec: Spec, tokens: Readonly<Record<string, string>>): RawRequest => {
  const authorization = authHeader(spec.auth, tokens)
  return {
    method: spec.method,
    target: spec.target,
    headers: spec.headers,
    ...(spec.version === undefined ? {} : { version: spec.version }),
    ...(spec.noHost === undefined ? {} : { noHost: spec.noHost }),
    ...(authorization === undefined ? {} : { authorization }),
    ...(spec.contentType === undefined ? {} : { contentType: spec.contentType }),
    ...(spec.contentEncoding === undefined ? {} : { contentEncoding: spec.contentEncoding }),
    ...(spec.body === undefined ? {} : { body: spec.body.bytes }),
    ...(spec.chunkSize === undefined ? {} : { chunkSize: spec.chunkSize }),
  }
}
