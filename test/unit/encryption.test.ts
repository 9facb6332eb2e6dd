import crypto from 'node:crypto'
import {
  cipherFor,
  constantTimeEqual,
  dataKeyWrapping,
  deriveKey,
  generateKey,
  masterKeyFrom,
  masterKeyRing,
  open,
  openClientSecret,
  padValue,
  seal,
  sealClientSecret,
  shreddedCipher,
  unpadValue,
  unwrapDataKey,
  unwrapLegacyDataKey,
  unwrapShardKey,
  valueAad,
  wrapDataKey,
  wrapShardKey,
  type MasterKey,
  type ShardKey,
} from '../../common/encryption'
import { DataKeyMissingError, MasterKeyUnavailableError } from '../../common/errors'

const aMasterKey = () => masterKeyFrom(crypto.randomBytes(32))
const aShardKey = (shard = 3, generation = 1): ShardKey => ({ shard, generation, key: generateKey() })

const flipByteOf = (sealed: string, part: number): string => {
  const parts = sealed.split('.')
  const bytes = Buffer.from(parts[part], 'base64url')
  bytes[0] ^= 0x01
  parts[part] = bytes.toString('base64url')
  return parts.join('.')
}

/** A data key wrapped the way stores made before the key hierarchy hold it: `{masterKeyId}:v1...`. */
const legacyWrap = (master: MasterKey, dataKey: Buffer, aggregateId: string): string =>
  `${master.id}:${seal(master.key, dataKey, `data-key:${master.id}:${aggregateId}`)}`

describe('sealing values', () => {
  it('opens what it sealed', () => {
    const key = generateKey()
    expect(open(key, seal(key, 'the value', 'aad'), 'aad').toString()).toBe('the value')
  })

  it('never produces the same ciphertext twice for the same value', () => {
    const key = generateKey()
    expect(seal(key, 'same', 'aad')).not.toBe(seal(key, 'same', 'aad'))
  })

  it.each([1, 2, 3])('refuses a ciphertext with a flipped byte in part %i', (part) => {
    const key = generateKey()
    expect(() => open(key, flipByteOf(seal(key, 'value', 'aad'), part), 'aad')).toThrow()
  })

  it('refuses the wrong associated data', () => {
    const key = generateKey()
    expect(() => open(key, seal(key, 'value', 'value:a:1'), 'value:a:2')).toThrow()
  })

  it('refuses the wrong key', () => {
    expect(() => open(generateKey(), seal(generateKey(), 'value', 'aad'), 'aad')).toThrow()
  })

  it('keeps the plaintext out of the ciphertext', () => {
    expect(seal(generateKey(), 'plain-marker-123', 'aad')).not.toContain('plain-marker-123')
  })
})

describe('the master key ring', () => {
  it('puts the current key first and keeps each previous key once', () => {
    const [current, old] = [aMasterKey(), aMasterKey()]
    const ring = masterKeyRing(current, [old, current])
    expect(ring.current).toBe(current)
    expect(ring.keys.map((key) => key.id)).toEqual([current.id, old.id])
  })

  it('names a master key by an id that is stable and does not reveal the key', () => {
    const raw = crypto.randomBytes(32)
    const master = masterKeyFrom(raw)
    expect(master.id).toMatch(/^[0-9a-f]{16}$/)
    expect(masterKeyFrom(raw).id).toBe(master.id)
    expect(raw.toString('hex')).not.toContain(master.id)
  })
})

