import type { Tag } from '../../common/aggregates/secret.events'
import { MAX_TAGS } from '../../common/aggregates/secret.events'
import { camelCaseKeys } from '../../common/camel-case'
import { ValidationError } from '../../common/errors'
import { organizationScope, STANDARD, type JsonObject, type OrganizationId, type Scope, type SecretKey } from '../../common/types'

/** The contract's id rule for keys and organization ids: 1-256 of A-Z a-z 0-9 _ + = . @ -, first alphanumeric. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_+=.@-]{0,255}$/

/** A secret's JSON, after camelCase conversion, is at most this many bytes. */
export const MAX_SECRET_BYTES = 64 * 1024
export const MAX_DESCRIPTION_LENGTH = 2048

export type CreateSecretInput = Readonly<{ key: SecretKey; secret: JsonObject; description?: string; tags?: Tag[] }>
export type UpdateSecretInput = Readonly<{ secret: JsonObject; description?: string }>

// Messages name the field but never echo what was sent: it may be a secret.
export const parseKey = (value: unknown, field = 'key'): SecretKey => {
  if (value === undefined) throw new ValidationError(`${field} is required`)
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw new ValidationError(`${field} must be 1-256 characters of A-Z a-z 0-9 _ + = . @ -, starting with a letter or digit`)
  }
  return value as SecretKey
}

export const parseOrganizationId = (value: unknown): OrganizationId =>
  parseKey(value, 'organizationId') as string as OrganizationId

/** The namespace a REST path names: standard without an organization id, else that organization's. */
export const parseScope = (organizationId: unknown): Scope =>
  organizationId === undefined ? STANDARD : organizationScope(parseOrganizationId(organizationId))

/** A JSON object: not null, not an array. */
export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** A request body must be a JSON object holding only the allowed fields. */
export const parseBody = (body: unknown, allowed: readonly string[]): Readonly<Record<string, unknown>> => {
  if (!isPlainObject(body)) throw new ValidationError('The request body must be a JSON object')
  const unknown = Object.keys(body).filter((field) => !allowed.includes(field))
  if (unknown.length > 0) throw new ValidationError(`Unknown field: ${unknown[0].slice(0, 64)}`)
  return body
}

/** `secret` must be a JSON object; its attribute names become camelCase at every depth. */
export const parseSecret = (value: unknown): JsonObject => {
  if (value === undefined) throw new ValidationError('secret is required')
  if (!isPlainObject(value)) throw new ValidationError('secret must be a JSON object')
  const secret = camelCaseKeys(value as JsonObject)
  if (Buffer.byteLength(JSON.stringify(secret), 'utf8') > MAX_SECRET_BYTES) {
    throw new ValidationError(`secret must be at most ${MAX_SECRET_BYTES} bytes of JSON`)
  }
  return secret
}

/**
 * Text that is stored in clear (descriptions, names) must be storable as PostgreSQL text and
 * JSON: no NUL character and no lone surrogate. Refused here, before anything is written.
 */
export const isStorableText = (value: string): boolean => !value.includes('\u0000') && !UNPAIRED_SURROGATE.test(value)

const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

export const parseDescription = (value: unknown): string | undefined => {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length > MAX_DESCRIPTION_LENGTH || !isStorableText(value)) {
    throw new ValidationError(
      `description must be a string of at most ${MAX_DESCRIPTION_LENGTH} characters, without NUL or unpaired surrogates`,
    )
  }
  return value
}

const withDescription = <T extends object>(input: T, description: string | undefined) =>
  description === undefined ? input : { ...input, description }

export const parseCreateInput = (fields: Readonly<Record<string, unknown>>): CreateSecretInput => {
  const input = withDescription({ key: parseKey(fields.key), secret: parseSecret(fields.secret) }, parseDescription(fields.description))
  return fields.tags === undefined ? input : { ...input, tags: parseTags(fields.tags) }
}

/** An update must carry a new secret; a description alone is refused (as in AWS Secrets Manager). */
export const parseUpdateInput = (fields: Readonly<Record<string, unknown>>): UpdateSecretInput => {
  if (fields.secret === undefined) throw new ValidationError('secret is required: the description cannot be updated alone')
  return withDescription({ secret: parseSecret(fields.secret) }, parseDescription(fields.description))
}

