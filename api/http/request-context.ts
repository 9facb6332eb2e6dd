import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { NextFunction, Request, Response } from 'express'
import type { Logger } from '../../lib/logger'
import type { Principal } from '../../common/types'

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/

/** What the middleware chain learns about a request. */
export type Locals = { requestId: string; principal?: Principal; log: Logger }

export const localsOf = (res: Response): Locals => res.locals as Locals

export type RequestStarter = (req: IncomingMessage, res: ServerResponse, path: string) => Locals

/**
 * Starts requests on any node response (express's or the lean read route's): gives each an id
 * (the caller's, if it is a safe token), the vault's security headers, and one access log line
 * when it ends: method, path, status, duration, client. Never a body or a header value.
 */
export const requestStarter = (log: Logger): RequestStarter => {
  // Below info (LOG_LEVEL=warn or error) there is no access log: no listener, no timer per request.
  const accessLog = log.enabled('info')
  return (req, res, path) => {
    const incoming = req.headers['x-request-id']
    const requestId = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID()
    const locals: Locals = { requestId, log: log.child({ requestId }) }
    res.setHeader('X-Request-Id', requestId)
    setSecurityHeaders(res)
    if (accessLog) {
      const started = process.hrtime.bigint()
      res.on('finish', () => {
        locals.log.info('request', {
          method: req.method,
          path: path.slice(0, 600),
          status: res.statusCode,
          durationMs: Number(process.hrtime.bigint() - started) / 1e6,
          clientId: locals.principal?.clientId,
        })
      })
    }
    return locals
  }
}

/** The express middleware that starts every request express serves. */
export const requestContext = (log: Logger) => {
  const start = requestStarter(log)
  return (req: Request, res: Response, next: NextFunction) => {
    res.locals = start(req, res, req.path)
    next()
  }
}

/** Headers a vault answers with on every response. */
const setSecurityHeaders = (res: ServerResponse): void => {
  res.setHeader('X-Content-Type-Options', 'nosniff')
  res.setHeader('X-Frame-Options', 'DENY')
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'")
  res.setHeader('Referrer-Policy', 'no-referrer')
  res.setHeader('Cache-Control', 'no-store')
}
