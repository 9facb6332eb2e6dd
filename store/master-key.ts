import fs from 'node:fs'
import path from 'node:path'
import type { Config } from '../config'
import { generateKey, masterKeyFrom, type MasterKey } from '../common/encryption'
import type { Logger } from '../common/logger'
import { VAULT_SCHEMA, type Pool } from './database'

/** The configured master key does not open this store. */
export class MasterKeyMismatchError extends Error {
  constructor() {
    super('VAULT_MASTER_KEY does not match the master key this store was created with')
    this.name = 'MasterKeyMismatchError'
  }
}

/**
 * The configured master key, or the one generated into the data directory on first start
 * (a convenience for trying the vault out; production sets VAULT_MASTER_KEY).
 */
export const resolveMasterKey = (config: Config, log: Logger): MasterKey => {
  if (config.masterKey !== null) return masterKeyFrom(config.masterKey)
  const file = path.join(config.dataDir, 'master.key')
  if (fs.existsSync(file)) {
    const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64')
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 master key`)
    return masterKeyFrom(key)
  }
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const key = generateKey()
  fs.writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' })
  log.warn('generated a master key into the data directory; back it up, or set VAULT_MASTER_KEY', { file })
  return masterKeyFrom(key)
}

/** A store remembers the id of its master key, so a wrong key stops the start instead of failing every read. */
export const checkMasterKey = async (pool: Pool, master: MasterKey): Promise<void> => {
  await pool.query(
    `INSERT INTO ${VAULT_SCHEMA}.meta (name, value) VALUES ('master_key_id', $1) ON CONFLICT (name) DO NOTHING`,
    [master.id],
  )
  const result = await pool.query<{ value: string }>(`SELECT value FROM ${VAULT_SCHEMA}.meta WHERE name = 'master_key_id'`)
  if (result.rows[0]?.value !== master.id) throw new MasterKeyMismatchError()
}
