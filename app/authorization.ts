import { ForbiddenError } from '../common/errors'
import type { Principal, Scope } from '../common/types'

/**
 * Deny by default: standard secrets need the `secrets` grant, an organization's secrets need
 * that organization in the client's list; admins may do everything. Both doors (REST and
 * functions) go through the service, which calls this before touching anything.
 */
export const authorizeScope = (principal: Principal, scope: Scope): void => {
  if (principal.admin) return
  if (scope.kind === 'standard' && principal.secrets) return
  if (scope.kind === 'organization' && principal.organizations.includes(scope.organizationId)) return
  throw new ForbiddenError(
    scope.kind === 'standard'
      ? 'This client may not use standard secrets'
      : 'This client may not use this organization\'s secrets',
  )
}

export const authorizeAdmin = (principal: Principal, what = 'manage clients'): void => {
  if (!principal.admin) throw new ForbiddenError(`Only admin clients may ${what}`)
}
