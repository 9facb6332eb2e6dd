import crypto from 'node:crypto'
import {
  cipherFor,
  constantTimeEqual,
  deriveKey,
  generateKey,
  loadCipher,
  masterKeyFrom,
  open,
  seal,
  unwrapDataKey,
  wrapDataKey,
} from '../../common/encryption'
import { DataKeyMissingError } from '../../common/errors'

const aMasterKey = () => masterKeyFrom(crypto.randomBytes(32))

const flipByteOf = (sealed: string, part: number): string => {
  const parts = sealed.split('.')
  const bytes = Buffer.from(parts[part], 'base64url')
  bytes[0] ^= 0x01
  parts[part] = bytes.toString('base64url')
  return parts.join('.')
}

/** An in-memory stand-in for reSolve's secrets manager: it is only a place to keep strings. */
const keyStore = (entries: Record<string, string> = {}) => ({
  getSecret: async (id: string) => entries[id] ?? null,
})

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

describe('wrapping data keys with the master key', () => {
  it('unwraps a data key for the aggregate it was wrapped for', () => {
    const master = aMasterKey()
    const dataKey = generateKey()
    expect(unwrapDataKey(master, wrapDataKey(master, dataKey, 'agg-1'), 'agg-1').equals(dataKey)).toBe(true)
  })

  it('refuses to unwrap a data key for another aggregate', () => {
    const master = aMasterKey()
    expect(() => unwrapDataKey(master, wrapDataKey(master, generateKey(), 'agg-1'), 'agg-2')).toThrow()
  })

  it('refuses a data key wrapped by another master key, naming no key material', () => {
    const wrapped = wrapDataKey(aMasterKey(), generateKey(), 'agg-1')
    expect(() => unwrapDataKey(aMasterKey(), wrapped, 'agg-1')).toThrow('another master key')
  })

  it('labels a wrapped key with a master key id that does not reveal the master key', () => {
    const raw = crypto.randomBytes(32)
    const master = masterKeyFrom(raw)
    const wrapped = wrapDataKey(master, generateKey(), 'agg-1')
    expect(wrapped.startsWith(`${master.id}:`)).toBe(true)
    expect(wrapped).not.toContain(raw.toString('base64'))
    expect(masterKeyFrom(raw).id).toBe(master.id)
  })
})

describe('the cipher of one aggregate', () => {
  it('round-trips a value bound to its version', () => {
    const cipher = cipherFor(generateKey(), 'agg-1')
    expect(cipher.decrypt(cipher.encrypt('{"a":1}', 3), 3)).toBe('{"a":1}')
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

  it('loads the data key from the key store and reads what was written with it', async () => {
    const master = aMasterKey()
    const dataKey = generateKey()
    const store = keyStore({ 'agg-1': wrapDataKey(master, dataKey, 'agg-1') })
    const sealed = cipherFor(dataKey, 'agg-1').encrypt('secret', 1)
    expect((await loadCipher(master, store, 'agg-1')).decrypt(sealed, 1)).toBe('secret')
  })

  it('leaves the value unreadable once the data key is deleted', async () => {
    const master = aMasterKey()
    const dataKey = generateKey()
    const sealed = cipherFor(dataKey, 'agg-1').encrypt('secret', 1)
    const cipher = await loadCipher(master, keyStore(), 'agg-1')
    expect(() => cipher.decrypt(sealed, 1)).toThrow(DataKeyMissingError)
    expect(() => cipher.encrypt('new', 2)).toThrow(DataKeyMissingError)
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