describe('wrapping shard keys with the master key', () => {
  it('unwraps a shard key for the shard and generation it was wrapped for', () => {
    const master = aMasterKey()
    const shardKey = aShardKey(3, 1)
    const unwrapped = unwrapShardKey(masterKeyRing(master), wrapShardKey(master, shardKey), 3, 1)
    expect(unwrapped).toMatchObject({ shard: 3, generation: 1 })
    expect(unwrapped.key.equals(shardKey.key)).toBe(true)
  })

  it('refuses to unwrap a shard key as another generation of its shard', () => {
    const master = aMasterKey()
    expect(() => unwrapShardKey(masterKeyRing(master), wrapShardKey(master, aShardKey(3, 1)), 3, 2)).toThrow()
  })

  it('refuses to unwrap a shard key as the same generation of another shard', () => {
    const master = aMasterKey()
    expect(() => unwrapShardKey(masterKeyRing(master), wrapShardKey(master, aShardKey(3, 1)), 4, 1)).toThrow()
  })

  it('labels a wrapped shard key with its master key id and keeps the key material out of it', () => {
    const raw = crypto.randomBytes(32)
    const master = masterKeyFrom(raw)
    const shardKey = aShardKey()
    const wrapped = wrapShardKey(master, shardKey)
    expect(wrapped.startsWith(`${master.id}:v1.`)).toBe(true)
    for (const encoding of ['base64', 'base64url', 'hex'] as const) {
      expect(wrapped).not.toContain(raw.toString(encoding))
      expect(wrapped).not.toContain(shardKey.key.toString(encoding))
    }
  })

  it('unwraps a shard key wrapped by a previous master key of the ring', () => {
    const [current, old] = [aMasterKey(), aMasterKey()]
    const shardKey = aShardKey()
    const unwrapped = unwrapShardKey(masterKeyRing(current, [old]), wrapShardKey(old, shardKey), 3, 1)
    expect(unwrapped.key.equals(shardKey.key)).toBe(true)
  })

  it('refuses a shard key wrapped by a master key outside the ring, naming the missing key id', () => {
    const old = aMasterKey()
    const wrapped = wrapShardKey(old, aShardKey())
    expect(() => unwrapShardKey(masterKeyRing(aMasterKey()), wrapped, 3, 1)).toThrow(MasterKeyUnavailableError)
    expect(() => unwrapShardKey(masterKeyRing(aMasterKey()), wrapped, 3, 1)).toThrow(old.id)
  })
})

describe('wrapping data keys with a shard key', () => {
  it('unwraps a data key for the aggregate it was wrapped for', () => {
    const shardKey = aShardKey()
    const dataKey = generateKey()
    expect(unwrapDataKey(shardKey, wrapDataKey(shardKey, dataKey, 'agg-1'), 'agg-1').equals(dataKey)).toBe(true)
  })

  it('refuses to unwrap a data key for another aggregate', () => {
    const shardKey = aShardKey()
    expect(() => unwrapDataKey(shardKey, wrapDataKey(shardKey, generateKey(), 'agg-1'), 'agg-2')).toThrow()
  })

  it('labels a wrapped data key with its shard and generation, and keeps the key material out of it', () => {
    const shardKey = aShardKey(7, 2)
    const dataKey = generateKey()
    const wrapped = wrapDataKey(shardKey, dataKey, 'agg-1')
    expect(wrapped.startsWith('sk1:7:2:v1.')).toBe(true)
    expect(dataKeyWrapping(wrapped)).toEqual({ kind: 'shard', shard: 7, generation: 2 })
    for (const encoding of ['base64', 'base64url', 'hex'] as const) expect(wrapped).not.toContain(dataKey.toString(encoding))
  })

  it('refuses a data key wrapped by another generation of the shard key, naming no key material', () => {
    const wrapped = wrapDataKey(aShardKey(3, 1), generateKey(), 'agg-1')
    expect(() => unwrapDataKey(aShardKey(3, 2), wrapped, 'agg-1')).toThrow('another shard key')
  })

  it('refuses a data key relabelled as another generation of its shard key', () => {
    const shardKey = aShardKey(3, 1)
    const relabelled = wrapDataKey(shardKey, generateKey(), 'agg-1').replace(/^sk1:3:1:/, 'sk1:3:2:')
    expect(() => unwrapDataKey({ ...shardKey, generation: 2 }, relabelled, 'agg-1')).toThrow()
  })

  it('refuses a data key wrapped by other key bytes under the same shard and generation', () => {
    const wrapped = wrapDataKey(aShardKey(3, 1), generateKey(), 'agg-1')
    expect(() => unwrapDataKey(aShardKey(3, 1), wrapped, 'agg-1')).toThrow()
  })

  it('refuses a wrapped data key with a flipped byte', () => {
    const shardKey = aShardKey()
    const wrapped = wrapDataKey(shardKey, generateKey(), 'agg-1')
    expect(() => unwrapDataKey(shardKey, flipByteOf(wrapped, 2), 'agg-1')).toThrow()
  })
})

