import {
  SECRET_CREATED,
  SECRET_DELETED,
  SECRET_DELETION_CANCELLED,
  SECRET_DELETION_SCHEDULED,
  SECRET_TAGGED,
  SECRET_UNTAGGED,
  SECRET_UPDATED,
  withoutTags,
  withTags,
  type StoredSecretEvent,
  type Tag,
} from '../aggregates/secret.events'

/**
 * One row per live secret: what a read needs without replaying events. It holds metadata and
 * the current value as ciphertext (with the version it is bound to); never plaintext.
 */
export type SecretRow = Readonly<{
  aggregateId: string
  organizationId: string | null
  key: string
  arn: string
  description: string | null
  tags: readonly Tag[]
  /** A scheduled delete's date (ms since the epoch): the secret reads as gone; null: none. */
  deletionDate: number | null
  /** The event version the current value is bound to (a tag change leaves it). */
  version: number
  value: string
  createdAt: number
  updatedAt: number
}>

/** Applies one event to the row of its aggregate; null means "no live row". */
export const projectSecretRow = (row: SecretRow | null, event: StoredSecretEvent): SecretRow | null => {
  switch (event.type) {
    case SECRET_CREATED:
      return {
        aggregateId: event.aggregateId,
        organizationId: event.payload.organizationId,
        key: event.payload.key,
        arn: event.payload.arn,
        description: event.payload.description ?? null,
        tags: event.payload.tags ?? [],
        deletionDate: null,
        version: event.aggregateVersion,
        value: event.payload.value,
        createdAt: event.timestamp,
        updatedAt: event.timestamp,
      }
    case SECRET_UPDATED:
      if (row === null) return null
      return {
        ...row,
        description: event.payload.description ?? row.description,
        version: event.aggregateVersion,
        value: event.payload.value,
        updatedAt: event.timestamp,
      }
    case SECRET_DELETED:
      return null
    case SECRET_DELETION_SCHEDULED:
      return row === null ? null : { ...row, deletionDate: event.payload.deletionDate, updatedAt: event.timestamp }
    case SECRET_DELETION_CANCELLED:
      return row === null ? null : { ...row, deletionDate: null, updatedAt: event.timestamp }
    case SECRET_TAGGED:
      return row === null ? null : { ...row, tags: withTags(row.tags, event.payload.tags), updatedAt: event.timestamp }
    case SECRET_UNTAGGED:
      return row === null ? null : { ...row, tags: withoutTags(row.tags, event.payload.tagKeys), updatedAt: event.timestamp }
  }
}

/** The row after all of an aggregate's events, oldest first. */
export const foldSecretRow = (events: readonly StoredSecretEvent[]): SecretRow | null =>
  events.reduce<SecretRow | null>(projectSecretRow, null)
