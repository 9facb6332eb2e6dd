import { macMatches, macOf } from '../../common/encryption'
import { ValidationError } from '../../common/errors'

/** What a listing is of: its namespace ('' standard), prefix and tag filter. */
export type ListingQuery = Readonly<{ namespace: string; prefix: string; tag: string | null }>

const INVALID = 'nextToken is not valid for this listing'

/**
 * The opaque `nextToken` of a listing: the last key answered, bound to the listing it belongs to
 * and sealed with an HMAC under a key derived from the master key, so that every vault process
 * accepts every other's tokens. A token that was altered, or that belongs to another namespace,
 * prefix or tag filter, is refused (400). It holds nothing the caller could not see: a key it
 * was shown, and the query it sent.
 */
export const createListTokens = (key: Buffer) => {
  const encode = (query: ListingQuery, after: string): string => {
    const body = Buffer.from(JSON.stringify([1, query.namespace, query.prefix, query.tag, after]), 'utf8').toString('base64url')
    return `${body}.${macOf(key, body)}`
  }

  /** The key after which the next page starts; throws ValidationError for a token not of this listing. */
  const decode = (query: ListingQuery, token: string): string => {
    const [body, mac, extra] = token.split('.')
    if (body === undefined || mac === undefined || extra !== undefined || !macMatches(key, body, mac)) throw new ValidationError(INVALID)
    const fields = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown
    if (!Array.isArray(fields) || fields.length !== 5 || fields[0] !== 1) throw new ValidationError(INVALID)
    const [, namespace, prefix, tag, after] = fields as [number, unknown, unknown, unknown, unknown]
    if (namespace !== query.namespace || prefix !== query.prefix || tag !== query.tag || typeof after !== 'string') throw new ValidationError(INVALID)
    return after
  }

  return Object.freeze({ encode, decode })
}

export type ListTokens = ReturnType<typeof createListTokens>
