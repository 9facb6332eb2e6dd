import type { Db } from '../database'

/** The schema reSolve's adapter keeps its tables in (events, threads, snapshots, its secrets table). */
export const EVENTSTORE_SCHEMA = 'eventstore'

/** reSolve's events table: one row per event of every aggregate. */
export const EVENTS_TABLE = `${EVENTSTORE_SCHEMA}.events`

/** The name of reSolve's secrets-manager table, as the adapter is configured with it. */
export const EVENTSTORE_SECRETS_TABLE = 'secrets'

/**
 * reSolve's secrets-manager table as our statements join it: one row per aggregate, `id` the
 * aggregate id, `secret` its wrapped data key (NULL once shredded, the row kept as a tombstone).
 */
export const DATA_KEYS = Object.freeze({
  table: `${EVENTSTORE_SCHEMA}."${EVENTSTORE_SECRETS_TABLE}"`,
  id: 'id',
  wrapped: 'secret',
})

/**
 * Makes reSolve's schema and, on a store without its events table, runs the adapter's init(),
 * which refuses to run twice. The caller serializes this across processes (store/database.ts).
 */
export const initEventStoreOnce = async (db: Db, init: () => Promise<void>): Promise<void> => {
  await db.query(`CREATE SCHEMA IF NOT EXISTS ${EVENTSTORE_SCHEMA}`)
  const existing = await db.query<{ events: string | null }>(`SELECT to_regclass('${EVENTS_TABLE}')::text AS events`)
  if (existing.rows[0].events === null) await init()
}
