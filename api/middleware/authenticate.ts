import type { NextFunction, Request, Response } from 'express'
import { UnauthenticatedError } from '../../common/errors'
import type { Tokens } from '../../app/tokens'
import { localsOf } from './request-context'

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i

/** Every route but /health and /oauth/token needs a valid bearer token: else 401. */
export const authenticate = (tokens: Tokens) => async (req: Request, res: Response, next: NextFunction) => {
  const header = req.get('authorization')
  const match = header === undefined ? null : BEARER.exec(header.trim())
  if (match === null) return next(new UnauthenticatedError('A bearer token is required'))
  try {
    localsOf(res).principal = await tokens.verify(match[1])
    next()
  } catch (error) {
    next(error)
  }
}
