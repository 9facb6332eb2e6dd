import {
  ConflictError,
  ForbiddenError,
  SecretAlreadyExistsError,
  SecretNotFoundError,
  StoreUnavailableError,
  TooManyRequestsError,
  UnauthenticatedError,
  ValidationError,
  VaultError,
} from '../common/errors'
import type { Logger } from '../lib/logger'
import { isStoreUnavailable } from '../store/store-errors'

/** What an operation that went through answers: a value, a new thing, or a delete's two ends. */
export type Success<T = unknown> =
  | Readonly<{ kind: 'done'; value: T }>
  | Readonly<{ kind: 'created'; value: T }>
  | Readonly<{ kind: 'deleted' }>
  | Readonly<{ kind: 'absent' }>

export type RefusalKind =
  | 'invalid'
  | 'already-exists'
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'too-many-requests'
  | 'unavailable'
  | 'internal'

/** Why an operation did not go through, with a message that is safe to show the caller. */
export type Refusal = Readonly<{
  kind: RefusalKind
  message: string
  retryAfterSeconds?: number
  /** For the log only: what an internal error or an outage was (a name and a code, never text). */
  cause?: Readonly<{ error: string; code?: string }>
}>

export type Outcome<T = unknown> = Success<T> | Refusal

export type OutcomeKind = Outcome['kind']

export const done = <T>(value: T): Success<T> => ({ kind: 'done', value })
export const created = <T>(value: T): Success<T> => ({ kind: 'created', value })
export const DELETED: Success<never> = Object.freeze({ kind: 'deleted' })
export const ABSENT: Success<never> = Object.freeze({ kind: 'absent' })

export const isRefusal = (outcome: Outcome): outcome is Refusal =>
  outcome.kind !== 'done' && outcome.kind !== 'created' && outcome.kind !== 'deleted' && outcome.kind !== 'absent'

// Each domain error names one kind of refusal; a subclass must come before its base.
const KINDS: ReadonlyArray<readonly [new (...args: never[]) => VaultError, RefusalKind]> = [
  [ValidationError, 'invalid'],
  [SecretAlreadyExistsError, 'already-exists'],
  [UnauthenticatedError, 'unauthenticated'],
  [ForbiddenError, 'forbidden'],
  [SecretNotFoundError, 'not-found'],
  [ConflictError, 'conflict'],
  [TooManyRequestsError, 'too-many-requests'],
  [StoreUnavailableError, 'unavailable'],
]

const codeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code.slice(0, 32) : undefined
}

const INTERNAL_MESSAGE = 'Internal error'

/**
 * The one classification of errors into refusals, whichever door a request came through: the
 * domain's typed errors, and a store that cannot be reached. SECURITY: anything else is
 * internal, answered with a generic message; its text may hold a value or SQL, so only its
 * name and code are kept, for the log.
 */
export const refusalOf = (error: unknown): Refusal => {
  if (error instanceof VaultError) {
    const kind = KINDS.find(([type]) => error instanceof type)?.[1]
    if (kind !== undefined) {
      const refusal = { kind, message: error.message }
      if (kind === 'unavailable') return { ...refusal, cause: { error: error.name, code: error.code } }
      return error.retryAfterSeconds === undefined ? refusal : { ...refusal, retryAfterSeconds: error.retryAfterSeconds }
    }
  }
  if (isStoreUnavailable(error)) {
    return { kind: 'unavailable', message: new StoreUnavailableError().message, cause: { error: (error as Error).name, code: codeOf(error) } }
  }
  return { kind: 'internal', message: INTERNAL_MESSAGE, cause: { error: error instanceof Error ? error.name : typeof error, code: codeOf(error) } }
}

/** A door's own error, met while an operation read the door's input (a body that cannot be read). */
class DoorInputFailure {
  constructor(readonly error: unknown) {}
}

/** Reads a request's body through the door; the door's own refusals go back to it untouched. */
export const readInput = async (body: () => unknown): Promise<unknown> => {
  try {
    return await body()
  } catch (error) {
    throw new DoorInputFailure(error)
  }
}

/**
 * Runs an operation's work; whatever it throws comes back as its refusal, except the door's own
 * input errors, which the door answers in its own terms (a 413, a wrong content type).
 */
export const outcomeOf = async <T>(work: () => Promise<Outcome<T>>): Promise<Outcome<T>> => {
  try {
    return await work()
  } catch (error) {
    return refusalOrRethrow(error)
  }
}

/** What an operation answers for an error it met: its refusal, or the door's own error thrown back. */
export const refusalOrRethrow = (error: unknown): Refusal => {
  if (error instanceof DoorInputFailure) throw error.error
  return refusalOf(error)
}

/** The one log line a refusal may deserve: an outage is a warning, an internal error an error. */
export const logRefusal = (log: Logger, refusal: Refusal): void => {
  if (refusal.kind === 'unavailable') log.warn('store unavailable', { code: refusal.cause?.code })
  if (refusal.kind === 'internal') log.error('internal error', { error: refusal.cause?.error, code: refusal.cause?.code })
}
