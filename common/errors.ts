/**
 * Every rejection the vault makes on purpose is a VaultError: an HTTP status, a stable reason
 * code and a message that is safe to show a client (never a value, key material or SQL).
 * Anything else that reaches the error handler is an internal error and is not echoed.
 */
export abstract class VaultError extends Error {
  abstract readonly status: number
  abstract readonly code: string
  /** For a refusal that passes with time (429): when to try again, sent as Retry-After. */
  readonly retryAfterSeconds?: number
  constructor(message: string) {
    super(message)
    this.name = new.target.name
  }
}

export class ValidationError extends VaultError {
  readonly status = 400
  readonly code = 'ValidationError'
}

export class SecretAlreadyExistsError extends VaultError {
  readonly status = 400
  readonly code = 'SecretAlreadyExists'
  constructor() {
    super('Secret key already exists')
  }
}

export class UnauthenticatedError extends VaultError {
  readonly status = 401
  readonly code = 'Unauthenticated'
}

export class ForbiddenError extends VaultError {
  readonly status = 403
  readonly code = 'Forbidden'
}

export class SecretNotFoundError extends VaultError {
  readonly status = 404
  readonly code = 'SecretNotFound'
  constructor() {
    super('Secret not found')
  }
}

export class RouteNotFoundError extends VaultError {
  readonly status = 404
  readonly code = 'RouteNotFound'
  constructor() {
    super('Not found')
  }
}

export class ConflictError extends VaultError {
  readonly status = 409
  readonly code = 'Conflict'
}

export class PayloadTooLargeError extends VaultError {
  readonly status = 413
  readonly code = 'PayloadTooLarge'
}

export class UnsupportedMediaTypeError extends VaultError {
  // The contract answers every malformed request with 400, a wrong content type included.
  readonly status = 400
  readonly code = 'UnsupportedMediaType'
}

export class TooManyRequestsError extends VaultError {
  readonly status = 429
  readonly code = 'TooManyRequests'
  constructor(override readonly retryAfterSeconds: number) {
    super('Too many requests; retry later')
  }
}

export class StoreUnavailableError extends VaultError {
  readonly status = 503
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

/** Token endpoint errors also carry the RFC 6749 `error` code beside the contract's `message`. */
export class OAuthError extends VaultError {
  constructor(
    readonly status: 400 | 401,
    readonly oauthCode: 'invalid_request' | 'invalid_client' | 'unsupported_grant_type',
    message: string,
  ) {
    super(message)
  }
  get code(): string {
    return this.oauthCode
  }
}

/**
 * Errors of the AWS Lambda Invoke API (the functions door): the SDK reads the error's type from
 * the `x-amzn-ErrorType` header, so each carries the name AWS gives it beside the message.
 */
export class LambdaApiError extends VaultError {
  constructor(
    readonly status: 400 | 403 | 404 | 413 | 429,
    readonly errorType:
      | 'InvalidRequestContentException'
      | 'InvalidParameterValueException'
      | 'RequestTooLargeException'
      | 'MissingAuthenticationTokenException'
      | 'IncompleteSignatureException'
      | 'InvalidSignatureException'
      | 'UnrecognizedClientException'
      | 'ResourceNotFoundException'
      | 'TooManyRequestsException',
    message: string,
    override readonly retryAfterSeconds?: number,
  ) {
    super(message)
  }
  get code(): string {
    return this.errorType
  }
}