describe('data keys wrapped by the master key before the key hierarchy', () => {
  it('unwraps one for the aggregate it was wrapped for, with the master key that wrapped it', () => {
    const master = aMasterKey()
    const dataKey = generateKey()
    const wrapped = legacyWrap(master, dataKey, 'agg-1')
    expect(dataKeyWrapping(wrapped)).toEqual({ kind: 'master', masterKeyId: master.id })
    expect(unwrapLegacyDataKey(masterKeyRing(master), wrapped, 'agg-1').equals(dataKey)).toBe(true)
  })

  it('unwraps one wrapped by a previous master key of the ring', () => {
    const [current, old] = [aMasterKey(), aMasterKey()]
    const dataKey = generateKey()
    expect(unwrapLegacyDataKey(masterKeyRing(current, [old]), legacyWrap(old, dataKey, 'agg-1'), 'agg-1').equals(dataKey)).toBe(true)
  })

  it('refuses one for another aggregate', () => {
    const master = aMasterKey()
    expect(() => unwrapLegacyDataKey(masterKeyRing(master), legacyWrap(master, generateKey(), 'agg-1'), 'agg-2')).toThrow()
  })

  it('refuses one wrapped by a master key outside the ring', () => {
    const wrapped = legacyWrap(aMasterKey(), generateKey(), 'agg-1')
    expect(() => unwrapLegacyDataKey(masterKeyRing(aMasterKey()), wrapped, 'agg-1')).toThrow(MasterKeyUnavailableError)
  })
})

describe('sealing client secrets', () => {
  it('opens a client secret for the client it was sealed for', () => {
    const ring = masterKeyRing(aMasterKey())
    const sealed = sealClientSecret(ring, 'client-a', 'the-client-secret')
    expect(sealed.startsWith(`${ring.current.id}:v1.`)).toBe(true)
    expect(sealed).not.toContain('the-client-secret')
    expect(openClientSecret(ring, 'client-a', sealed)).toBe('the-client-secret')
  })

  it('refuses to open a client secret as another client', () => {
    const ring = masterKeyRing(aMasterKey())
    expect(() => openClientSecret(ring, 'client-b', sealClientSecret(ring, 'client-a', 'the-client-secret'))).toThrow()
  })

  it('opens a client secret sealed under a previous key while that key is in the ring, and not once it is gone', () => {
    const [old, current] = [aMasterKey(), aMasterKey()]
    const sealed = sealClientSecret(masterKeyRing(old), 'client-a', 'the-client-secret')
    expect(openClientSecret(masterKeyRing(current, [old]), 'client-a', sealed)).toBe('the-client-secret')
    expect(() => openClientSecret(masterKeyRing(current), 'client-a', sealed)).toThrow(MasterKeyUnavailableError)
  })

  it('opens an unlabelled client secret sealed before the ring with whichever key of the ring sealed it', () => {
    const [old, current] = [aMasterKey(), aMasterKey()]
    const unlabelled = seal(deriveKey(old, 'client-secrets'), 'the-client-secret', 'client:client-a')
    expect(unlabelled.startsWith('v1.')).toBe(true)
    expect(openClientSecret(masterKeyRing(current, [old]), 'client-a', unlabelled)).toBe('the-client-secret')
    expect(() => openClientSecret(masterKeyRing(current), 'client-a', unlabelled)).toThrow(MasterKeyUnavailableError)
    expect(() => openClientSecret(masterKeyRing(current, [old]), 'client-b', unlabelled)).toThrow(MasterKeyUnavailableError)
  })
})

describe('padding values', () => {
  it('hides the length of a value within its bucket', () => {
    const cipher = cipherFor(generateKey(), 'agg-1')
    const [one, twoHundred, threeHundred] = ['x', 'x'.repeat(200), 'x'.repeat(300)].map((value) => cipher.encrypt(value, 1))
    expect(one.length).toBe(twoHundred.length)
    expect(threeHundred.length).toBeGreaterThan(twoHundred.length)
  })

  it.each([
    [0, 256],
    [252, 256],
    [253, 512],
    [2044, 2048],
    [4092, 4096],
    [4093, 8192],
    [8188, 8192],
    [8189, 12288],
  ])('pads a value of %i bytes to %i', (length, bucket) => {
    expect(padValue('x'.repeat(length)).length).toBe(bucket)
  })

  it('unpads to the value it padded, multi-byte characters and trailing zeros included', () => {
    for (const value of ['', 'é😀', 'ends with zero\u0000', 'y'.repeat(5000)]) expect(unpadValue(padValue(value))).toBe(value)
  })

  it('refuses a padded value whose length prefix points past its end', () => {
    const padded = padValue('value')
    padded.writeUInt32BE(padded.length, 0)
    expect(() => unpadValue(padded)).toThrow('Malformed padded value')
    expect(() => unpadValue(Buffer.alloc(3))).toThrow('Malformed padded value')
  })
})

