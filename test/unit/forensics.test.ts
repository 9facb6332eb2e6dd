import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { attack, masterKeyIdOf, padded, scanDirs, sealWith, walkFiles } from '../helpers/forensics'

/**
 * The forensic toolkit on files made here with node:crypto in the store's formats: a key store
 * slot file, a heap-like binary file with wrapped data keys and values among random bytes, a
 * legacy (master-wrapped) data key. It must find exactly what is there and open exactly what the
 * keys in hand open: nothing once the shard key file is gone or with another master key.
 */

const randomAlnum = (n: number) => crypto.randomBytes(n).toString('base64url').slice(0, n)

type World = {
  root: string
  master: Buffer
  masterId: string
  slotFile: string
  /** aggregate id -> [version, plaintext] written. */
  written: Map<string, Array<[number, string]>>
  sk1Ids: string[]
  legacyId: string
}

const build = (): World => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-forensics-unit-'))
  const keys = path.join(root, 'keys')
  const heap = path.join(root, 'pg', 'base', '5')
  const wal = path.join(root, 'pg', 'pg_wal')
  for (const dir of [keys, heap, wal]) fs.mkdirSync(dir, { recursive: true })

  const master = crypto.randomBytes(32)
  const masterId = masterKeyIdOf(master)
  const [shard, generation] = [17, 3]
  const shardKey = crypto.randomBytes(32)

  // The key store slot: `{id}:{sealed}\n` then zeros, 512 bytes; and the identity file beside it.
  const slotFile = path.join(keys, `shard-${shard}-${generation}-${masterId}.key`)
  const slot = Buffer.alloc(512)
  Buffer.from(`${masterId}:${sealWith(master, shardKey, `shard-key:${masterId}:${shard}:${generation}`)}\n`).copy(slot)
  fs.writeFileSync(slotFile, slot)
  fs.writeFileSync(path.join(keys, 'keystore.id'), `${crypto.randomUUID()}\n`)

  const written = new Map<string, Array<[number, string]>>()
  const chunks: Buffer[] = []
  // Random bytes on both sides of every text, alphanumeric ones included (they run into the
  // base64url parts, as the bytes of a neighbouring tuple may).
  const noise = () => Buffer.concat([crypto.randomBytes(37), Buffer.from(randomAlnum(5), 'latin1')])
  const embed = (text: string) => chunks.push(noise(), Buffer.from(text, 'latin1'), Buffer.from(randomAlnum(3), 'latin1'))

  const sk1Ids = ['agg-one', 'agg-two']
  for (const aggregateId of sk1Ids) {
    const dataKey = crypto.randomBytes(32)
    embed(`sk1:${shard}:${generation}:${sealWith(shardKey, dataKey, `data-key:sk1:${shard}:${generation}:${aggregateId}`)}`)
    const versions: Array<[number, string]> = []
    for (let version = 1; version <= 3; version++) {
      const plaintext = JSON.stringify({ pwd: `secret-${aggregateId}-${version}-${randomAlnum(8)}` })
      versions.push([version, plaintext])
      // The value in an event's JSON payload, twice (heap and a WAL copy).
      const value = `{"value":"${sealWith(dataKey, padded(plaintext), `value:${aggregateId}:${version}`, 'v2')}"}`
      embed(value)
      embed(value)
    }
    written.set(aggregateId, versions)
  }

  // A legacy data key, wrapped by the master key directly, with a v1 value.
  const legacyId = 'agg-legacy'
  const legacyKey = crypto.randomBytes(32)
  embed(`${masterId}:${sealWith(master, legacyKey, `data-key:${masterId}:${legacyId}`)}`)
  const legacyPlain = JSON.stringify({ pwd: `legacy-${randomAlnum(8)}` })
  embed(sealWith(legacyKey, legacyPlain, `value:${legacyId}:1`))
  written.set(legacyId, [[1, legacyPlain]])

  // A value of an aggregate the attack is not told about, and garbage that looks close.
  const strangerKey = crypto.randomBytes(32)
  embed(`sk1:${shard}:${generation}:${sealWith(shardKey, strangerKey, `data-key:sk1:${shard}:${generation}:agg-stranger`)}`)
  embed(sealWith(strangerKey, padded('{"pwd":"stranger"}'), 'value:agg-stranger:1', 'v2'))
  embed(`v1.${randomAlnum(15)}.${randomAlnum(40)}.${randomAlnum(22)}`) // IV too short
  embed(`v2.${randomAlnum(16)}.${randomAlnum(40)}.${randomAlnum(20)}"`) // tag too short (then a quote)

  const content = Buffer.concat(chunks)
  const half = Math.floor(content.length / 2)
  fs.writeFileSync(path.join(heap, '16384'), content)
  fs.writeFileSync(path.join(wal, '000000010000000000000001'), Buffer.concat([crypto.randomBytes(4096), content.subarray(half)]))
  return { root, master, masterId, slotFile, written, sk1Ids, legacyId }
}

