import { createSecretAggregate } from '../common/aggregates/secret.aggregate'
import { isSecretEvent, type StoredSecretEvent } from '../common/aggregates/secret.events'
import type { MasterKey } from '../common/encryption'
import type { ConnectionSettings } from './connection'
import { EVENTSTORE_SCHEMA } from './database'

// reSolve ships CommonJS compiled by Babel without usable typings under TypeScript 5: the
// few calls we make are typed here, and the default exports are read from `.default`.
/* eslint-disable @typescript-eslint/no-require-imports */
const createAdapter = require('@resolve-js/eventstore-postgresql').default as (config: object) => RawAdapter
const { initDomain } = require('@resolve-js/core') as { initDomain: (domain: object) => RawDomain }

/** reSolve's secrets manager: where each aggregate's (wrapped) data key lives. */
export type SecretsManager = Readonly<{
  getSecret: (id: string) => Promise<string | null>
  setSecret: (id: string, secret: string) => Promise<void>
  deleteSecret: (id: string) => Promise<boolean>
}>

type RawEvent = { aggregateId: string; aggregateVersion: number; type: string; timestamp: number; payload: unknown }
type RawAdapter = {
  init: () => Promise<void>
  dispose: () => Promise<void>
  getSecretsManager: () => Promise<SecretsManager>
  loadEvents: (filter: object) => Promise<{ events: RawEvent[] }>
}
type RawDomain = {
  aggregateDomain: {
    acquireAggregatesInterop: (runtime: object) => {
      executeCommand: (command: object) => Promise<RawEvent>
    }
  }
}

export type SecretCommand = Readonly<{ aggregateId: string; type: string; payload: object }>

/** The event store as the vault uses it: commands in, secret events out, and the key store. */
export type EventStore = Readonly<{
  secretsManager: SecretsManager
  executeCommand: (command: SecretCommand) => Promise<StoredSecretEvent>
  loadSecretEvents: (aggregateIds: readonly string[]) => Promise<StoredSecretEvent[]>
  init: () => Promise<void>
  dispose: () => Promise<void>
}>

// History of one key is read in one go; a key with more events than this is cut (and says so).
export const MAX_EVENTS_PER_READ = 100_000

/** Opens the reSolve PostgreSQL event store and binds the Secret aggregate to it. */
export const openEventStore = async (connection: ConnectionSettings, master: MasterKey): Promise<EventStore> => {
  const adapter = createAdapter({ ...connection, databaseName: EVENTSTORE_SCHEMA })
  const secretsManager = await adapter.getSecretsManager()
  const aggregate = createSecretAggregate(master)
  const domain = initDomain({ aggregates: [aggregate], readModels: [], viewModels: [], sagas: [], apiHandlers: [] })
  const interop = domain.aggregateDomain.acquireAggregatesInterop({
    eventstore: adapter,
    secretsManager,
    hooks: {},
    commandMiddlewares: [],
  })

  return Object.freeze({
    secretsManager,
    executeCommand: async (command: SecretCommand) => {
      const event = await interop.executeCommand({ ...command, aggregateName: aggregate.name })
      return event as StoredSecretEvent
    },
    loadSecretEvents: async (aggregateIds: readonly string[]) => {
      if (aggregateIds.length === 0) return []
      const { events } = await adapter.loadEvents({
        aggregateIds: [...aggregateIds],
        cursor: null,
        limit: MAX_EVENTS_PER_READ,
      })
      return events.filter(isSecretEvent)
    },
    init: () => adapter.init(),
    dispose: () => adapter.dispose(),
  })
}
