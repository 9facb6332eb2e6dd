import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/**
 * An attacker's toolkit: what someone holding a copy of every file the vault's store ever wrote
 * (PostgreSQL's heap and WAL, the key store directory) and every master key can recover.
 *
 * SECURITY (of the test): written with node:crypto directly, from the published formats only,
 * and never with the product's common/encryption.ts, so that a bug in the code under test cannot
 * hide itself from the attack. The formats:
 *
 * - sealed text `v1.{iv}.{ciphertext}.{tag}` (or `v2.` for padded values): AES-256-GCM, 12-byte
 *   IV, 16-byte tag, each part base64url without padding;
 * - master key id: the first 16 hex characters of HMAC-SHA256(master key, "event-vault:master-key-id");
 * - shard key (key store slot file `shard-{shard}-{generation}-{masterKeyId}.key`, 512 bytes):
 *   `{masterKeyId}:{sealed}\n` then zeros, sealed under the master key with the associated data
 *   `shard-key:{masterKeyId}:{shard}:{generation}`;
 * - data key (`eventstore.secrets`): `sk1:{shard}:{generation}:{sealed}` under the shard key,
 *   associated data `data-key:sk1:{shard}:{generation}:{aggregateId}`; or, in stores made before
 *   the key hierarchy, `{masterKeyId}:{sealed}` under the master key, `data-key:{masterKeyId}:{aggregateId}`;
 * - value (event payloads): sealed under the data key, associated data `value:{aggregateId}:{version}`;
 *   `v1` plaintext is the JSON text, `v2` is a 4-byte big-endian length, the JSON text, zeros.
 */

const IV_BYTES = 12
const TAG_BYTES = 16
const KEY_BYTES = 32

/** Where a candidate was first seen: the file and the byte offset of its `v1.`/`v2.`. */
export type Source = Readonly<{ file: string; offset: number }>

export type Sealed = Readonly<{ format: 'v1' | 'v2'; iv: Buffer; body: Buffer; tag: Buffer; text: string }>

/** A candidate found in the files: where first, how many copies, in which files. */
type Candidate<T> = T & { source: Source; copies: number; files: Set<string> }

/** `{masterKeyId}:{sealed}`: a wrapped shard key, a legacy wrapped data key, or a client secret. */
export type MasterSealed = Candidate<{ masterKeyId: string; sealed: Sealed; slot: { shard: number; generation: number } | null }>
/** `sk1:{shard}:{generation}:{sealed}`: a data key wrapped by a shard key. */
export type ShardWrapped = Candidate<{ shard: number; generation: number; sealed: Sealed }>
/** A sealed text in no key context: a value ciphertext (or anything else sealed). */
export type ValueCiphertext = Candidate<{ sealed: Sealed }>

export type Scan = {
  files: number
  bytes: number
  /** By their full text, so the copies heap and WAL keep of one wrap count once. */
  masterSealed: Map<string, MasterSealed>
  shardWrapped: Map<string, ShardWrapped>
  values: Map<string, ValueCiphertext>
}

/** Every regular file under these directories, recursively (sockets, devices and FIFOs skipped). */
export const walkFiles = (dirs: readonly string[]): string[] => {
  const out: string[] = []
  const seen = new Set<string>()
  const visit = (file: string) => {
    let stat: fs.Stats
    let real: string
    try {
      stat = fs.statSync(file) // follows symlinks (a tablespace or pg_wal may be one)
      real = fs.realpathSync(file)
    } catch {
      return // gone meanwhile, or a dangling link
    }
    if (seen.has(real)) return
    seen.add(real)
    if (stat.isDirectory()) {
      let names: string[]
      try {
        names = fs.readdirSync(file)
      } catch {
        return
      }
      for (const name of names.sort()) visit(path.join(file, name))
    } else if (stat.isFile()) out.push(file)
  }
  for (const dir of dirs) visit(dir)
  return out
}

