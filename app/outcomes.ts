import { StoreUnavailableError, VaultError } from '../common/errors'
import { isStoreUnavailable } from '../store/store-errors'

/**
 * The errors the vault answers on purpose, whichever door a request came through (REST or a
 * function): its own typed errors, a concurrent write, and a store that cannot be reached.
 * Anything else is internal: never echoed, because its text may hold a value or SQL.
 */
export const knownError = (error: unknown): VaultError | null => {
  if (error instanceof VaultError) return error
  if (!(error instanceof Error)) return null
  if (isStoreUnavailable(error)) return new StoreUnavailableError()
  return null
}
