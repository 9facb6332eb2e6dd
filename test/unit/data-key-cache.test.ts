import crypto from 'node:crypto'
import { createDataKeyCache, DATA_KEY_TTL_MS, type DataKeyCache } from '../../app/keys/data-key-cache'
import {
  cipherFor,
  dataKeyWrapping,
  generateKey,
  unwrapDataKey,
  wrapDataKey,
  type SecretCipher,
  type ShardKey,
} from '../../common/encryption'
import { DataKeyMissingError } from '../../common/errors'

const shardKeys: ShardKey[] = [
  { shard: 1, generation: 1, key: generateKey() },
  { shard: 1, generation: 2, key: generateKey() },
]

/** The real unwrap through the shard key a wrapped data key names, counting its calls. */
let unwraps = 0
const unwrap = async (wrapped: string, aggregateId: string): Promise<Buffer> => {
  unwraps += 1
  const wrapping = dataKeyWrapping(wrapped)
  const shardKey = shardKeys.find((key) => wrapping.kind === 'shard' && key.shard === wrapping.shard && key.generation === wrapping.generation)
  if (shardKey === undefined) throw new Error('No such shard key')
  return unwrapDataKey(shardKey, wrapped, aggregateId)
}

/** An incarnation as the store holds it: its id, its wrapped data key, and a value sealed at version 1. */
const incarnation = () => {
  const aggregateId = crypto.randomUUID()
  const dataKey = generateKey()
  const plaintext = JSON.stringify({ password: crypto.randomBytes(8).toString('hex') })
  return {
    aggregateId,
    dataKey,
    wrapped: wrapDataKey(shardKeys[0], dataKey, aggregateId),
    plaintext,
    sealed: cipherFor(dataKey, aggregateId).encrypt(plaintext, 1),
  }
}
type Incarnation = ReturnType<typeof incarnation>

/** `sk1:{shard}:{generation}:v1.iv.body.tag` with one bit of the wrapped key's ciphertext flipped. */
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
  const cacheOf = (size: number) => (cache = createDataKeyCache(unwrap, size, () => clock))
  /**
   * The cipher the cache hands `use`, kept past `use` only so a test can see whether its key
   * bytes were overwritten since (production code must not keep it).
   */
  const cipherOf = (secret: Incarnation, wrapped: string | null = secret.wrapped) =>
    cache.withCipher(secret.aggregateId, wrapped, (cipher) => cipher)

  beforeEach(() => {
    clock = 1_000_000
    unwraps = 0
  })

  afterEach(() => cache.close())

  it('unwraps a wrapped key once and answers the same cipher for it again, which opens the secret', async () => {
    cacheOf(10)
    const secret = incarnation()
    const first = await cipherOf(secret)
    expect(opens(first, secret)).toBe(true)
    expect(await cipherOf(secret)).toBe(first)
    expect(unwraps).toBe(1)
  })

  it('runs its callback with the cipher and answers what the callback returns', async () => {
    cacheOf(10)
    const secret = incarnation()
    expect(await cache.withCipher(secret.aggregateId, secret.wrapped, (cipher) => cipher.decrypt(secret.sealed, 1))).toBe(secret.plaintext)
  })

  it('refuses a shredded key even after it was cached, and overwrites the cached bytes', async () => {
    cacheOf(10)
    const secret = incarnation()
    const cached = await cipherOf(secret)
    await expect(cache.withCipher(secret.aggregateId, null, (cipher) => cipher.decrypt(secret.sealed, 1))).rejects.toThrow(DataKeyMissingError)
    // The key it held was overwritten, not merely dropped: the old cipher opens nothing now.
    expect(opens(cached, secret)).toBe(false)
    expect(unwraps).toBe(1)
    // And the next read of the live key unwraps it afresh.
    expect(opens(await cipherOf(secret), secret)).toBe(true)
    expect(unwraps).toBe(2)
  })

  it('unwraps again when the stored wrapped key is other text, and never serves an altered one', async () => {
    cacheOf(10)
    const secret = incarnation()
    const cached = await cipherOf(secret)
    const tampered = flipFirstByteOfBody(secret.wrapped)
    expect(tampered).not.toBe(secret.wrapped)
    await expect(cipherOf(secret, tampered)).rejects.toThrow()
    expect(unwraps).toBe(2)
    // The same data key re-wrapped under the shard's next key is other text too: it is unwrapped,
    // replaces the cached entry, and the bytes of the one it replaces are overwritten.
    const rewrapped = wrapDataKey(shardKeys[1], secret.dataKey, secret.aggregateId)
    const fresh = await cipherOf(secret, rewrapped)
    expect(unwraps).toBe(3)
    expect(fresh).not.toBe(cached)
    expect([opens(fresh, secret), opens(cached, secret)]).toEqual([true, false])
    expect(await cipherOf(secret, rewrapped)).toBe(fresh)
    expect(unwraps).toBe(3)
  })

  it('keeps at most its size, dropping the oldest unwraps first', async () => {
    cacheOf(2)
    const [a, b, c] = [incarnation(), incarnation(), incarnation()]
    const [ca, cb] = [await cipherOf(a), await cipherOf(b)]
    const cc = await cipherOf(c)
    expect([opens(ca, a), opens(cb, b), opens(cc, c)]).toEqual([false, true, true])
    expect(unwraps).toBe(3)
    expect(await cipherOf(b)).toBe(cb)
    expect(unwraps).toBe(3)
    expect(await cipherOf(a)).not.toBe(ca)
    expect(unwraps).toBe(4)
  })

  it('drops a key once it has been in memory for its time to live, on the next use or by its timer when idle', async () => {
    jest.useFakeTimers()
    try {
      cacheOf(10)
      const [a, b] = [incarnation(), incarnation()]
      const ca = await cipherOf(a)
      clock += DATA_KEY_TTL_MS - 1
      expect(await cipherOf(a)).toBe(ca)
      const cb = await cipherOf(b)
      expect(unwraps).toBe(2)
      clock += 1
      const again = await cipherOf(a)
      expect(unwraps).toBe(3)
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

  it('forgets a key this process shredded at once, and every key when closed', async () => {
    cacheOf(10)
    const [a, b] = [incarnation(), incarnation()]
    const [ca, cb] = [await cipherOf(a), await cipherOf(b)]
    cache.forget(a.aggregateId)
    expect([opens(ca, a), opens(cb, b)]).toEqual([false, true])
    cache.close()
    expect(opens(cb, b)).toBe(false)
  })

  it('keeps nothing at size 0: each call unwraps, and each cipher stays usable', async () => {
    cacheOf(0)
    const secret = incarnation()
    const first = await cipherOf(secret)
    const second = await cipherOf(secret)
    expect(unwraps).toBe(2)
    expect(second).not.toBe(first)
    cache.forget(secret.aggregateId)
    expect([opens(first, secret), opens(second, secret)]).toEqual([true, true])
  })
})