const B64 = '[A-Za-z0-9_-]'
// The IV is exactly 16 characters between dots; the ciphertext a maximal run up to the next dot;
// the tag the first 22 characters of its run (what follows may be any adjacent byte of a page).
const SEALED = new RegExp(`v([12])\\.(${B64}{16})\\.(${B64}+)\\.(${B64}{22})`, 'g')
const SK1_BEFORE = /sk1:(\d{1,6}):(\d{1,9}):$/
const MASTER_BEFORE = /([0-9a-f]{16}):$/
const SLOT_FILE = /^shard-(\d+)-(\d+)-([0-9a-f]{16})\.key$/

const decodeSealed = (format: string, iv: string, body: string, tag: string): Sealed | null => {
  const sealed = {
    format: format === '1' ? ('v1' as const) : ('v2' as const),
    iv: Buffer.from(iv, 'base64url'),
    body: Buffer.from(body, 'base64url'),
    tag: Buffer.from(tag, 'base64url'),
    text: `v${format}.${iv}.${body}.${tag}`,
  }
  return sealed.iv.length === IV_BYTES && sealed.tag.length === TAG_BYTES && sealed.body.length > 0 ? sealed : null
}

const remember = <T>(map: Map<string, Candidate<T>>, text: string, make: () => T, source: Source) => {
  const known = map.get(text)
  if (known === undefined) map.set(text, { ...make(), source, copies: 1, files: new Set([source.file]) })
  else {
    known.copies++
    known.files.add(source.file)
  }
}

/** Adds to a scan every sealed text of one file's bytes, classified by what precedes it. */
export const scanBuffer = (scan: Scan, file: string, content: Buffer): void => {
  scan.files++
  scan.bytes += content.length
  if (content.indexOf('v1.') < 0 && content.indexOf('v2.') < 0) return
  const text = content.toString('latin1') // one character per byte: string offsets are file offsets
  const slotMatch = SLOT_FILE.exec(path.basename(file))
  const slot = slotMatch === null ? null : { shard: Number(slotMatch[1]), generation: Number(slotMatch[2]) }
  SEALED.lastIndex = 0
  for (let match = SEALED.exec(text); match !== null; match = SEALED.exec(text)) {
    const sealed = decodeSealed(match[1], match[2], match[3], match[4])
    if (sealed === null) {
      SEALED.lastIndex = match.index + 1
      continue
    }
    const source = { file, offset: match.index }
    const before = text.slice(Math.max(0, match.index - 24), match.index)
    const sk1 = SK1_BEFORE.exec(before)
    const master = sk1 === null ? MASTER_BEFORE.exec(before) : null
    if (sk1 !== null && sealed.format === 'v1') {
      const [shard, generation] = [Number(sk1[1]), Number(sk1[2])]
      remember(scan.shardWrapped, `sk1:${shard}:${generation}:${sealed.text}`, () => ({ shard, generation, sealed }), source)
    } else if (master !== null && sealed.format === 'v1') {
      remember(scan.masterSealed, `${master[1]}:${sealed.text}`, () => ({ masterKeyId: master[1], sealed, slot }), source)
    } else remember(scan.values, sealed.text, () => ({ sealed }), source)
  }
}

export const emptyScan = (): Scan => ({ files: 0, bytes: 0, masterSealed: new Map(), shardWrapped: new Map(), values: new Map() })

/** Reads every file under the directories (as bytes) and collects every candidate. */
export const scanDirs = (dirs: readonly string[]): Scan => {
  const scan = emptyScan()
  for (const file of walkFiles(dirs)) {
    let content: Buffer
    try {
      content = fs.readFileSync(file)
    } catch {
      continue // gone meanwhile, or unreadable
    }
    scanBuffer(scan, file, content)
  }
  return scan
}

/** AES-256-GCM open; null when the key or the associated data is wrong. */
export const tryOpen = (key: Buffer, sealed: Sealed, aad: string): Buffer | null => {
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: TAG_BYTES })
    decipher.setAAD(Buffer.from(aad, 'utf8'))
    decipher.setAuthTag(sealed.tag)
    return Buffer.concat([decipher.update(sealed.body), decipher.final()])
  } catch {
    return null
  }
}

export const masterKeyIdOf = (key: Buffer): string =>
  crypto.createHmac('sha256', key).update('event-vault:master-key-id').digest('hex').slice(0, 16)

