import express, { Router, type Request } from 'express'
import { OAuthError, UnauthenticatedError } from '../../common/errors'
import type { ClientsService } from '../../app/clients/clients.service'
import type { RateLimiter } from '../http/rate-limiter'

const parseForm = express.urlencoded({ extended: false, limit: 16 * 1024, parameterLimit: 20, type: () => true })

type Credentials = { clientId: string; clientSecret: string }

// RFC 6749 2.3.1: HTTP Basic with form-urlencoded id and secret, or both in the form.
const credentialsOf = (req: Request, form: Record<string, unknown>): Credentials => {
  const header = req.get('authorization')
  if (header !== undefined && /^Basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) throw new OAuthError(401, 'invalid_client', 'Invalid client credentials')
    try {
      return {
        clientId: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
        clientSecret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')),
      }
    } catch {
      throw new OAuthError(401, 'invalid_client', 'Invalid client credentials')
    }
  }
  const { client_id: clientId, client_secret: clientSecret } = form
  if (typeof clientId !== 'string' || typeof clientSecret !== 'string' || clientId === '' || clientSecret === '') {
    throw new OAuthError(401, 'invalid_client', 'client_id and client_secret are required')
  }
  return { clientId, clientSecret }
}

/**
 * `POST /oauth/token`: the client credentials grant. SECURITY: rate limited per address and per
 * client id (429 with Retry-After), so client secrets cannot be guessed at speed.
 */
export const oauthRoutes = (clients: ClientsService, limiter: RateLimiter): Router =>
  Router().post('/oauth/token', (req, _res, next) => {
    limiter.take(`address:${req.socket.remoteAddress ?? 'unknown'}`)
    if (!req.is('application/x-www-form-urlencoded')) {
      return next(new OAuthError(400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded'))
    }
    parseForm(req, _res, next)
  }, async (req, res) => {
    const form = (req.body ?? {}) as Record<string, unknown>
    if (form.grant_type !== 'client_credentials') {
      throw new OAuthError(400, 'unsupported_grant_type', 'grant_type must be client_credentials')
    }
    const { clientId, clientSecret } = credentialsOf(req, form)
    limiter.take(`client:${clientId}`)
    try {
      res.json(await clients.issueToken(clientId, clientSecret))
    } catch (error) {
      if (error instanceof UnauthenticatedError) {
        throw new OAuthError(401, 'invalid_client', 'Invalid client credentials')
      }
      throw error
    }
  })
