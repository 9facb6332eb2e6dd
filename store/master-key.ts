import fs from 'node:fs'
import path from 'node:path'
import { generateKey, masterKeyFrom, type MasterKey } from '../common/encryption'
import type { Logger } from '../lib/logger'

/**
 * The configured master key, or the one generated into the data directory on first start
 * (a convenience for trying the vault out; production sets VAULT_MASTER_KEY).
 */
export const resolveMasterKey = (config: Readonly<{ masterKey: Buffer | null; dataDir: string }>, log: Logger): MasterKey => {
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