/** The plaintext of a value: v1 is the JSON text; v2 is length-prefixed and zero-padded. */
const valueText = (format: 'v1' | 'v2', opened: Buffer): string | null => {
  if (format === 'v1') return opened.toString('utf8')
  if (opened.length < 4) return null
  const length = opened.readUInt32BE(0)
  return length <= opened.length - 4 ? opened.subarray(4, 4 + length).toString('utf8') : null
}

export type RecoveredValue = Readonly<{
  aggregateId: string
  version: number
  plaintext: string
  format: 'v1' | 'v2'
  /** Where the ciphertext was first seen, and how many copies of it the files hold. */
  source: Source
  copies: number
  /** Where the wrapped data key that opened it was first seen, and its form. */
  dataKeySource: Source
  dataKeyForm: 'sk1' | 'legacy'
}>

export type RecoveredDataKey = Readonly<{ aggregateId: string; key: Buffer; form: 'sk1' | 'legacy'; wrapped: string; source: Source }>

export type AttackResult = {
  /** Distinct shard keys (shard, generation) recovered. */
  shardKeys: number
  /** Distinct data keys recovered, by aggregate id (only ids with at least one). */
  dataKeys: Map<string, number>
  values: RecoveredValue[]
  scanned: {
    files: number
    bytes: number
    /** Distinct wrapped data keys found: `sk1:` ones, and master-sealed texts outside key store slot files. */
    wrappedDataKeys: number
    /** Distinct master-sealed texts found (slot files included). */
    masterSealed: number
    valueCiphertexts: number
  }
  /** The details, for a report of what leaked and from where. */
  recoveredShardKeys: Array<{ shard: number; generation: number; source: Source }>
  recoveredDataKeys: RecoveredDataKey[]
}

export type AttackInput = Readonly<{
  dirs: readonly string[]
  masterKeys: readonly Buffer[]
  aggregateIds: readonly string[]
  /** Values are tried with every version from 1 to this. */
  maxVersion: number
}>

/** Everything a holder of these files and these master keys can open, for these aggregates. */
export const attack = (input: AttackInput): AttackResult => attackScan(scanDirs(input.dirs), input)

