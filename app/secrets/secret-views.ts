import type { SecretRow } from '../../common/read-models/secrets.projection'
import { randomText } from '../../common/encryption'
import type { Tag } from '../../common/aggregates/secret.events'
import type { JsonObject } from '../../common/types'

export type NamingConfig = Readonly<{ env: string; aws: Readonly<{ region: string; accountId: string }> }>

/** What create and update answer: metadata, never the value. */
export type SecretMetadata = Readonly<{
  id: string
  description?: string
  organizationId?: string
  ern: string
  arn: string
}>

/** What a read answers: the value, camelCase. */
export type SecretView = Readonly<{
  id: string
  organizationId?: string
  ern: string
  arn: string
  secret: JsonObject
}>

/** `ern:vault:{env}:{key}` or `ern:vault:{env}:{organizationId}:{key}`. */
export const ernOf = (env: string, organizationId: string | null, key: string): string =>
  organizationId === null ? `ern:vault:${env}:${key}` : `ern:vault:${env}:${organizationId}:${key}`

const ARN_SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/**
 * The AWS Secrets Manager ARN shape, with a fresh random suffix per incarnation so a re-created
 * secret never has the ARN of the one before. Organization secrets are named `{org}/{key}`.
 */
export const newArn = (naming: NamingConfig, organizationId: string | null, key: string): string => {
  const name = organizationId === null ? key : `${organizationId}/${key}`
  const suffix = randomText(ARN_SUFFIX_ALPHABET, 6)
  return `arn:aws:secretsmanager:${naming.aws.region}:${naming.aws.accountId}:secret:${name}-${suffix}`
}

// Fields in the order the guide shows them.
export const toMetadata = (env: string, row: SecretRow): SecretMetadata => ({
  id: row.key,
  ...(row.description !== null ? { description: row.description } : {}),
  ...(row.organizationId !== null ? { organizationId: row.organizationId } : {}),
  ern: ernOf(env, row.organizationId, row.key),
  arn: row.arn,
})

export const toSecretView = (env: string, row: SecretRow, secret: JsonObject): SecretView => ({
  id: row.key,
  ...(row.organizationId !== null ? { organizationId: row.organizationId } : {}),
  ern: ernOf(env, row.organizationId, row.key),
  arn: row.arn,
  secret,
})

/** A secret as a listing (or a tag change) answers it: its metadata and tags, never its value. */
export type ListedSecret = Readonly<{
  id: string
  organizationId?: string
  description?: string
  ern: string
  arn: string
  tags: readonly Tag[]
  createdAt: string
  updatedAt: string
}>

export const toListedSecret = (env: string, row: SecretRow): ListedSecret => ({
  id: row.key,
  ...(row.organizationId !== null ? { organizationId: row.organizationId } : {}),
  ...(row.description !== null ? { description: row.description } : {}),
  ern: ernOf(env, row.organizationId, row.key),
  arn: row.arn,
  tags: row.tags,
  createdAt: new Date(row.createdAt).toISOString(),
  updatedAt: new Date(row.updatedAt).toISOString(),
})
