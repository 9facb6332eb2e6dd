import type { Logger } from '../../lib/logger'
import type { Pool } from '../../store/database'
import type { KeyHierarchy } from './key-hierarchy'
import { keyReport, type KeyReport } from './key-report'
import { rewrapAll } from './rewrap'

/** The key operations of `/admin` (app/operations.ts lets admins only). */
export type KeysAdmin = Readonly<{
  report: () => Promise<KeyReport>
  rewrap: () => Promise<number>
}>

export const createKeysAdmin = (pool: Pool, keys: KeyHierarchy, log: Logger): KeysAdmin =>
  Object.freeze({
    report: () => keyReport(pool, keys.keyStore, keys.ring),
    rewrap: () => rewrapAll(pool, keys, log),
  })
