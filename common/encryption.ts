import crypto from 'node:crypto'
import { DataKeyMissingError, MasterKeyUnavailableError } from './errors'

/**
 * The one place that touches keys and ciphers.
 *
 * The key hierarchy: every secret incarnation (aggregate) has its own random 256-bit data key,
 * stored in the event store's secrets manager only wrapped (AES-256-GCM) by a shard key; shard
 * keys never enter PostgreSQL: they live in a key store whose delete destroys bytes, wrapped by
 * a master key. Values are AES-256-GCM under the data key, padded to a bucket, with the
 * aggregate id and event version as associated data, so a ciphertext cannot be moved to another
 * secret or another version unnoticed. A delete nulls the data key; PostgreSQL keeps the old
 * bytes (WAL, dead tuples), so the shredder then retires the shard key they were wrapped under:
 * from then on nothing the store ever wrote opens the deleted values (app/keys/shredder.ts).
 */

const ALGORITHM = 'aes-256-gcm'
const IV_BYTES = 12
const TAG_BYTES = 16
const FORMAT = 'v1'
/** The format of a padded value (`padValue`); keys and client secrets stay v1. */
const PADDED = 'v2'

/** The key-encryption key with its id; the id travels with every wrapped key. */
export type MasterKey = Readonly<{ id: string; key: Buffer }>

/** What the Secret aggregate's commands receive to encrypt and decrypt values. */
export type SecretCipher = Readonly<{
  encrypt: (plaintext: string, version: number) => string
  decrypt: (ciphertext: string, version: number) => string
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

/** AES-256-GCM; the result is `v1.iv.ciphertext.tag` in base64url (`v2` for padded values). */
export const seal = (key: Buffer, plaintext: string | Buffer, associatedData: string, format = FORMAT): string => {
  const iv = crypto.randomBytes(IV_BYTES)
  const cipher = crypto.createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(Buffer.from(associatedData, 'utf8'))
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return [format, b64(iv), b64(body), b64(cipher.getAuthTag())].join('.')
}

/** Opens what `seal` made; any tampering, wrong key or wrong associated data throws. */
export const open = (key: Buffer, sealed: string, associatedData: string): Buffer => {
  const parts = sealed.split('.')
  if (parts.length !== 4 || (parts[0] !== FORMAT && parts[0] !== PADDED)) throw new Error('Unknown ciphertext format')
  const [, iv, body, tag] = parts.map((part) => Buffer.from(part, 'base64url'))
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('Malformed ciphertext')
  const decipher = crypto.createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES })
  decipher.setAAD(Buffer.from(associatedData, 'utf8'))
  decipher.setAuthTag(tag)
  return Buffer.concat([decipher.update(body), decipher.final()])
}

/** The master keys a process holds: `current` wraps everything new; the others only unwrap. */
export type MasterKeyRing = Readonly<{ current: MasterKey; keys: readonly MasterKey[] }>

export const masterKeyRing = (current: MasterKey, previous: readonly MasterKey[] = []): MasterKeyRing =>
  Object.freeze({ current, keys: Object.freeze([current, ...previous.filter((key) => key.id !== current.id)]) })

const ringKey = (ring: MasterKeyRing, id: string): MasterKey => {
  const found = ring.keys.find((key) => key.id === id)
  if (found === undefined) throw new MasterKeyUnavailableError(id)
  return found
}

/** A shard key as the hierarchy uses it: 32 bytes, named by shard and generation. */
export type ShardKey = Readonly<{ shard: number; generation: number; key: Buffer }>

const shardKeyAad = (masterKeyId: string, shard: number, generation: number) => `shard-key:${masterKeyId}:${shard}:${generation}`

/** A shard key for the key store: `{masterKeyId}:{sealed}`, bound to its shard and generation. */
export const wrapShardKey = (master: MasterKey, shardKey: ShardKey): string =>
  `${master.id}:${seal(master.key, shardKey.key, shardKeyAad(master.id, shardKey.shard, shardKey.generation))}`

/** The master key id a wrapped shard key (or client secret) names. */
export const wrappingKeyId = (wrapped: string): string => wrapped.slice(0, Math.max(0, wrapped.indexOf(':')))

export const unwrapShardKey = (ring: MasterKeyRing, wrapped: string, shard: number, generation: number): ShardKey => {
  const keyId = wrappingKeyId(wrapped)
  const master = ringKey(ring, keyId)
  const key = open(master.key, wrapped.slice(keyId.length + 1), shardKeyAad(keyId, shard, generation))
  return Object.freeze({ shard, generation, key })
}

const SHARD_WRAP = 'sk1'

/** Where a wrapped data key points: a shard key (today's format), or a master key (before the hierarchy). */
export type DataKeyWrapping =
  | Readonly<{ kind: 'shard'; shard: number; generation: number }>
  | Readonly<{ kind: 'master'; masterKeyId: string }>

export const dataKeyWrapping = (wrapped: string): DataKeyWrapping => {
  const parts = wrapped.split(':', 4)
  if (parts[0] === SHARD_WRAP && parts.length === 4) return { kind: 'shard', shard: Number(parts[1]), generation: Number(parts[2]) }
  return { kind: 'master', masterKeyId: parts[0] }
}

const shardDataKeyAad = (shard: number, generation: number, aggregateId: string) =>
  `data-key:${SHARD_WRAP}:${shard}:${generation}:${aggregateId}`

