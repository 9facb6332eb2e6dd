/** Token endpoint refusals carry the RFC 6749 `error` code beside the contract's `message`. */
export class OAuthError extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly oauthCode: 'invalid_request' | 'invalid_client' | 'unsupported_grant_type',
    message: string,
  ) {
    super(message)
    this.name = 'OAuthError'
  }
}
