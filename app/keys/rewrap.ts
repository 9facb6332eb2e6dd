import { openClientSecret, sealClientSecret, unwrapShardKey, wrapShardKey } from '../../common/encryption'
import type { Logger } from '../../lib/logger'
import { replaceSealedSecret, secretsNotSealedBy } from '../../store/clients.repository'
import type { Pool } from '../../store/database'
import { lockShard, shardGenerations, unlockShards } from '../../store/keys/shard-keys.repository'
import type { KeyHierarchy } from './key-hierarchy'

/**
 * Online master-key rotation: every shard key and client secret not wrapped by the current
 * master key is wrapped by it, while the vault serves. Data keys are not touched (they are
 * wrapped by shard keys), so the work is a few hundred keys however many secrets there are.
 * A shard key gets its new copy before its old one is destroyed, so at every moment one copy
 * opens it; a crash leaves both, and the next rewrap only destroys the old. Each shard is
 * rewrapped under its shred lock, so no copy is made of a key the shredder is retiring.
 * Answers how many keys it re-wrapped.
 */
export const rewrapAll = async (pool: Pool, keys: KeyHierarchy, log: Logger): Promise<number> => {
  const { ring, keyStore } = keys
  const current = ring.current
  let rewrapped = 0
  const client = await pool.connect()
  try {
    const shards = [...new Set((await keyStore.list()).filter((slot) => slot.masterKeyId !== current.id).map((slot) => slot.shard))]
    for (const shard of shards) {
      await lockShard(client, shard)
      try {
        const recorded = new Set((await shardGenerations(pool)).filter((row) => row.shard === shard).map((row) => row.generation))
        const slots = (await keyStore.list()).filter((slot) => slot.shard === shard)
        for (const slot of slots.filter((it) => it.masterKeyId !== current.id && recorded.has(it.generation))) {
          const target = { ...slot, masterKeyId: current.id }
          if ((await keyStore.read(target)) === null) {
            const wrapped = await keyStore.read(slot)
            if (wrapped === null) continue
            const shardKey = unwrapShardKey(ring, wrapped, slot.shard, slot.generation)
            await keyStore.write(target, wrapShardKey(current, shardKey))
            shardKey.key.fill(0)
          }
          await keyStore.destroy(slot)
          rewrapped++
        }
      } finally {
        await unlockShards(client, [shard])
      }
    }
  } finally {
    client.release()
  }
  for (const { clientId, sealedSecret } of await secretsNotSealedBy(pool, current.id)) {
    const resealed = sealClientSecret(ring, clientId, openClientSecret(ring, clientId, sealedSecret))
    if (await replaceSealedSecret(pool, clientId, sealedSecret, resealed)) rewrapped++
  }
  log.info('rewrap done', { masterKeyId: current.id, rewrapped })
  return rewrapped
}