describe('the forensic toolkit', () => {
  let world: World
  beforeEach(() => {
    world = build()
  })
  afterEach(() => fs.rmSync(world.root, { recursive: true, force: true }))

  const everything = (w: World) => [...w.sk1Ids, w.legacyId]
  const sorted = (rows: Array<[string, number, string]>) => rows.sort((a, b) => a[0].localeCompare(b[0]) || a[1] - b[1])
  const recoveredPairs = (values: Array<{ aggregateId: string; version: number; plaintext: string }>) =>
    sorted(values.map((value): [string, number, string] => [value.aggregateId, value.version, value.plaintext]))
  const writtenPairs = (w: World, ids: string[]) =>
    sorted(ids.flatMap((id) => (w.written.get(id) ?? []).map(([v, p]): [string, number, string] => [id, v, p])))

  it('walks every file, as bytes, and finds each candidate once however many copies there are', () => {
    const files = walkFiles([world.root])
    expect(files.map((file) => path.relative(world.root, file)).sort()).toEqual(
      ['keys/keystore.id', `keys/${path.basename(world.slotFile)}`, 'pg/base/5/16384', 'pg/pg_wal/000000010000000000000001'].sort(),
    )
    const scan = scanDirs([world.root])
    expect(scan.files).toBe(4)
    expect(scan.shardWrapped.size).toBe(3) // two, and the stranger's
    expect(scan.masterSealed.size).toBe(2) // the slot's shard key and the legacy data key
    expect([...scan.masterSealed.values()].filter((c) => c.slot !== null)).toHaveLength(1)
    // 6 v2 values, the legacy v1 value, the stranger's: the malformed ones are refused.
    expect(scan.values.size).toBe(8)
    expect(Math.max(...[...scan.values.values()].map((c) => c.copies))).toBeGreaterThanOrEqual(2)
  })

  it('recovers the shard key, every data key and every value of every version', () => {
    const result = attack({ dirs: [world.root], masterKeys: [world.master], aggregateIds: everything(world), maxVersion: 5 })
    expect(result.shardKeys).toBe(1)
    expect(result.dataKeys).toEqual(new Map([...everything(world)].map((id) => [id, 1])))
    expect(recoveredPairs(result.values)).toEqual(writtenPairs(world, everything(world)))
    expect(result.values.find((value) => value.aggregateId === world.legacyId)).toMatchObject({ format: 'v1', dataKeyForm: 'legacy' })
    expect(result.values.find((value) => value.aggregateId === 'agg-one')).toMatchObject({ format: 'v2', dataKeyForm: 'sk1' })
    expect(result.scanned).toMatchObject({ files: 4, wrappedDataKeys: 4, masterSealed: 2, valueCiphertexts: 8 })
    // Where a value was found: the offset of its `v2.` in the file.
    const [first] = result.values.filter((value) => value.aggregateId === 'agg-one')
    expect(fs.readFileSync(first.source.file).toString('latin1', first.source.offset, first.source.offset + 3)).toBe('v2.')
  })

  it('does not open a value under a version other than its own', () => {
    const result = attack({ dirs: [world.root], masterKeys: [world.master], aggregateIds: everything(world), maxVersion: 2 })
    expect(recoveredPairs(result.values)).toEqual(
      writtenPairs(world, everything(world)).filter(([, version]) => version <= 2),
    )
  })

  it('recovers no sk1 data key and no value under it once the shard key file is gone', () => {
    fs.rmSync(world.slotFile)
    const result = attack({ dirs: [world.root], masterKeys: [world.master], aggregateIds: everything(world), maxVersion: 5 })
    expect(result.shardKeys).toBe(0)
    expect([...result.dataKeys.keys()]).toEqual([world.legacyId]) // the master key alone still opens that one
    expect(recoveredPairs(result.values)).toEqual(writtenPairs(world, [world.legacyId]))
    // The wrapped forms are still there: only the key to open them is missing.
    expect(result.scanned.wrappedDataKeys).toBe(4)
  })

  it('recovers nothing with another master key', () => {
    const result = attack({ dirs: [world.root], masterKeys: [crypto.randomBytes(32)], aggregateIds: everything(world), maxVersion: 5 })
    expect([result.shardKeys, result.dataKeys.size, result.values.length]).toEqual([0, 0, 0])
  })

  it('finds the shard key with a second master key in hand, and a copy found outside its slot file', () => {
    const copy = path.join(world.root, 'backup.bin')
    fs.writeFileSync(copy, Buffer.concat([crypto.randomBytes(100), fs.readFileSync(world.slotFile).subarray(0, 200)]))
    fs.rmSync(world.slotFile)
    const result = attack({
      dirs: [world.root],
      masterKeys: [crypto.randomBytes(32), world.master],
      aggregateIds: everything(world),
      maxVersion: 5,
    })
    expect(result.shardKeys).toBe(1)
    expect(result.recoveredShardKeys[0]).toMatchObject({ shard: 17, generation: 3, source: { file: copy } })
    expect(recoveredPairs(result.values)).toEqual(writtenPairs(world, everything(world)))
  })
})
