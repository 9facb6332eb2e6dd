import type { Pool } from '../../store/database'
import { sealedSecretsByKey } from '../../store/clients.repository'
import { masterWrappedDataKeys, pendingShreds, shardGenerations } from '../../store/keys/shard-keys.repository'
import { readMeta } from '../../store/meta.repository'
import { wrappingKeyId, type MasterKeyRing } from '../../common/encryption'
import type { KeyStore } from '../../store/keys/key-store'

export type MasterKeyUse = Readonly<{ id: string; shardKeys: number; clientSecrets: number; dataKeys: number }>

/** `GET /admin/keys`: what each master key still wraps (also a rewrap's progress). */
export type KeyReport = Readonly<{
  current: string
  keys: MasterKeyUse[]
  keyStore: KeyStore['kind']
  pendingShreds: Readonly<{ shards: number; oldestMs: number }>
}>

/** Client secrets sealed before keys were named belong to the master key the store was created with. */
export const ORIGINAL_KEY_META = 'master_key_id'

/**
 * Counts what each master key wraps: shard keys in the key store (recorded ones only), client
 * secrets, and data keys still wrapped by a master key directly (before the hierarchy). A shard
 * key with copies under two master keys (a rewrap under way) counts under each.
 */
export const keyReport = async (pool: Pool, keyStore: KeyStore, ring: MasterKeyRing): Promise<KeyReport> => {
  const recorded = new Set((await shardGenerations(pool)).map((row) => `${row.shard}/${row.generation}`))
  const uses = new Map<string, { shardKeys: number; clientSecrets: number; dataKeys: number }>()
  const use = (id: string) => {
    let found = uses.get(id)
    if (found === undefined) uses.set(id, (found = { shardKeys: 0, clientSecrets: 0, dataKeys: 0 }))
    return found
  }
  for (const key of ring.keys) use(key.id)
  for (const slot of await keyStore.list()) if (recorded.has(`${slot.shard}/${slot.generation}`)) use(slot.masterKeyId).shardKeys++
  const original = (await readMeta(pool, ORIGINAL_KEY_META)) ?? ring.current.id
  for (const [id, n] of await sealedSecretsByKey(pool)) use(id === '' ? original : id).clientSecrets += n
  for (const stored of await masterWrappedDataKeys(pool)) use(wrappingKeyId(stored.wrapped)).dataKeys++
  return {
    current: ring.current.id,
    keys: [...uses].map(([id, counts]) => ({ id, ...counts })),
    keyStore: keyStore.kind,
    pendingShreds: await pendingShreds(pool),
  }
}

/** The start stops when something still needs a master key the process was not given. */
export class MissingMasterKeyError extends Error {
  constructor(id: string, use: Omit<MasterKeyUse, 'id'>) {
    super(
      `master key ${id} is still needed by ${use.shardKeys} shard keys, ${use.clientSecrets} client secrets and ` +
        `${use.dataKeys} data keys: give it in VAULT_MASTER_KEY_PREVIOUS (or VAULT_MASTER_KEY)`,
    )
    this.name = 'MissingMasterKeyError'
  }
}

/**
 * Stops with a message naming the key and what needs it. A shard key that also has a copy under
 * a key of the ring (a rewrap cut short) needs nothing more.
 */
export const checkNeededKeys = async (pool: Pool, keyStore: KeyStore, ring: MasterKeyRing): Promise<void> => {
  const inRing = new Set(ring.keys.map((key) => key.id))
  const slots = await keyStore.list()
  const openable = new Set(slots.filter((slot) => inRing.has(slot.masterKeyId)).map((slot) => `${slot.shard}/${slot.generation}`))
  const report = await keyReport(pool, keyStore, ring)
  for (const entry of report.keys) {
    if (inRing.has(entry.id)) continue
    const shardKeys = slots.filter((slot) => slot.masterKeyId === entry.id && !openable.has(`${slot.shard}/${slot.generation}`)).length
    const needed = { shardKeys, clientSecrets: entry.clientSecrets, dataKeys: entry.dataKeys }
    if (needed.shardKeys + needed.clientSecrets + needed.dataKeys > 0) throw new MissingMasterKeyError(entry.id, needed)
  }
}
