import { randomUUID } from 'node:crypto'
import type { NextFunction, Request, Response } from 'express'
import type { Logger } from '../../common/logger'
import type { Principal } from '../../common/types'

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/

/** What the middleware chain learns about a request. */
export type Locals = { requestId: string; principal?: Principal; log: Logger }

export const localsOf = (res: Response): Locals => res.locals as Locals

/**
 * Gives every request an id (the caller's, if it is a safe token) and writes one access log
 * line when it ends: method, path, status, duration, client. Never a body or a header value.
 */
export const requestContext = (log: Logger) => {
  // Below info (LOG_LEVEL=warn or error) there is no access log: no listener, no timer per request.
  const accessLog = log.enabled('info')
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = req.get('x-request-id')
    const requestId = incoming !== undefined && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID()
    const locals = localsOf(res)
    locals.requestId = requestId
    locals.log = log.child({ requestId })
    res.setHeader('X-Request-Id', requestId)
    if (accessLog) {
      const started = process.hrtime.bigint()
      res.on('finish', () => {
        locals.log.info('request', {
          method: req.method,
          path: req.path.slice(0, 600),
          status: res.statusCode,
          durationMs: Number(process.hrtime.bigint() - started) / 1e6,
          clientId: locals.principal?.clientId,
        })
      })
    }
    next()
  }
}

/** Headers a vault answers with on every response. */
export const securityHeaders = (_req: Request, res: Response, next: NextFunction) => {
  res.setHeader('X-Content-Type-Options', 'nosniff')
  res.setHeader('X-Frame-Options', 'DENY')
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'")
  res.setHeader('Referrer-Policy', 'no-referrer')
  res.setHeader('Cache-Control', 'no-store')
  next()
}
