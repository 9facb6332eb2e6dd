import { knownError } from '../../app/outcomes'
import type { Logger } from '../../lib/logger'

/** What a function answers: the guide's body with the status code inside it. */
export type FunctionResult = Readonly<{ statusCode: number; [field: string]: unknown }>

export const ok = (body: object, statusCode = 200): FunctionResult => ({ ...body, statusCode })

/**
 * A function never throws: every error becomes a result, like a REST error becomes a response.
 * Known errors keep their status and message; anything else is 500 with a generic message, and
 * only its name is logged (SECURITY: its text may hold a value or SQL).
 */
export const failure = (error: unknown, log: Logger): FunctionResult => {
  const known = knownError(error)
  if (known !== null) {
    if (known.status >= 500) log.warn('store unavailable', { code: known.code })
    return { statusCode: known.status, message: known.message }
  }
  log.error('internal error in a function', { error: error instanceof Error ? error.name : typeof error })
  return { statusCode: 500, message: 'Internal error' }
}
