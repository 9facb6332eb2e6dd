import express, { Router, type NextFunction, type Request, type Response } from 'express'
import type { Operations } from '../../app/operations'
import { isRefusal } from '../../app/outcomes'
import type { RateLimiter } from '../http/rate-limiter'
import { sendJson } from '../http/respond'
import { localsOf } from '../http/request-context'
import { answer } from './answers'
import { OAuthError } from './oauth-error'

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

// The OAuth door's own shape: `{ error, message }`, and a Basic challenge with a 401.
const oauthErrors = (error: unknown, _req: Request, res: Response, next: NextFunction) => {
  if (!(error instanceof OAuthError)) return next(error)
  if (error.status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="event-vault"')
  sendJson(res, error.status, { error: error.oauthCode, message: error.message })
}

/**
 * `POST /oauth/token`: the client credentials grant. SECURITY: rate limited per address and per
 * client id (429 with Retry-After), so client secrets cannot be guessed at speed.
 */
export const oauthRoutes = (operations: Operations, limiter: RateLimiter): Router => {
  const router = Router()
  router.post('/oauth/token', (req, _res, next) => {
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
    const outcome = await operations.issueToken(clientId, clientSecret)
    // One answer for an unknown client and a wrong secret.
    if (isRefusal(outcome) && outcome.kind === 'unauthenticated') throw new OAuthError(401, 'invalid_client', 'Invalid client credentials')
    answer(res, localsOf(res), outcome)
  })
  return router.use(oauthErrors)
}
