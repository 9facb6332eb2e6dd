import type { Tag } from '../common/aggregates/secret.events'
import type { SecretRow } from '../common/read-models/secrets.projection'
import { shardOf } from './change-stamps'

/** A key in its namespace; organizationId null is the standard namespace. */
export type KeyRef = Readonly<{ organizationId: string | null; key: string }>

// '' stands for the standard namespace: organization ids are never empty, so it cannot clash.
export const ns = (organizationId: string | null): string => organizationId ?? ''
export const fromNs = (stored: string): string | null => (stored === '' ? null : stored)

/** Keys and organization ids cannot contain '/', so this names one (namespace, key) exactly. */
export const keyName = (ref: KeyRef): string => `${ns(ref.organizationId)}/${ref.key}`

/** The change-stamp shard of a key (store/change-stamps.ts). */
export const keyShard = (ref: KeyRef): number => shardOf(keyName(ref))

/** A row of vault.secrets as PostgreSQL returns it. */
export type SecretRecord = {
  aggregate_id: string
  organization_id: string
  key: string
  arn: string
  description: string | null
  /** jsonb: pg hands it back parsed. */
  tags: Tag[]
  /** bigint: as text. */
  deletion_date: string | null
  version: number
  value: string
  created_at: string
  updated_at: string
}

export const toRow = (record: SecretRecord): SecretRow => ({
  aggregateId: record.aggregate_id,
  organizationId: fromNs(record.organization_id),
  key: record.key,
  arn: record.arn,
  description: record.description,
  tags: record.tags,
  deletionDate: record.deletion_date === null ? null : Number(record.deletion_date),
  version: record.version,
  value: record.value,
  createdAt: Number(record.created_at),
  updatedAt: Number(record.updated_at),
})
