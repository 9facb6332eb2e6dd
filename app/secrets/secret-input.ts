import { camelCaseKeys } from '../../common/camel-case'
import { ValidationError } from '../../common/errors'
import { organizationScope, STANDARD, type JsonObject, type OrganizationId, type Scope, type SecretKey } from '../../common/types'

/** The contract's id rule for keys and organization ids: 1-256 of A-Z a-z 0-9 _ + = . @ -, first alphanumeric. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_+=.@-]{0,255}$/

/** A secret's JSON, after camelCase conversion, is at most this many bytes. */
export const MAX_SECRET_BYTES = 64 * 1024
export const MAX_DESCRIPTION_LENGTH = 2048

export type CreateSecretInput = Readonly<{ key: SecretKey; secret: JsonObject; description?: string }>
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
export const parseBody = (body: unknown, allowed: readonly string[]): Record<string, unknown> => {
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

export const parseCreateInput = (fields: Record<string, unknown>): CreateSecretInput =>
  withDescription({ key: parseKey(fields.key), secret: parseSecret(fields.secret) }, parseDescription(fields.description))

/** An update must carry a new secret; a description alone is refused (as in AWS Secrets Manager). */
export const parseUpdateInput = (fields: Record<string, unknown>): UpdateSecretInput => {
  if (fields.secret === undefined) throw new ValidationError('secret is required: the description cannot be updated alone')
  return withDescription({ secret: parseSecret(fields.secret) }, parseDescription(fields.description))
}
