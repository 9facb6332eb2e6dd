import crypto from 'node:crypto'
import { DataKeyMissingError } from './errors'

/**
 * The one place that touches keys and ciphers.
 *
 * Envelope encryption: every secret incarnation (aggregate) has its own random 256-bit data
 * key. The data key is stored in the event store's secrets manager only wrapped (AES-256-GCM)
 * by the master key, so a copy of the database alone reveals nothing. Values are encrypted
 * with AES-256-GCM under the data key, with the aggregate id and event version as associated
 * data, so a ciphertext cannot be moved to another secret or another version unnoticed.
 * Deleting the data key from the secrets manager makes every value of that aggregate
 * unreadable: crypto-shredding.
 */

const ALGORITHM = 'aes-256-gcm'
const IV_BYTES = 12
const TAG_BYTES = 16
const FORMAT = 'v1'

/** The key-encryption key with its id; the id travels with every wrapped key. */
export type MasterKey = Readonly<{ id: string; key: Buffer }>

/** What the Secret aggregate's commands receive to encrypt and decrypt values. */
export type SecretCipher = Readonly<{
  encrypt: (plaintext: string, version: number) => string
  decrypt: (ciphertext: string, version: number) => string
}>

/** The part of reSolve's secrets manager this module uses. */
export type DataKeyStore = Readonly<{
  getSecret: (id: string) => Promise<string | null>
}>

/** The id is derived one-way from the key, so it identifies the key without revealing it. */
export const masterKeyFrom = (key: Buffer): MasterKey => {
  if (key.length !== 32) throw new Error('A master key has 32 bytes')
  const id = crypto.createHmac('sha256', key).update('event-vault:master-key-id').digest('hex').slice(0, 16)
  return Object.freeze({ id, key: Buffer.from(key) })
}

export const generateKey = (): Buffer => crypto.randomBytes(32)

/** A key for one purpose (token signing, client secrets), derived so purposes never share a key. */
export const deriveKey = (master: MasterKey, purpose: string): Buffer =>
  Buffer.from(crypto.hkdfSync('sha256', master.key, Buffer.alloc(0), `event-vault:${purpose}`, 32))

const b64 = (data: Buffer): string => data.toString('base64url')

/** AES-256-GCM; the result is `v1.iv.ciphertext.tag` in base64url. */
export const seal = (key: Buffer, plaintext: string | Buffer, associatedData: string): string => {
  const iv = crypto.randomBytes(IV_BYTES)
  const cipher = crypto.createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(Buffer.from(associatedData, 'utf8'))
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return [FORMAT, b64(iv), b64(body), b64(cipher.getAuthTag())].join('.')
}

/** Opens what `seal` made; any tampering, wrong key or wrong associated data throws. */
export const open = (key: Buffer, sealed: string, associatedData: string): Buffer => {
  const parts = sealed.split('.')
  if (parts.length !== 4 || parts[0] !== FORMAT) throw new Error('Unknown ciphertext format')
  const [, iv, body, tag] = parts.map((part) => Buffer.from(part, 'base64url'))
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('Malformed ciphertext')
  const decipher = crypto.createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES })
  decipher.setAAD(Buffer.from(associatedData, 'utf8'))
  decipher.setAuthTag(tag)
  return Buffer.concat([decipher.update(body), decipher.final()])
}

/** Wraps a data key for storage: `{masterKeyId}:{sealed}`, bound to its aggregate id. */
export const wrapDataKey = (master: MasterKey, dataKey: Buffer, aggregateId: string): string =>
  `${master.id}:${seal(master.key, dataKey, dataKeyAad(master.id, aggregateId))}`

export const unwrapDataKey = (master: MasterKey, wrapped: string, aggregateId: string): Buffer => {
  const separator = wrapped.indexOf(':')
  const keyId = wrapped.slice(0, separator)
  if (separator < 0 || keyId !== master.id) throw new Error('Data key was wrapped by another master key')
  return open(master.key, wrapped.slice(separator + 1), dataKeyAad(keyId, aggregateId))
}

const dataKeyAad = (keyId: string, aggregateId: string): string => `data-key:${keyId}:${aggregateId}`

/** Values are bound to their aggregate and to the version of the event that carries them. */
export const valueAad = (aggregateId: string, version: number): string => `value:${aggregateId}:${version}`

/** A cipher over one data key, for values of one aggregate. */
export const cipherFor = (dataKey: Buffer, aggregateId: string): SecretCipher =>
  Object.freeze({
    encrypt: (plaintext: string, version: number) => seal(dataKey, plaintext, valueAad(aggregateId, version)),
    decrypt: (ciphertext: string, version: number) =>
      open(dataKey, ciphertext, valueAad(aggregateId, version)).toString('utf8'),
  })

// SECURITY: once the data key is shredded there is nothing to decrypt with; every use says so
// with a typed error instead of returning null or a placeholder.
const shreddedCipher: SecretCipher = Object.freeze({
  encrypt: () => {
    throw new DataKeyMissingError()
  },
  decrypt: () => {
    throw new DataKeyMissingError()
  },
})

/**
 * The cipher of one aggregate, from its wrapped data key in the secrets manager. It never
 * creates a key: keys are created only for a new incarnation, before its first command.
 */
export const loadCipher = async (
  master: MasterKey,
  store: DataKeyStore,
  aggregateId: string,
): Promise<SecretCipher> => cipherFromWrapped(master, await store.getSecret(aggregateId), aggregateId)

/**
 * The cipher of one aggregate from its wrapped data key as already read (null or undefined:
 * the key was shredded, or never stored). Unwrapping is one AES-GCM open.
 */
export const cipherFromWrapped = (
  master: MasterKey,
  wrapped: string | null | undefined,
  aggregateId: string,
): SecretCipher => {
  if (wrapped === null || wrapped === undefined) return shreddedCipher
  return cipherFor(unwrapDataKey(master, wrapped, aggregateId), aggregateId)
}

/** Constant-time comparison of two strings of any length (compares their digests). */
export const constantTimeEqual = (a: string, b: string): boolean => {
  const left = crypto.createHash('sha256').update(a, 'utf8').digest()
  const right = crypto.createHash('sha256').update(b, 'utf8').digest()
  return crypto.timingSafeEqual(left, right)
}

/** Random text for ids and credentials, from the operating system's CSPRNG. */
export const randomText = (alphabet: string, length: number): string => {
  let out = ''
  while (out.length < length) {
    for (const byte of crypto.randomBytes(length)) {
      // Rejection sampling keeps every character equally likely.
      if (byte < 256 - (256 % alphabet.length) && out.length < length) out += alphabet[byte % alphabet.length]
    }
  }
  return out
}
