import { fnv1a } from '../../lib/fnv'
import { createSecretAggregate, type CipherLoader } from '../../common/aggregates/secret.aggregate'
import { isSecretEvent, type StoredSecretEvent } from '../../common/aggregates/secret.events'
import { cipherFor, shreddedCipher } from '../../common/encryption'
import { ShardKeyRetiredError } from '../../common/errors'
import type { ConnectionSettings } from '../connection'
import { openAdapter, type Adapter, type EventFilter, type RawEvent, type SecretsManager } from './adapter'
import { translateResolveError } from './errors'

export type { SecretsManager } from './adapter'

// reSolve's core, CommonJS without usable typings like its adapter (./adapter.ts).
/* eslint-disable @typescript-eslint/no-require-imports */
const { initDomain } = require('@resolve-js/core') as { initDomain: (domain: object) => RawDomain }

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
  /**
   * Runs a command on its aggregate. `wrappedDataKey`, when the caller already read it under the
   * key's lock, spares the encryption factory a lookup (see `withKnownKeys`). A concurrent
   * write of the aggregate fails as the domain's ConflictError.
   */
  executeCommand: (command: SecretCommand, wrappedDataKey?: string) => Promise<StoredSecretEvent>
  loadSecretEvents: (aggregateIds: readonly string[]) => Promise<StoredSecretEvent[]>
  init: () => Promise<void>
  dispose: () => Promise<void>
}>

// History of one key is read in one go; a key with more events than this is cut (and says so).
export const MAX_EVENTS_PER_READ = 100_000

/**
 * How many reSolve adapters (each one `pg` client running its statements one at a time) a
 * process spreads its aggregates over. With one, every write of every secret queued behind
 * the others (about 200 writes/s). Four lets writes of different secrets overlap while staying
 * small next to PostgreSQL's default of 100 connections when several processes share a server;
 * past four, a 2-core machine gains little (CPU, not connections, is then the limit).
 */
export const EVENT_STORE_CONNECTIONS = 4

/** A stable spread of aggregate ids (random UUIDs) over the adapters. */
const shardOf = (aggregateId: string, shards: number): number => fnv1a(aggregateId) % shards

/** Unwraps an aggregate's data key (app/keys/key-hierarchy.ts). */
export type UnwrapDataKey = (wrapped: string, aggregateId: string) => Promise<Buffer>

/**
 * Opens the reSolve PostgreSQL event store and binds the Secret aggregate to it. Each aggregate
 * always uses the same adapter, so its statements keep their order within this process; across
 * processes, writes of one key are serialized by its advisory lock (store/key-locks.ts).
 * Nothing in the adapter relies on being the only one: events get their thread and counter
 * under row locks in the threads table, and its only in-memory state (snapshot counters) is
 * per aggregate, which the fixed mapping keeps in one adapter.
 */