const MAX_TAG_KEY = 128
const MAX_TAG_VALUE = 256

const parseTagKey = (value: unknown): string => {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TAG_KEY || !isStorableText(value) || /^aws:/i.test(value)) {
    throw new ValidationError(`a tag key must be a string of 1-${MAX_TAG_KEY} characters, not starting with "aws:", without NUL or unpaired surrogates`)
  }
  return value
}

const uniqueList = <T>(value: unknown, name: string, parse: (item: unknown) => T, keyOf: (item: T) => string): T[] => {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_TAGS) throw new ValidationError(`${name} must be an array of 1-${MAX_TAGS} items`)
  const items = value.map(parse)
  if (new Set(items.map(keyOf)).size !== items.length) throw new ValidationError(`${name} must not name a tag key twice`)
  return items
}

/**
 * `tags`: `[{ "key": ..., "value": ... }]`, 1-50 of them, each key once. Tags are metadata in
 * clear (README): they are listed and filtered on, never sealed.
 */
export const parseTags = (value: unknown): Tag[] =>
  uniqueList(value, 'tags', (item) => {
    if (!isPlainObject(item)) throw new ValidationError('each tag must be an object { key, value }')
    const { key, value: tagValue, ...rest } = item
    if (Object.keys(rest).length > 0) throw new ValidationError('a tag has only a key and a value')
    if (typeof tagValue !== 'string' || tagValue.length > MAX_TAG_VALUE || !isStorableText(tagValue)) {
      throw new ValidationError(`a tag value must be a string of at most ${MAX_TAG_VALUE} characters, without NUL or unpaired surrogates`)
    }
    return { key: parseTagKey(key), value: tagValue }
  }, (tag) => tag.key)

/** `tagKeys`: the keys of the tags to remove, 1-50 of them. */
export const parseTagKeys = (value: unknown): string[] => uniqueList(value, 'tagKeys', parseTagKey, (key) => key)

/** The most secrets a page of a listing holds (and the default). */
export const MAX_PAGE = 100

export type ListInput = Readonly<{ prefix: string; tag: Tag | null; limit: number; nextToken: string | null }>

const optionalText = (value: unknown, name: string, max: number): string | null => {
  if (value === undefined) return null
  if (typeof value !== 'string' || value.length > max || !isStorableText(value)) throw new ValidationError(`${name} must be at most ${max} characters`)
  return value
}

/** A listing's query: `prefix` (of the key), `tag` as `key:value`, `limit` 1-100, the opaque `nextToken`. */
export const parseListInput = (fields: Readonly<Record<string, unknown>>): ListInput => {
  const prefix = optionalText(fields.prefix, 'prefix', 256) ?? ''
  const tagText = optionalText(fields.tag, 'tag', MAX_TAG_KEY + 1 + MAX_TAG_VALUE)
  let tag: Tag | null = null
  if (tagText !== null) {
    const colon = tagText.indexOf(':')
    if (colon <= 0) throw new ValidationError('tag must be key:value')
    tag = { key: parseTagKey(tagText.slice(0, colon)), value: tagText.slice(colon + 1) }
  }
  const limitText = optionalText(fields.limit, 'limit', 3)
  const limit = limitText === null ? MAX_PAGE : Number(limitText)
  if (!/^\d{1,3}$/.test(limitText ?? '100') || limit < 1 || limit > MAX_PAGE) throw new ValidationError(`limit must be a whole number from 1 to ${MAX_PAGE}`)
  const nextToken = optionalText(fields.nextToken, 'nextToken', 2048)
  if (nextToken === '') throw new ValidationError('nextToken must not be empty')
  return { prefix, tag, limit, nextToken }
}

/** `recoveryWindowInDays`: 7-30 whole days, 30 when absent (as AWS Secrets Manager's default). */
export const parseRecoveryDays = (value: unknown): number => {
  if (value === undefined) return 30
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 7 || value > 30) {
    throw new ValidationError('recoveryWindowInDays must be a whole number from 7 to 30')
  }
  return value
}
