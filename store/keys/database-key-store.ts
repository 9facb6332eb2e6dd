import crypto from 'node:crypto'
import { VAULT_SCHEMA, type Db } from '../database'
import type { KeySlot, KeyStore } from './key-store'

/**
 * Shard keys kept in PostgreSQL (VAULT_KEYSTORE=database), for processes on separate hosts that
 * share no directory. SECURITY: a weaker promise, said at start and in the README: a destroyed
 * slot is a deleted row, whose bytes PostgreSQL keeps (WAL, dead tuples, backups), so a delete is
 * final only once every master key that wrapped the shard key is retired and destroyed.
 */
export const openDatabaseKeyStore = (db: Db): KeyStore => {
  const table = `${VAULT_SCHEMA}.shard_key_slots`
  const identity = async () => {
    await db.query(`INSERT INTO ${VAULT_SCHEMA}.meta (name, value) VALUES ('database_keystore_id', $1) ON CONFLICT (name) DO NOTHING`, [
      crypto.randomUUID(),
    ])
    const result = await db.query<{ value: string }>(`SELECT value FROM ${VAULT_SCHEMA}.meta WHERE name = 'database_keystore_id'`)
    return result.rows[0].value
  }
  const key = (slot: KeySlot) => [slot.shard, slot.generation, slot.masterKeyId]
  return Object.freeze({
    kind: 'database' as const,
    erases: false,
    identity,
    write: async (slot: KeySlot, wrapped: string) => {
      await db.query(
        `INSERT INTO ${table} (shard, generation, master_key_id, wrapped) VALUES ($1, $2, $3, $4)
         ON CONFLICT (shard, generation, master_key_id) DO UPDATE SET wrapped = EXCLUDED.wrapped`,
        [...key(slot), wrapped],
      )
    },
    read: async (slot: KeySlot) => {
      const result = await db.query<{ wrapped: string }>(
        `SELECT wrapped FROM ${table} WHERE shard = $1 AND generation = $2 AND master_key_id = $3`,
        key(slot),
      )
      return result.rows[0]?.wrapped ?? null
    },
    list: async () => {
      const result = await db.query<{ shard: number; generation: number; master_key_id: string }>(
        `SELECT shard, generation, master_key_id FROM ${table}`,
      )
      return result.rows.map((row) => ({ shard: row.shard, generation: row.generation, masterKeyId: row.master_key_id }))
    },
    destroy: async (slot: KeySlot) => {
      await db.query(`DELETE FROM ${table} WHERE shard = $1 AND generation = $2 AND master_key_id = $3`, key(slot))
    },
  })
}
