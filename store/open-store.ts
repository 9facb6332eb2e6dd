import type { ConnectionSettings } from './connection'
import { createPool, migrate, type Pool } from './database'
import { openEventStore, type EventStore, type UnwrapDataKey } from './resolve/event-store'
import { initEventStoreOnce } from './resolve/tables'

export type OpenStore = Readonly<{ pool: Pool; eventStore: EventStore; close: () => Promise<void> }>

/**
 * Everything a process that serves secrets needs from PostgreSQL: our pool, the event store,
 * the schema (created if missing, under a lock). The keys come after (compose.ts).
 */
export const openStore = async (connection: ConnectionSettings, unwrap: UnwrapDataKey): Promise<OpenStore> => {
  const pool = createPool(connection)
  let eventStore: EventStore | null = null
  const close = async () => {
    await eventStore?.dispose().catch(() => undefined)
    await pool.end().catch(() => undefined)
  }
  try {
    eventStore = await openEventStore(connection, unwrap)
    const { init } = eventStore
    await migrate(pool, (db) => initEventStoreOnce(db, init))
    return Object.freeze({ pool, eventStore, close })
  } catch (error) {
    await close()
    throw error
  }
}
