import fs from 'node:fs'
import path from 'node:path'
import {
  dataKeyWrapping,
  masterKeyFrom,
  masterKeyRing,
  unwrapDataKey,
  unwrapLegacyDataKey,
  unwrapShardKey,
  type MasterKeyRing,
} from '../../common/encryption'
import type { VaultSetup } from './vault-process'

/** The key store directory of a test vault (VAULT_KEYSTORE_DIR, or the data directory's `keys`). */
export const keyStoreDirOf = (setup: VaultSetup): string => setup.env.VAULT_KEYSTORE_DIR ?? path.join(setup.dataDir, 'keys')

/** The master keys a test vault was given. */
export const ringOf = (setup: VaultSetup): MasterKeyRing => {
  const previous = (setup.env.VAULT_MASTER_KEY_PREVIOUS ?? '').split(',').filter((key) => key !== '')
  return masterKeyRing(
    masterKeyFrom(Buffer.from(setup.env.VAULT_MASTER_KEY, 'base64')),
    previous.map((key) => masterKeyFrom(Buffer.from(key, 'base64'))),
  )
}

/**
 * Unwraps a data key as stored in reSolve's secrets table, the way someone holding the master
 * keys and the key store would: the shard key from its slot file, then the data key. Throws
 * when the shard key is gone (retired by the shredder) or a key does not open.
 */
export const dataKeyOpener = (setup: VaultSetup) => {
  const ring = ringOf(setup)
  const dir = keyStoreDirOf(setup)
  return (wrapped: string, aggregateId: string): Buffer => {
    const wrapping = dataKeyWrapping(wrapped)
    if (wrapping.kind === 'master') return unwrapLegacyDataKey(ring, wrapped, aggregateId)
    for (const master of ring.keys) {
      const file = path.join(dir, `shard-${wrapping.shard}-${wrapping.generation}-${master.id}.key`)
      if (!fs.existsSync(file)) continue
      const content = fs.readFileSync(file)
      const shardKey = unwrapShardKey(ring, content.subarray(0, content.indexOf(0x0a)).toString('utf8'), wrapping.shard, wrapping.generation)
      return unwrapDataKey(shardKey, wrapped, aggregateId)
    }
    throw new Error(`shard key ${wrapping.shard}/${wrapping.generation} is not in the key store`)
  }
}
