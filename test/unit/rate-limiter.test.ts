import { createRateLimiter } from '../../api/http/rate-limiter'
import { TooManyRequestsError } from '../../common/errors'

const clock = (start = 0) => {
  let now = start
  return { now: () => now, advance: (ms: number) => (now += ms) }
}

describe('the rate limiter', () => {
  it('allows the limit within a window, refuses the next with the seconds left', () => {
    const time = clock()
    const limiter = createRateLimiter(3, 60_000, time.now)
    for (let i = 0; i < 3; i++) limiter.take('a')
    time.advance(15_000)
    expect(() => limiter.take('a')).toThrow(expect.objectContaining({ retryAfterSeconds: 45 }))
    expect(() => limiter.take('a')).toThrow(TooManyRequestsError)
  })

  it('counts each key on its own', () => {
    const limiter = createRateLimiter(1, 60_000, clock().now)
    limiter.take('a')
    expect(() => limiter.take('b')).not.toThrow()
    expect(() => limiter.take('a')).toThrow(TooManyRequestsError)
  })

  it('starts a new window once the old one is over', () => {
    const time = clock()
    const limiter = createRateLimiter(1, 1_000, time.now)
    limiter.take('a')
    time.advance(1_000)
    expect(() => limiter.take('a')).not.toThrow()
  })

  it('keeps its memory bounded and still limits the keys it keeps', () => {
    const limiter = createRateLimiter(1, 60_000, clock().now, 100)
    for (let i = 0; i < 10_000; i++) limiter.take(`key-${i}`)
    limiter.take('recent')
    expect(() => limiter.take('recent')).toThrow(TooManyRequestsError)
  })

  it('checks a key without counting it, refusing only once the window is used up', () => {
    const time = clock()
    const limiter = createRateLimiter(2, 60_000, time.now)
    for (let i = 0; i < 5; i++) expect(() => limiter.check('a')).not.toThrow()
    limiter.take('a')
    expect(() => limiter.check('a')).not.toThrow()
    limiter.take('a')
    expect(() => limiter.check('a')).toThrow(TooManyRequestsError)
    time.advance(60_000)
    expect(() => limiter.check('a')).not.toThrow()
  })
})
