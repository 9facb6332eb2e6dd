import type { MasterKey } from '../common/encryption'
import type { ConnectionSettings } from './connection'
import { createPool, migrate, type Pool } from './database'
import { openEventStore, type EventStore } from './event-store'
import { checkMasterKey } from './master-key'

export type OpenStore = Readonly<{ pool: Pool; eventStore: EventStore; close: () => Promise<void> }>

/**
 * Everything a process that serves secrets needs from PostgreSQL: our pool, the event store,
 * the schema (created if missing, under a lock) and the proof that the master key opens this
 * store. The vault server and a function deployed on its own both start here.
 */
export const openStore = async (connection: ConnectionSettings, master: MasterKey): Promise<OpenStore> => {
  const pool = createPool(connection)
  let eventStore: EventStore | null = null
  const close = async () => {
    await eventStore?.dispose().catch(() => undefined)
    await pool.end().catch(() => undefined)
  }
  try {
    eventStore = await openEventStore(connection, master)
    await migrate(pool, eventStore.init)
    await checkMasterKey(pool, master)
    return Object.freeze({ pool, eventStore, close })
  } catch (error) {
    await close()
    throw error
  }
}
