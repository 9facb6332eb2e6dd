import { ForbiddenError } from '../common/errors'
import type { Principal, Scope } from '../common/types'

/**
 * Deny by default: standard secrets need the `secrets` grant, an organization's secrets need
 * that organization in the client's list; admins may do everything. Every door reaches it
 * through app/operations.ts, before anything else of a request is read.
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

/** Client registration and key management are for admin clients only. */
export const authorizeAdmin = (principal: Principal, what: string): void => {
  if (!principal.admin) throw new ForbiddenError(`Only admin clients may ${what}`)
}
