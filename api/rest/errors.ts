import type { ServerResponse } from 'node:http'
import type { NextFunction, Request, Response } from 'express'
import { knownError } from '../../app/outcomes'
import { LambdaApiError, OAuthError, PayloadTooLargeError, ValidationError, type VaultError } from '../../common/errors'
import { sendJson } from '../http/respond'
import { localsOf, type Locals } from '../http/request-context'

/** Errors that body-parser and the router raise for what a client sent. */
type HttpInputError = Error & { status?: number; statusCode?: number; type?: string; expose?: boolean }

/** A path segment that does not percent-decode: the same 400 from express's router and from ours. */
export const badPathEncoding = (): ValidationError => new ValidationError('The request path is not validly encoded')

const clientInputError = (error: HttpInputError): VaultError | null => {
  const status = error.status ?? error.statusCode
  if (typeof status !== 'number' || status < 400 || status >= 500) return null
  if (status === 413) return new PayloadTooLargeError('The request body is too large')
  if (error.type === 'entity.parse.failed') return new ValidationError('The request body is not valid JSON')
  if (error instanceof URIError) return badPathEncoding()
  return new ValidationError('The request could not be read')
}

const toVaultError = (error: unknown): VaultError | null =>
  knownError(error) ?? (error instanceof Error ? clientInputError(error as HttpInputError) : null)

/**
 * The one place errors become responses: known errors answer `{ message }` with their status;
 * anything else is a 500 with a generic message and the request id. SECURITY: an unknown
 * error's text, stack or SQL never reaches the client or the log, it may hold a value.
 */
export const sendError = (res: ServerResponse, { log, requestId }: Pick<Locals, 'log' | 'requestId'>, error: unknown): void => {
  const known = toVaultError(error)
  if (res.headersSent) return void res.end()
  if (known !== null) {
    if (known.status >= 500) log.warn('store unavailable', { code: known.code })
    if (known.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(known.retryAfterSeconds))
    if (known instanceof OAuthError) {
      if (known.status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="event-vault"')
      return sendJson(res, known.status, { error: known.oauthCode, message: known.message })
    }
    if (known instanceof LambdaApiError) {
      // The AWS SDK takes the error's type from this header; `Type` says whose fault it is.
      res.setHeader('x-amzn-ErrorType', known.errorType)
      return sendJson(res, known.status, { Type: 'User', message: known.message })
    }
    if (known.status === 401) res.setHeader('WWW-Authenticate', 'Bearer')
    return sendJson(res, known.status, { message: known.message })
  }
  log.error('internal error', { error: error instanceof Error ? error.name : typeof error, code: codeOf(error) })
  sendJson(res, 500, { message: 'Internal error', requestId })
}

/** The express error middleware: every error express sees goes through `sendError`. */
export const errorHandler = (error: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(res, localsOf(res), error)

const codeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code.slice(0, 32) : undefined
}