export const openEventStore = async (connection: ConnectionSettings, unwrap: UnwrapDataKey): Promise<EventStore> => {
  const adapters = Array.from({ length: EVENT_STORE_CONNECTIONS }, () => openAdapter(connection))
  const managers = await Promise.all(adapters.map((adapter) => adapter.getSecretsManager()))
  const shard = (aggregateId: string) => shardOf(aggregateId, adapters.length)
  const secretsManager: SecretsManager = Object.freeze({
    getSecret: (id: string) => managers[shard(id)].getSecret(id),
    setSecret: (id: string, secret: string) => managers[shard(id)].setSecret(id, secret),
    deleteSecret: (id: string) => managers[shard(id)].deleteSecret(id),
  })
  const knownKeys = new Map<string, string>()
  // A command's cipher. Its data key came from under the key's lock (or the table); if the
  // shredder re-wrapped it since and retired the old shard key, the table has its new wrapping.
  const loadCipher: CipherLoader = async (aggregateId, manager) => {
    const open = async (wrapped: string | null) =>
      wrapped === null ? shreddedCipher : cipherFor(await unwrap(wrapped, aggregateId), aggregateId)
    try {
      return await open(await manager.getSecret(aggregateId))
    } catch (error) {
      if (!(error instanceof ShardKeyRetiredError)) throw error
      return open(await secretsManager.getSecret(aggregateId))
    }
  }
  const aggregate = createSecretAggregate(loadCipher)
  const domain = initDomain({ aggregates: [aggregate], readModels: [], viewModels: [], sagas: [], apiHandlers: [] })
  const interops = adapters.map((adapter) =>
    domain.aggregateDomain.acquireAggregatesInterop({
      eventstore: withCheapAggregateLoads(adapter),
      secretsManager: withKnownKeys(secretsManager, knownKeys),
      hooks: {},
      commandMiddlewares: [],
    }),
  )

  const executeCommand = async (command: SecretCommand, wrappedDataKey?: string) => {
    const { aggregateId } = command
    if (wrappedDataKey !== undefined) knownKeys.set(aggregateId, wrappedDataKey)
    try {
      const event = await interops[shard(aggregateId)].executeCommand({ ...command, aggregateName: aggregate.name })
      return event as StoredSecretEvent
    } catch (error) {
      throw translateResolveError(error)
    } finally {
      if (wrappedDataKey !== undefined) knownKeys.delete(aggregateId)
    }
  }

  return Object.freeze({
    secretsManager,
    executeCommand,
    loadSecretEvents: async (aggregateIds: readonly string[]) => {
      if (aggregateIds.length === 0) return []
      // By time, not by cursor: the same events (all of them), without the 256-way cursor condition.
      const { events } = await adapters[shard(aggregateIds[0])].loadEvents({
        aggregateIds: [...aggregateIds],
        startTime: 0,
        limit: MAX_EVENTS_PER_READ,
      })
      return events.filter(isSecretEvent)
    },
    // The adapters share one schema: one of them creates it.
    init: () => adapters[0].init(),
    dispose: async () => {
      await Promise.all(adapters.map((adapter) => adapter.dispose()))
    },
  })
}

/**
 * The secrets manager as the aggregate's encryption factory sees it. A write that already read
 * its aggregate's wrapped key (under the key's lock, in the same query as its row) hands it in
 * for the one command it runs, so the factory does not fetch it again. It is not a cache: the
 * entry lives only while that command runs, and a key is only ever shredded under the same
 * lock, so it cannot be stale.
 */
const withKnownKeys = (manager: SecretsManager, known: ReadonlyMap<string, string>): SecretsManager =>
  Object.freeze({
    ...manager,
    getSecret: async (id: string) => known.get(id) ?? manager.getSecret(id),
  })

/**
 * The event store as the command executor sees it. reSolve loads an aggregate with a cursor
 * filter, which the adapter turns into an unprepared query of 256 OR-ed thread conditions that
 * PostgreSQL spends about 1.5 ms planning (for one event). Without a snapshot the cursor is
 * null, which means "every event of the aggregate": the adapter's time filter from 0 asks for
 * the same events through the aggregate-id index, in timestamp order, which is version order
 * for one aggregate (reSolve gives each event a timestamp above its predecessor's and checks
 * the versions as it folds them). After a snapshot (every 100 events) the cursor query stays.
 */
const withCheapAggregateLoads = (adapter: Adapter) =>
  Object.freeze({
    loadSnapshot: adapter.loadSnapshot,
    saveSnapshot: adapter.saveSnapshot,
    saveEvent: adapter.saveEvent,
    getNextCursor: adapter.getNextCursor,
    loadEvents: (filter: EventFilter) =>
      filter.cursor === null && filter.aggregateIds?.length === 1
        ? adapter.loadEvents({ aggregateIds: filter.aggregateIds, startTime: 0, limit: filter.limit })
        : adapter.loadEvents(filter),
  })
