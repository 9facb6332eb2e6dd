import { RESOLVE_UNAVAILABLE_NAMES } from './resolve/errors'

/**
 * Errors that mean "the store cannot be reached right now" (PostgreSQL down, restarting,
 * overloaded, or a connection cut): the client gets 503 and may retry.
 */
const UNAVAILABLE_NAMES = new Set(RESOLVE_UNAVAILABLE_NAMES)
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '53300', '57014'])
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|Connection refused|the database system is (starting up|shutting down)/i

export const isStoreUnavailable = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false
  const code = (error as { code?: unknown }).code
  return (
    UNAVAILABLE_NAMES.has(error.name) ||
    (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) ||
    UNAVAILABLE_MESSAGES.test(error.message)
  )
}