export const attackScan = (scan: Scan, { masterKeys, aggregateIds, maxVersion }: Omit<AttackInput, 'dirs'>): AttackResult => {
  // Every (shard, generation) the files name: in a slot file's name or an sk1 prefix.
  const pairs = new Map<string, { shard: number; generation: number }>()
  for (const candidate of [...scan.masterSealed.values(), ...scan.shardWrapped.values()]) {
    const pair = 'shard' in candidate ? candidate : candidate.slot
    if (pair !== null) pairs.set(`${pair.shard}:${pair.generation}`, { shard: pair.shard, generation: pair.generation })
  }

  // Shard keys: every master-sealed text, with every master key, for its slot's (shard,
  // generation) first and then for every pair seen (a copy found outside its slot file).
  const shardKeys = new Map<string, Map<string, Buffer>>()
  const recoveredShardKeys: AttackResult['recoveredShardKeys'] = []
  const addShardKey = (shard: number, generation: number, key: Buffer, source: Source) => {
    const id = `${shard}:${generation}`
    const keys = shardKeys.get(id) ?? new Map<string, Buffer>()
    shardKeys.set(id, keys)
    if (keys.has(key.toString('hex'))) return
    if (keys.size === 0) recoveredShardKeys.push({ shard, generation, source })
    keys.set(key.toString('hex'), key)
  }
  for (const candidate of scan.masterSealed.values()) {
    if (candidate.sealed.body.length !== KEY_BYTES) continue
    for (const master of masterKeys) {
      const tryPair = (shard: number, generation: number) => {
        const key = tryOpen(master, candidate.sealed, `shard-key:${candidate.masterKeyId}:${shard}:${generation}`)
        if (key === null) return false
        addShardKey(shard, generation, key, candidate.source)
        return true
      }
      if (candidate.slot !== null && tryPair(candidate.slot.shard, candidate.slot.generation)) continue
      for (const { shard, generation } of pairs.values()) if (tryPair(shard, generation)) break
    }
  }

  // Data keys: sk1 wraps with every recovered shard key of their pair; master-sealed texts as
  // legacy wraps with every master key.
  const dataKeys = new Map<string, Map<string, RecoveredDataKey>>()
  const addDataKey = (found: RecoveredDataKey) => {
    const keys = dataKeys.get(found.aggregateId) ?? new Map<string, RecoveredDataKey>()
    dataKeys.set(found.aggregateId, keys)
    if (!keys.has(found.key.toString('hex'))) keys.set(found.key.toString('hex'), found)
  }
  for (const [wrapped, candidate] of scan.shardWrapped) {
    if (candidate.sealed.body.length !== KEY_BYTES) continue
    for (const shardKey of shardKeys.get(`${candidate.shard}:${candidate.generation}`)?.values() ?? []) {
      for (const aggregateId of aggregateIds) {
        const key = tryOpen(shardKey, candidate.sealed, `data-key:sk1:${candidate.shard}:${candidate.generation}:${aggregateId}`)
        if (key !== null) addDataKey({ aggregateId, key, form: 'sk1', wrapped, source: candidate.source })
      }
    }
  }
  for (const [wrapped, candidate] of scan.masterSealed) {
    if (candidate.sealed.body.length !== KEY_BYTES) continue
    for (const master of masterKeys) {
      for (const aggregateId of aggregateIds) {
        const key = tryOpen(master, candidate.sealed, `data-key:${candidate.masterKeyId}:${aggregateId}`)
        if (key !== null) addDataKey({ aggregateId, key, form: 'legacy', wrapped, source: candidate.source })
      }
    }
  }

  // Values: every ciphertext with every recovered data key and every version.
  const values: RecoveredValue[] = []
  for (const candidate of scan.values.values()) {
    let opened = false
    for (const [aggregateId, keys] of dataKeys) {
      for (const dataKey of keys.values()) {
        for (let version = 1; version <= maxVersion && !opened; version++) {
          const plain = tryOpen(dataKey.key, candidate.sealed, `value:${aggregateId}:${version}`)
          const plaintext = plain === null ? null : valueText(candidate.sealed.format, plain)
          if (plaintext === null) continue
          opened = true
          values.push({
            aggregateId,
            version,
            plaintext,
            format: candidate.sealed.format,
            source: candidate.source,
            copies: candidate.copies,
            dataKeySource: dataKey.source,
            dataKeyForm: dataKey.form,
          })
        }
        if (opened) break
      }
      if (opened) break
    }
  }
  values.sort((a, b) => a.aggregateId.localeCompare(b.aggregateId) || a.version - b.version)

  const inSlotFile = [...scan.masterSealed.values()].filter((candidate) => candidate.slot !== null).length
  return {
    shardKeys: shardKeys.size,
    dataKeys: new Map([...dataKeys].map(([aggregateId, keys]) => [aggregateId, keys.size])),
    values,
    scanned: {
      files: scan.files,
      bytes: scan.bytes,
      wrappedDataKeys: scan.shardWrapped.size + scan.masterSealed.size - inSlotFile,
      masterSealed: scan.masterSealed.size,
      valueCiphertexts: scan.values.size,
    },
    recoveredShardKeys,
    recoveredDataKeys: [...dataKeys.values()].flatMap((keys) => [...keys.values()]),
  }
}

// The writer's side, for the toolkit's own tests: the same formats, made with node:crypto.

const b64 = (data: Buffer) => data.toString('base64url')

export const sealWith = (key: Buffer, plaintext: Buffer | string, aad: string, format: 'v1' | 'v2' = 'v1'): string => {
  const iv = crypto.randomBytes(IV_BYTES)
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(Buffer.from(aad, 'utf8'))
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return [format, b64(iv), b64(body), b64(cipher.getAuthTag())].join('.')
}

export const padded = (text: string, size = 256): Buffer => {
  const bytes = Buffer.from(text, 'utf8')
  const out = Buffer.alloc(Math.max(size, bytes.length + 4))
  out.writeUInt32BE(bytes.length, 0)
  bytes.copy(out, 4)
  return out
}
