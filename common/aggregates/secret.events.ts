/**
 * Events of one secret incarnation. Metadata travels in clear (it is the audit trail);
 * the value only as ciphertext under the incarnation's data key.
 */
export const SECRET_CREATED = 'SecretCreated'
export const SECRET_UPDATED = 'SecretUpdated'
export const SECRET_DELETED = 'SecretDeleted'
export const SECRET_TAGGED = 'SecretTagged'
export const SECRET_UNTAGGED = 'SecretUntagged'
export const SECRET_DELETION_SCHEDULED = 'SecretDeletionScheduled'
export const SECRET_DELETION_CANCELLED = 'SecretDeletionCancelled'

export type SecretEventType =
  | typeof SECRET_CREATED
  | typeof SECRET_UPDATED
  | typeof SECRET_DELETED
  | typeof SECRET_TAGGED
  | typeof SECRET_UNTAGGED
  | typeof SECRET_DELETION_SCHEDULED
  | typeof SECRET_DELETION_CANCELLED

/** A label on a secret, in clear (it is metadata: never put a secret in a tag). */
export type Tag = Readonly<{ key: string; value: string }>

type Identity = {
  organizationId: string | null
  key: string
  actor: string
}

export type SecretCreatedPayload = Identity & {
  arn: string
  description?: string
  /** Present only when the create set tags. */
  tags?: Tag[]
  /** `seal()` output, bound to this aggregate and event version. */
  value: string
}

export type SecretUpdatedPayload = Identity & {
  /** Present only when the update changed the description. */
  description?: string
  value: string
}

export type SecretDeletedPayload = Identity

/** Tags added or given a new value; the others stay. */
export type SecretTaggedPayload = Identity & { tags: Tag[] }

/** Tags removed, by key. */
export type SecretUntaggedPayload = Identity & { tagKeys: string[] }

/** A delete promised for `deletionDate` (ms since the epoch): until then the secret can be restored. */
export type SecretDeletionScheduledPayload = Identity & { deletionDate: number }

/** A scheduled delete called off: the secret is live again. */
export type SecretDeletionCancelledPayload = Identity

export type SecretEvent =
  | { type: typeof SECRET_CREATED; payload: SecretCreatedPayload }
  | { type: typeof SECRET_UPDATED; payload: SecretUpdatedPayload }
  | { type: typeof SECRET_DELETED; payload: SecretDeletedPayload }
  | { type: typeof SECRET_TAGGED; payload: SecretTaggedPayload }
  | { type: typeof SECRET_UNTAGGED; payload: SecretUntaggedPayload }
  | { type: typeof SECRET_DELETION_SCHEDULED; payload: SecretDeletionScheduledPayload }
  | { type: typeof SECRET_DELETION_CANCELLED; payload: SecretDeletionCancelledPayload }

/** An event as the event store hands it back. */
export type StoredSecretEvent = SecretEvent & {
  aggregateId: string
  aggregateVersion: number
  timestamp: number
}

const TYPES: ReadonlySet<string> = new Set([
  SECRET_CREATED,
  SECRET_UPDATED,
  SECRET_DELETED,
  SECRET_TAGGED,
  SECRET_UNTAGGED,
  SECRET_DELETION_SCHEDULED,
  SECRET_DELETION_CANCELLED,
])

export const isSecretEvent = (event: { type: string }): event is StoredSecretEvent => TYPES.has(event.type)

/** The most tags one secret holds (as in AWS Secrets Manager). */
export const MAX_TAGS = 50

/** Tags after `added` (new keys appended, known keys given their new value), in the order first set. */
export const withTags = (tags: readonly Tag[], added: readonly Tag[]): Tag[] => {
  const merged = new Map(tags.map((tag) => [tag.key, tag.value]))
  for (const tag of added) merged.set(tag.key, tag.value)
  return [...merged].map(([key, value]) => ({ key, value }))
}

/** Tags without the keys given. */
export const withoutTags = (tags: readonly Tag[], removed: readonly string[]): Tag[] => tags.filter((tag) => !removed.includes(tag.key))
