import { ConflictError } from '../../common/errors'

/**
 * reSolve's errors that mean "the store cannot be reached right now": its adapter's wrappings of
 * a lost or refused connection, a busy server, a timed-out request, and a disposed adapter.
 */
export const RESOLVE_UNAVAILABLE_NAMES: readonly string[] = Object.freeze([
  'ConnectionError',
  'ServiceBusyError',
  'RequestTimeoutError',
  'AlreadyDisposedError',
])

/** reSolve's answer when another writer saved the aggregate's next version first. */
const CONCURRENT_ERROR = 'ConcurrentError'

/** reSolve's errors in the domain's words, at the boundary: a concurrent write is a conflict. */
export const translateResolveError = (error: unknown): unknown =>
  error instanceof Error && error.name === CONCURRENT_ERROR
    ? new ConflictError('The secret was changed concurrently; try again')
    : error
