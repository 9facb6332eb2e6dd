import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { parseSlotName, slotName, type KeySlot, type KeyStore } from './key-store'

/** Every slot file has this size, so overwriting it in place covers every byte it ever held. */
export const SLOT_BYTES = 512
const SUFFIX = '.key'
const IDENTITY_FILE = 'keystore.id'

const fsyncPath = async (file: string, flags: string): Promise<void> => {
  const handle = await fs.open(file, flags)
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

const writeDurably = async (file: string, content: Buffer): Promise<void> => {
  const handle = await fs.open(file, 'w', 0o600)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await fsyncPath(path.dirname(file), 'r')
}

const missing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT'

/**
 * The default key store: one fixed-size file per slot in a directory (VAULT_KEYSTORE_DIR).
 * SECURITY: a retired slot is overwritten in place with random bytes, then zeros, each pass
 * fsynced, and only then unlinked, so the file system holds no readable copy of it. (A
 * copy-on-write file system or an SSD's wear levelling may still keep old blocks: README.)
 */
export const openFileKeyStore = async (dir: string): Promise<KeyStore> => {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 })
  const fileOf = (slot: KeySlot) => path.join(dir, `${slotName(slot)}${SUFFIX}`)

  const identity = async () => {
    const file = path.join(dir, IDENTITY_FILE)
    try {
      return (await fs.readFile(file, 'utf8')).trim()
    } catch (error) {
      if (!missing(error)) throw error
    }
    const id = crypto.randomUUID()
    await writeDurably(file, Buffer.from(`${id}\n`))
    return id
  }

  const write = async (slot: KeySlot, wrapped: string) => {
    const content = Buffer.alloc(SLOT_BYTES)
    const text = Buffer.from(`${wrapped}\n`, 'utf8')
    if (text.length > SLOT_BYTES) throw new Error('A wrapped shard key does not fit its slot')
    text.copy(content)
    await writeDurably(fileOf(slot), content)
  }

  const read = async (slot: KeySlot) => {
    try {
      const content = await fs.readFile(fileOf(slot))
      const end = content.indexOf(0x0a)
      return end <= 0 ? null : content.subarray(0, end).toString('utf8')
    } catch (error) {
      if (missing(error)) return null
      throw error
    }
  }

  const list = async () => {
    const names = await fs.readdir(dir)
    return names.flatMap((name) => {
      const slot = name.endsWith(SUFFIX) ? parseSlotName(name.slice(0, -SUFFIX.length)) : null
      return slot === null ? [] : [slot]
    })
  }

  const destroy = async (slot: KeySlot) => {
    const file = fileOf(slot)
    let handle: fs.FileHandle
    try {
      handle = await fs.open(file, 'r+')
    } catch (error) {
      if (missing(error)) return
      throw error
    }
    try {
      const { size } = await handle.stat()
      for (const fill of [crypto.randomBytes(Math.max(size, SLOT_BYTES)), Buffer.alloc(Math.max(size, SLOT_BYTES))]) {
        await handle.write(fill, 0, fill.length, 0)
        await handle.sync()
      }
    } finally {
      await handle.close()
    }
    await fs.unlink(file).catch((error) => {
      if (!missing(error)) throw error
    })
    await fsyncPath(dir, 'r')
  }

  return Object.freeze({ kind: 'files' as const, erases: true, identity, write, read, list, destroy })
}
