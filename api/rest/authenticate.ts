import type { NextFunction, Request, Response } from 'express'
import { UnauthenticatedError } from '../../common/errors'
import type { Tokens } from '../../app/clients/tokens'
import type { Principal } from '../../common/types'
import { localsOf } from '../http/request-context'

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i

/** The caller named by an `Authorization: Bearer` header: 401 without one or with a bad token. */
export const bearerPrincipal = async (tokens: Tokens, header: string | undefined): Promise<Principal> => {
  const match = header === undefined ? null : BEARER.exec(header.trim())
  if (match === null) throw new UnauthenticatedError('A bearer token is required')
  return tokens.verify(match[1])
}

/** Every route but /health and /oauth/token needs a valid bearer token: else 401. */
export const authenticate = (tokens: Tokens) => async (req: Request, res: Response, next: NextFunction) => {
  try {
    localsOf(res).principal = await bearerPrincipal(tokens, req.get('authorization'))
    next()
  } catch (error) {
    next(error)
  }
}
