import { ConflictError } from '../../common/errors'
import { isStoreUnavailable } from '../../store/store-errors'
import { translateResolveError } from '../../store/resolve/errors'

const named = (name: string, message = 'from reSolve') => Object.assign(new Error(message), { name })

describe('reSolve errors at the store/resolve boundary', () => {
  it('turns a concurrent write into the domain\'s conflict', () => {
    const translated = translateResolveError(named('ConcurrentError'))
    expect(translated).toBeInstanceOf(ConflictError)
    expect((translated as ConflictError).message).toBe('The secret was changed concurrently; try again')
  })

  it('leaves every other error as it was', () => {
    const other = named('ValidationError')
    expect(translateResolveError(other)).toBe(other)
    expect(translateResolveError('not an error')).toBe('not an error')
  })

  it.each(['ConnectionError', 'ServiceBusyError', 'RequestTimeoutError', 'AlreadyDisposedError'])(
    'counts reSolve\'s %s as a store that cannot be reached',
    (name) => expect(isStoreUnavailable(named(name))).toBe(true),
  )
})