describe('the cipher of one aggregate', () => {
  it('round-trips a value bound to its version', () => {
    const cipher = cipherFor(generateKey(), 'agg-1')
    expect(cipher.decrypt(cipher.encrypt('{"a":1}', 3), 3)).toBe('{"a":1}')
  })

  it('writes padded v2 values', () => {
    const dataKey = generateKey()
    const sealed = cipherFor(dataKey, 'agg-1').encrypt('{"a":1}', 1)
    expect(sealed.startsWith('v2.')).toBe(true)
    expect(open(dataKey, sealed, valueAad('agg-1', 1)).length).toBe(256)
  })

  it('still reads v1 values, written unpadded before padding', () => {
    const dataKey = generateKey()
    const v1 = seal(dataKey, '{"a":1}', valueAad('agg-1', 2))
    expect(v1.startsWith('v1.')).toBe(true)
    expect(cipherFor(dataKey, 'agg-1').decrypt(v1, 2)).toBe('{"a":1}')
    expect(() => cipherFor(dataKey, 'agg-1').decrypt(v1, 3)).toThrow()
  })

  it('refuses a value read at another version', () => {
    const cipher = cipherFor(generateKey(), 'agg-1')
    expect(() => cipher.decrypt(cipher.encrypt('{"a":1}', 3), 4)).toThrow()
  })

  it('refuses a value moved to another aggregate with the same key', () => {
    const dataKey = generateKey()
    const sealed = cipherFor(dataKey, 'agg-1').encrypt('{"a":1}', 1)
    expect(() => cipherFor(dataKey, 'agg-2').decrypt(sealed, 1)).toThrow()
  })

  it('refuses a value with a flipped byte', () => {
    const cipher = cipherFor(generateKey(), 'agg-1')
    expect(() => cipher.decrypt(flipByteOf(cipher.encrypt('{"a":1}', 1), 2), 1)).toThrow()
  })

  it('refuses a value sealed with another data key', () => {
    const sealed = cipherFor(generateKey(), 'agg-1').encrypt('{"a":1}', 1)
    expect(() => cipherFor(generateKey(), 'agg-1').decrypt(sealed, 1)).toThrow()
  })

  it('reads a value through a data key wrapped and unwrapped by its shard key', () => {
    const shardKey = aShardKey()
    const dataKey = generateKey()
    const wrapped = wrapDataKey(shardKey, dataKey, 'agg-1')
    const sealed = cipherFor(dataKey, 'agg-1').encrypt('secret', 1)
    expect(cipherFor(unwrapDataKey(shardKey, wrapped, 'agg-1'), 'agg-1').decrypt(sealed, 1)).toBe('secret')
  })

  it('leaves the value unreadable once the data key is deleted', () => {
    const sealed = cipherFor(generateKey(), 'agg-1').encrypt('secret', 1)
    expect(() => shreddedCipher.decrypt(sealed, 1)).toThrow(DataKeyMissingError)
    expect(() => shreddedCipher.encrypt('new', 2)).toThrow(DataKeyMissingError)
  })
})

describe('helpers', () => {
  it('derives different keys for different purposes from one master key', () => {
    const master = aMasterKey()
    expect(deriveKey(master, 'token-signing').equals(deriveKey(master, 'client-secrets'))).toBe(false)
    expect(deriveKey(master, 'token-signing').equals(deriveKey(master, 'token-signing'))).toBe(true)
  })

  it('compares strings of any length', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true)
    expect(constantTimeEqual('abc', 'abd')).toBe(false)
    expect(constantTimeEqual('abc', 'abcd')).toBe(false)
  })
})
