/**
 * Events of one secret incarnation. Metadata travels in clear (it is the audit trail);
 * the value only as ciphertext under the incarnation's data key.
 */
export const SECRET_CREATED = 'SecretCreated'
export const SECRET_UPDATED = 'SecretUpdated'
export const SECRET_DELETED = 'SecretDeleted'

export type SecretEventType = typeof SECRET_CREATED | typeof SECRET_UPDATED | typeof SECRET_DELETED

type Identity = {
  organizationId: string | null
  key: string
  actor: string
}

export type SecretCreatedPayload = Identity & {
  arn: string
  description?: string
  /** `seal()` output, bound to this aggregate and event version. */
  value: string
}

export type SecretUpdatedPayload = Identity & {
  /** Present only when the update changed the description. */
  description?: string
  value: string
}

export type SecretDeletedPayload = Identity

export type SecretEvent =
  | { type: typeof SECRET_CREATED; payload: SecretCreatedPayload }
  | { type: typeof SECRET_UPDATED; payload: SecretUpdatedPayload }
  | { type: typeof SECRET_DELETED; payload: SecretDeletedPayload }

/** An event as the event store hands it back. */
export type StoredSecretEvent = SecretEvent & {
  aggregateId: string
  aggregateVersion: number
  timestamp: number
}

export const isSecretEvent = (event: { type: string }): event is StoredSecretEvent =>
  event.type === SECRET_CREATED || event.type === SECRET_UPDATED || event.type === SECRET_DELETED
