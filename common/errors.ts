/**
 * Every rejection the vault makes on purpose is a VaultError: a stable reason code and a message
 * that is safe to show a client (never a value, key material or SQL). These are the domain's
 * words only; app/outcomes.ts classifies them and each door answers in its own wire shape.
 * Anything else is an internal error and is never echoed.
 */
export abstract class VaultError extends Error {
  abstract readonly code: string
  /** For a refusal that passes with time (too many requests): when to try again. */
  readonly retryAfterSeconds?: number
  constructor(message: string) {
    super(message)
    this.name = new.target.name
  }
}

export class ValidationError extends VaultError {
  readonly code = 'ValidationError'
}

export class SecretAlreadyExistsError extends VaultError {
  readonly code = 'SecretAlreadyExists'
  constructor() {
    super('Secret key already exists')
  }
}

export class UnauthenticatedError extends VaultError {
  readonly code = 'Unauthenticated'
}

export class ForbiddenError extends VaultError {
  readonly code = 'Forbidden'
}

export class SecretNotFoundError extends VaultError {
  readonly code = 'SecretNotFound'
  constructor() {
    super('Secret not found')
  }
}

export class ConflictError extends VaultError {
  readonly code = 'Conflict'
}

export class TooManyRequestsError extends VaultError {
  readonly code = 'TooManyRequests'
  constructor(override readonly retryAfterSeconds: number) {
    super('Too many requests; retry later')
  }
}

export class StoreUnavailableError extends VaultError {
  readonly code = 'StoreUnavailable'
  constructor() {
    super('The secret store is unavailable; try again shortly')
  }
}

/** A data key that is gone: the secret was deleted and its values are shredded. */
export class DataKeyMissingError extends Error {
  constructor() {
    super('Data key is missing')
    this.name = 'DataKeyMissingError'
  }
}

/** A wrapped key names a master key this process was not given (VAULT_MASTER_KEY_PREVIOUS). */
export class MasterKeyUnavailableError extends Error {
  constructor(readonly keyId: string) {
    super(`Master key ${keyId} is not configured`)
    this.name = 'MasterKeyUnavailableError'
  }
}

/**
 * A data key names a shard key the key store no longer holds: the shredder re-wrapped it under a
 * newer one and retired the old one after this process read it. Reading it again gives its new
 * wrapping (and a store whose key is really gone answers 503, never a wrong value).
 */
export class ShardKeyRetiredError extends Error {
  constructor(readonly shard: number, readonly generation: number) {
    super(`Shard key ${shard}/${generation} is not in the key store`)
    this.name = 'ShardKeyRetiredError'
  }
}