/** A data key for reSolve's secrets table: `sk1:{shard}:{generation}:{sealed}`, bound to its aggregate. */
export const wrapDataKey = (shardKey: ShardKey, dataKey: Buffer, aggregateId: string): string => {
  const { shard, generation } = shardKey
  return `${SHARD_WRAP}:${shard}:${generation}:${seal(shardKey.key, dataKey, shardDataKeyAad(shard, generation, aggregateId))}`
}

export const unwrapDataKey = (shardKey: ShardKey, wrapped: string, aggregateId: string): Buffer => {
  const { shard, generation } = shardKey
  const prefix = `${SHARD_WRAP}:${shard}:${generation}:`
  if (!wrapped.startsWith(prefix)) throw new Error('Data key was wrapped by another shard key')
  return open(shardKey.key, wrapped.slice(prefix.length), shardDataKeyAad(shard, generation, aggregateId))
}

/**
 * A data key wrapped by the master key directly, as stores made before the key hierarchy hold
 * them: read once, at start, to re-wrap under a shard key (store/keys/legacy-migration.ts).
 */
export const unwrapLegacyDataKey = (ring: MasterKeyRing, wrapped: string, aggregateId: string): Buffer => {
  const keyId = wrappingKeyId(wrapped)
  return open(ringKey(ring, keyId).key, wrapped.slice(keyId.length + 1), `data-key:${keyId}:${aggregateId}`)
}

/** A client secret sealed for storage under a key derived from the current master key: `{id}:{sealed}`. */
export const sealClientSecret = (ring: MasterKeyRing, clientId: string, secret: string): string =>
  `${ring.current.id}:${seal(deriveKey(ring.current, 'client-secrets'), secret, `client:${clientId}`)}`

/** Opens a sealed client secret; one without a key id predates the ring and is tried with every key. */
export const openClientSecret = (ring: MasterKeyRing, clientId: string, sealed: string): string => {
  const keyId = wrappingKeyId(sealed)
  const aad = `client:${clientId}`
  if (keyId !== '') return open(deriveKey(ringKey(ring, keyId), 'client-secrets'), sealed.slice(keyId.length + 1), aad).toString('utf8')
  for (const master of ring.keys) {
    try {
      return open(deriveKey(master, 'client-secrets'), sealed, aad).toString('utf8')
    } catch {
      // Another key of the ring may have sealed it.
    }
  }
  throw new MasterKeyUnavailableError('(unlabelled)')
}

/** Values are bound to their aggregate and to the version of the event that carries them. */
export const valueAad = (aggregateId: string, version: number): string => `value:${aggregateId}:${version}`

const LENGTH_BYTES = 4
const SMALLEST_BUCKET = 256
const LARGEST_DOUBLING = 4096

/**
 * SECURITY: a value is padded before encryption to a bucket (256, 512, ... 4,096 bytes, then
 * multiples of 4,096), so a ciphertext tells only the bucket, not a password's exact length.
 * The plaintext is `length (4 bytes, big-endian) | value | zeros`.
 */
export const padValue = (value: string): Buffer => {
  const bytes = Buffer.from(value, 'utf8')
  const needed = bytes.length + LENGTH_BYTES
  let size = SMALLEST_BUCKET
  while (size < needed && size < LARGEST_DOUBLING) size *= 2
  if (size < needed) size = Math.ceil(needed / LARGEST_DOUBLING) * LARGEST_DOUBLING
  const padded = Buffer.alloc(size)
  padded.writeUInt32BE(bytes.length, 0)
  bytes.copy(padded, LENGTH_BYTES)
  return padded
}

export const unpadValue = (padded: Buffer): string => {
  const length = padded.length >= LENGTH_BYTES ? padded.readUInt32BE(0) : -1
  if (length < 0 || length > padded.length - LENGTH_BYTES) throw new Error('Malformed padded value')
  return padded.subarray(LENGTH_BYTES, LENGTH_BYTES + length).toString('utf8')
}

/** A cipher over one data key, for values of one aggregate: writes padded values, reads both formats. */
export const cipherFor = (dataKey: Buffer, aggregateId: string): SecretCipher =>
  Object.freeze({
    encrypt: (plaintext: string, version: number) => seal(dataKey, padValue(plaintext), valueAad(aggregateId, version), PADDED),
    decrypt: (ciphertext: string, version: number) => {
      const opened = open(dataKey, ciphertext, valueAad(aggregateId, version))
      return ciphertext.startsWith(`${PADDED}.`) ? unpadValue(opened) : opened.toString('utf8')
    },
  })

// SECURITY: once the data key is shredded there is nothing to decrypt with; every use says so
// with a typed error instead of returning null or a placeholder.
export const shreddedCipher: SecretCipher = Object.freeze({
  encrypt: () => {
    throw new DataKeyMissingError()
  },
  decrypt: () => {
    throw new DataKeyMissingError()
  },
})

/** Constant-time comparison of two strings of any length (compares their digests). */
export const constantTimeEqual = (a: string, b: string): boolean => {
  const left = crypto.createHash('sha256').update(a, 'utf8').digest()
  const right = crypto.createHash('sha256').update(b, 'utf8').digest()
  return crypto.timingSafeEqual(left, right)
}

/** An HMAC-SHA256 of `text` under `key` (base64url): what makes an opaque token tamper-evident. */
export const macOf = (key: Buffer, text: string): string => crypto.createHmac('sha256', key).update(text, 'utf8').digest('base64url')

/** Whether `mac` is the HMAC of `text` under `key`, compared in constant time. */
export const macMatches = (key: Buffer, text: string, mac: string): boolean => constantTimeEqual(macOf(key, text), mac)

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
