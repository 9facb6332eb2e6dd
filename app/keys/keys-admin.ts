import type { Logger } from '../../lib/logger'
import type { Principal } from '../../common/types'
import type { Pool } from '../../store/database'
import { authorizeAdmin } from '../authorization'
import type { KeyHierarchy } from './key-hierarchy'
import { keyReport, type KeyReport } from './key-report'
import { rewrapAll } from './rewrap'

/** The key operations of `/admin` (admins only). */
export type KeysAdmin = Readonly<{
  report: (principal: Principal) => Promise<KeyReport>
  rewrap: (principal: Principal) => Promise<number>
}>

export const createKeysAdmin = (pool: Pool, keys: KeyHierarchy, log: Logger): KeysAdmin =>
  Object.freeze({
    report: async (principal) => {
      authorizeAdmin(principal, 'manage keys')
      return keyReport(pool, keys.keyStore, keys.ring)
    },
    rewrap: async (principal) => {
      authorizeAdmin(principal, 'manage keys')
      return rewrapAll(pool, keys, log)
    },
  })
