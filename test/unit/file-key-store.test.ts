import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { generateKey, masterKeyFrom, wrapShardKey } from '../../common/encryption'
import { openFileKeyStore, SLOT_BYTES } from '../../store/keys/file-key-store'
import type { KeySlot } from '../../store/keys/key-store'

const master = masterKeyFrom(crypto.randomBytes(32))
const slotOf = (shard: number, generation: number, masterKeyId = master.id): KeySlot => ({ shard, generation, masterKeyId })
/** A wrapped shard key exactly as the key hierarchy writes one. */
const wrappedFor = (slot: KeySlot) => wrapShardKey(master, { shard: slot.shard, generation: slot.generation, key: generateKey() })
const bySlot = (a: KeySlot, b: KeySlot) => a.shard - b.shard || a.generation - b.generation || a.masterKeyId.localeCompare(b.masterKeyId)

describe('the file key store', () => {
  let root: string
  let dir: string
  const fileOf = (slot: KeySlot) => path.join(dir, `shard-${slot.shard}-${slot.generation}-${slot.masterKeyId}.key`)

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'file-key-store-'))
    dir = path.join(root, 'keys')
  })

  afterEach(() => fs.rmSync(root, { recursive: true, force: true }))

  it('creates its directory, readable by its owner only', async () => {
    const store = await openFileKeyStore(dir)
    expect(store).toMatchObject({ kind: 'files', erases: true })
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700)
  })

  it('reads back what it wrote to a slot, and nothing from a slot it never wrote', async () => {
    const store = await openFileKeyStore(dir)
    const slot = slotOf(3, 1)
    const wrapped = wrappedFor(slot)
    await store.write(slot, wrapped)
    expect(await store.read(slot)).toBe(wrapped)
    expect(await store.read(slotOf(3, 2))).toBeNull()
    expect(await store.read(slotOf(3, 1, '0123456789abcdef'))).toBeNull()
  })

  it('answers the newest write to a slot', async () => {
    const store = await openFileKeyStore(dir)
    const slot = slotOf(3, 1)
    await store.write(slot, wrappedFor(slot))
    const newer = wrappedFor(slot)
    await store.write(slot, newer)
    expect(await store.read(slot)).toBe(newer)
  })

  it('keeps each slot in a file of exactly 512 bytes named by its slot, readable by its owner only', async () => {
    const store = await openFileKeyStore(dir)
    const slot = slotOf(12, 4)
    await store.write(slot, wrappedFor(slot))
    const stat = fs.statSync(fileOf(slot))
    expect(SLOT_BYTES).toBe(512)
    expect(stat.size).toBe(512)
    expect(stat.mode & 0o777).toBe(0o600)
  })

  it('refuses a wrapped key too long for its slot', async () => {
    const store = await openFileKeyStore(dir)
    await expect(store.write(slotOf(1, 1), 'x'.repeat(SLOT_BYTES))).rejects.toThrow('does not fit')
    expect(await store.read(slotOf(1, 1))).toBeNull()
  })

  it('lists every slot it holds, and ignores other files in its directory', async () => {
    const store = await openFileKeyStore(dir)
    const other = masterKeyFrom(crypto.randomBytes(32)).id
    const slots = [slotOf(0, 1), slotOf(0, 2), slotOf(7, 1), slotOf(7, 1, other)]
    for (const slot of slots) await store.write(slot, wrappedFor(slot))
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a key')
    fs.writeFileSync(path.join(dir, 'shard-1-1-not-hex.key'), 'not a slot')
    expect((await store.list()).sort(bySlot)).toEqual([...slots].sort(bySlot))
  })

  it('keeps its identity across re-opening, and another directory has another identity', async () => {
    const identity = await (await openFileKeyStore(dir)).identity()
    expect(identity).toMatch(/^[0-9a-f-]{36}$/)
    expect(await (await openFileKeyStore(dir)).identity()).toBe(identity)
    expect(await (await openFileKeyStore(path.join(root, 'other-keys'))).identity()).not.toBe(identity)
  })

  it('keeps what it wrote across re-opening', async () => {
    const slot = slotOf(5, 3)
    const wrapped = wrappedFor(slot)
    await (await openFileKeyStore(dir)).write(slot, wrapped)
    const reopened = await openFileKeyStore(dir)
    expect(await reopened.read(slot)).toBe(wrapped)
    expect(await reopened.list()).toEqual([slot])
  })

  it('destroys a slot by overwriting its bytes in place before removing it', async () => {
    const store = await openFileKeyStore(dir)
    const slot = slotOf(3, 1)
    const kept = slotOf(3, 2)
    const wrapped = wrappedFor(slot)
    await store.write(slot, wrapped)
    await store.write(kept, wrappedFor(kept))
    // A second name for the same inode: it still reaches the file's blocks after the unlink.
    const link = path.join(root, 'second-link')
    fs.linkSync(fileOf(slot), link)
    expect(fs.readFileSync(link, 'utf8')).toContain(wrapped)

    await store.destroy(slot)

    expect(fs.existsSync(fileOf(slot))).toBe(false)
    expect(await store.read(slot)).toBeNull()
    expect(await store.list()).toEqual([kept])
    const left = fs.readFileSync(link)
    expect(left.length).toBe(SLOT_BYTES)
    expect(left.toString('latin1')).not.toContain(wrapped)
    expect(left.toString('latin1')).not.toContain(wrapped.slice(wrapped.indexOf(':') + 1, wrapped.indexOf(':') + 25))
    expect(left.equals(Buffer.alloc(SLOT_BYTES))).toBe(true)
  })

  it('does nothing when asked to destroy a slot it does not hold', async () => {
    const store = await openFileKeyStore(dir)
    const kept = slotOf(3, 2)
    await store.write(kept, wrappedFor(kept))
    await expect(store.destroy(slotOf(3, 1))).resolves.toBeUndefined()
    await store.destroy(kept)
    await expect(store.destroy(kept)).resolves.toBeUndefined()
    expect(await store.list()).toEqual([])
  })
})
