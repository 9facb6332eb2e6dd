import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/**
 * The database password protects the loopback port from other local users; it lives beside
 * the data it protects, readable only by the vault's user. Made once, then read.
 */
export const readOrCreatePassword = (dataDir: string): string => {
  const file = path.join(dataDir, 'postgres.password')
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim()
  const password = crypto.randomBytes(24).toString('base64url')
  fs.writeFileSync(file, `${password}\n`, { mode: 0o600, flag: 'wx' })
  return password
}
