import crypto from 'node:crypto'
import { createDataKeyCache, DATA_KEY_TTL_MS, type DataKeyCache } from '../../app/data-key-cache'
import { cipherFor, generateKey, masterKeyFrom, wrapDataKey, type SecretCipher } from '../../common/encryption'
import { DataKeyMissingError } from '../../common/errors'

const master = masterKeyFrom(crypto.randomBytes(32))

/** An incarnation as the store holds it: its id, its wrapped data key, and a value sealed at version 1. */
const incarnation = () => {
  const aggregateId = crypto.randomUUID()
  const dataKey = generateKey()
  const plaintext = JSON.stringify({ password: crypto.randomBytes(8).toString('hex') })
  return { aggregateId, wrapped: wrapDataKey(master, dataKey, aggregateId), plaintext, sealed: cipherFor(dataKey, aggregateId).encrypt(plaintext, 1) }
}
type Incarnation = ReturnType<typeof incarnation>

/** `{masterKeyId}:v1.iv.body.tag` with one bit of the wrapped key's ciphertext flipped. */
const flipFirstByteOfBody = (wrapped: string): string => {
  const parts = wrapped.split('.')
  const body = Buffer.from(parts[2], 'base64url')
  body[0] ^= 0x01
  parts[2] = body.toString('base64url')
  return parts.join('.')
}

const opens = (cipher: SecretCipher, secret: Incarnation): boolean => {
  try {
    return cipher.decrypt(secret.sealed, 1) === secret.plaintext
  } catch {
    return false
  }
}

describe('the cache of unwrapped data keys', () => {
  let clock = 0
  let cache: DataKeyCache
  const cacheOf = (size: number) => (cache = createDataKeyCache(master, size, () => clock))

  beforeEach(() => {
    clock = 1_000_000
  })

  afterEach(() => cache.close())

  it('answers the same cipher for the same wrapped key, and it opens the secret', () => {
    cacheOf(10)
    const secret = incarnation()
    const first = cache.cipherOf(secret.aggregateId, secret.wrapped)
    expect(opens(first, secret)).toBe(true)
    expect(cache.cipherOf(secret.aggregateId, secret.wrapped)).toBe(first)
  })

  it('refuses a shredded key even after it was cached, and forgets the cached bytes', () => {
    cacheOf(10)
    const secret = incarnation()
    const cached = cache.cipherOf(secret.aggregateId, secret.wrapped)
    expect(() => cache.cipherOf(secret.aggregateId, null).decrypt(secret.sealed, 1)).toThrow(DataKeyMissingError)
    // The key it held was overwritten, not merely unlinked: the old cipher opens nothing now.
    expect(opens(cached, secret)).toBe(false)
  })

  it('unwraps again when the stored wrapped key is not the one it cached, and never serves an altered one', () => {
    cacheOf(10)
    const secret = incarnation()
    const cached = cache.cipherOf(secret.aggregateId, secret.wrapped)
    const tampered = flipFirstByteOfBody(secret.wrapped)
    expect(tampered).not.toBe(secret.wrapped)
    expect(() => cache.cipherOf(secret.aggregateId, tampered)).toThrow()
    expect(opens(cached, secret)).toBe(false)
    // The genuine wrapped key still opens the secret (unwrapped afresh).
    const fresh = cache.cipherOf(secret.aggregateId, secret.wrapped)
    expect(fresh).not.toBe(cached)
    expect(opens(fresh, secret)).toBe(true)
  })

  it('keeps at most its size, dropping the oldest unwraps first', () => {
    cacheOf(2)
    const [a, b, c] = [incarnation(), incarnation(), incarnation()]
    const [ca, cb] = [cache.cipherOf(a.aggregateId, a.wrapped), cache.cipherOf(b.aggregateId, b.wrapped)]
    const cc = cache.cipherOf(c.aggregateId, c.wrapped)
    expect([opens(ca, a), opens(cb, b), opens(cc, c)]).toEqual([false, true, true])
    expect(cache.cipherOf(b.aggregateId, b.wrapped)).toBe(cb)
    expect(cache.cipherOf(a.aggregateId, a.wrapped)).not.toBe(ca)
  })

  it('drops a key once it has been in memory for its time to live, on the next use or by its timer when idle', () => {
    jest.useFakeTimers()
    try {
      cacheOf(10)
      const [a, b] = [incarnation(), incarnation()]
      const ca = cache.cipherOf(a.aggregateId, a.wrapped)
      clock += DATA_KEY_TTL_MS - 1
      expect(cache.cipherOf(a.aggregateId, a.wrapped)).toBe(ca)
      const cb = cache.cipherOf(b.aggregateId, b.wrapped)
      clock += 1
      const again = cache.cipherOf(a.aggregateId, a.wrapped)
      expect(again).not.toBe(ca)
      expect([opens(ca, a), opens(again, a), opens(cb, b)]).toEqual([false, true, true])
      // No read at all: the timer sweeps b within a few seconds of its expiry.
      clock += DATA_KEY_TTL_MS
      jest.advanceTimersByTime(10_000)
      expect(opens(cb, b)).toBe(false)
    } finally {
      jest.useRealTimers()
    }
  })

  it('forgets a key this process shredded at once, and every key when closed', () => {
    cacheOf(10)
    const [a, b] = [incarnation(), incarnation()]
    const [ca, cb] = [cache.cipherOf(a.aggregateId, a.wrapped), cache.cipherOf(b.aggregateId, b.wrapped)]
    cache.forget(a.aggregateId)
    expect([opens(ca, a), opens(cb, b)]).toEqual([false, true])
    cache.close()
    expect(opens(cb, b)).toBe(false)
  })

  it('keeps nothing at size 0: each call unwraps, and each cipher stays usable', () => {
    cacheOf(0)
    const secret = incarnation()
    const first = cache.cipherOf(secret.aggregateId, secret.wrapped)
    const second = cache.cipherOf(secret.aggregateId, secret.wrapped)
    expect(second).not.toBe(first)
    cache.forget(secret.aggregateId)
    expect([opens(first, secret), opens(second, secret)]).toEqual([true, true])
  })
})
