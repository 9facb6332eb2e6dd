import type { Response } from 'express'
import { UnauthenticatedError } from '../../common/errors'
import type { Principal } from '../../common/types'
import { localsOf } from '../http/request-context'

/** The authenticated caller; routes behind `authenticate` always have one. */
export const principalOf = (res: Response): Principal => {
  const { principal } = localsOf(res)
  if (principal === undefined) throw new UnauthenticatedError('A bearer token is required')
  return principal
}
