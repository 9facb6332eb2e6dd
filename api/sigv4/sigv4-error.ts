/**
 * A request the signing checks refuse, named as AWS names it; every AWS protocol door (the
 * Invoke API, Secrets Manager) answers it in its own shape. 403 for a signature or credential
 * that does not hold, 429 past the limit of failed signatures.
 */
export class SigV4Error extends Error {
  constructor(
    readonly status: 403 | 429,
    readonly errorType:
      | 'MissingAuthenticationTokenException'
      | 'IncompleteSignatureException'
      | 'InvalidSignatureException'
      | 'UnrecognizedClientException'
      | 'TooManyRequestsException',
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message)
    this.name = 'SigV4Error'
  }
}
