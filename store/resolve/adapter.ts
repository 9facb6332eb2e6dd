import type { ConnectionSettings } from '../connection'
import { EVENTSTORE_SCHEMA, EVENTSTORE_SECRETS_TABLE } from './tables'

// reSolve ships CommonJS compiled by Babel without usable typings under TypeScript 5: the
// few calls we make are typed here, and the default exports are read from `.default`.
/* eslint-disable @typescript-eslint/no-require-imports */
const createAdapter = require('@resolve-js/eventstore-postgresql').default as (config: object) => Adapter

/** reSolve's secrets manager: where each aggregate's (wrapped) data key lives. */
export type SecretsManager = Readonly<{
  getSecret: (id: string) => Promise<string | null>
  setSecret: (id: string, secret: string) => Promise<void>
  deleteSecret: (id: string) => Promise<boolean>
}>

export type RawEvent = { aggregateId: string; aggregateVersion: number; type: string; timestamp: number; payload: unknown }
export type EventFilter = { aggregateIds: string[]; limit: number; cursor?: string | null; startTime?: number }

/** The calls the vault makes on reSolve's PostgreSQL adapter (one `pg` connection each). */
export type Adapter = {
  init: () => Promise<void>
  dispose: () => Promise<void>
  getSecretsManager: () => Promise<SecretsManager>
  loadEvents: (filter: EventFilter) => Promise<{ events: RawEvent[] }>
  loadSnapshot: (key: string) => Promise<string | null>
  saveSnapshot: (key: string, content: string) => Promise<void>
  saveEvent: (event: object) => Promise<unknown>
  getNextCursor: (cursor: string | null, events: object[]) => string
}

/** One adapter on the vault's event store, or (for the bench) on a scratch schema of the same shape. */
export const openAdapter = (connection: ConnectionSettings, schema: string = EVENTSTORE_SCHEMA): Adapter =>
  createAdapter({ ...connection, databaseName: schema, secretsTableName: EVENTSTORE_SECRETS_TABLE })
