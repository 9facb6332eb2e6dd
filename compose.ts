import { createClientsService, type ClientsService, type CreatedClient } from './app/clients/clients.service'
import { createKeysAdmin } from './app/keys/keys-admin'
import { MissingMasterKeyError } from './app/keys/key-report'
import { createOperations, type Operations } from './app/operations'
import { createDataKeyCache, DATA_KEY_TTL_MS } from './app/keys/data-key-cache'
import { createKeyHierarchy, type KeyHierarchy } from './app/keys/key-hierarchy'
import { KeyStoreMismatchError, prepareKeys } from './app/keys/key-setup'
import { createShredder, type Shredder } from './app/keys/shredder'
import { createReadCache, poolReadSource } from './app/secrets/read-cache'
import { recoverAll } from './app/secrets/recovery'
import { createListTokens } from './app/secrets/list-token'
import { createSecretListing } from './app/secrets/secret-listing'
import { createSecretTags } from './app/secrets/secret-tags'
import { createScheduledDeletion, startDeletionSweeper, type ScheduledDeletion } from './app/secrets/scheduled-deletion'
import { createSecretsService, type SecretsService } from './app/secrets/secrets.service'
import type { NamingConfig } from './app/secrets/secret-views'
import { createTokens, type Tokens } from './app/clients/tokens'
import { deriveKey, masterKeyFrom, masterKeyRing } from './common/encryption'
import { createLogger, type Logger } from './lib/logger'
import { ConfigError, loadFunctionConfig, type Config } from './config'
import { connectionFromUrl, type ConnectionSettings } from './store/connection'
import type { Pool } from './store/database'
import type { EventStore } from './store/resolve/event-store'
import { openDatabaseKeyStore } from './store/keys/database-key-store'
import { openFileKeyStore } from './store/keys/file-key-store'
import type { KeyStore } from './store/keys/key-store'
import { startEmbeddedPostgres, type EmbeddedServer } from './store/embedded/embedded-postgres'
import { storeIsReady } from './store/health'
import { resolveMasterKey } from './store/master-key'
import { openStore } from './store/open-store'

/** Everything behind the doors: the store, the key hierarchy and the services. */
export type VaultCore = Readonly<{
  pool: Pool
  eventStore: EventStore
  keys: KeyHierarchy
  secrets: SecretsService
  clients: ClientsService
  tokens: Tokens
  shredder: Shredder
  /** Scheduled deletes; `sweep` runs a pass now (servers also run one every few seconds). */
  deletion: ScheduledDeletion
  /** Every operation, as every door calls it. */
  operations: Operations
  /** Interrupted writes the start finished. */
  recovered: number
  close: () => Promise<void>
}>

/** What the core needs of the configuration: values, not the whole Config. */
export type CoreSettings = Readonly<{
  connection: ConnectionSettings
  masterKey: Buffer
  previousMasterKeys: readonly Buffer[]
  keyStore: Readonly<{ kind: 'files' | 'database'; dir: string }>
  shredHorizonSeconds: number
  dataKeyCacheSize: number
  readCacheSize: number
  tokenTtlSeconds: number
  naming: NamingConfig
  /** Servers retire shard keys and sweep scheduled deletes; a function deployed on its own leaves that to them. */
  runShredder: boolean
  /** The clock of scheduled deletes (tests hand in their own); Date.now by default. */
  now?: () => number
  /** How often a server sweeps due deletes, in ms (5 s by default). */
  sweepEveryMs?: number
}>

export const coreSettings = (config: Config, connection: ConnectionSettings, masterKey: Buffer, runShredder: boolean): CoreSettings =>
  Object.freeze({
    connection,
    masterKey,
    previousMasterKeys: config.previousMasterKeys,
    keyStore: config.keyStore,
    shredHorizonSeconds: config.shredHorizonSeconds,
    dataKeyCacheSize: config.dataKeyCacheSize,
    readCacheSize: config.readCacheSize,
    tokenTtlSeconds: config.tokenTtlSeconds,
    naming: Object.freeze({ env: config.env, aws: config.aws }),
    runShredder,
  })

/**
 * The one wiring, used by the HTTP server, the Lambda runtime, the bench and the tests. It does
 * the start-up work wherever the store is opened for writing: the schema, the keys (key store,
 * shard keys, needed master keys), then the repair of writes a crash cut short.
 */
export const openVaultCore = async (settings: CoreSettings, log: Logger): Promise<VaultCore> => {
  const horizonMs = settings.shredHorizonSeconds * 1000
  const ring = masterKeyRing(masterKeyFrom(settings.masterKey), settings.previousMasterKeys.map(masterKeyFrom))
  let keys: KeyHierarchy | null = null
  const store = await openStore(settings.connection, (wrapped, aggregateId) => (keys as KeyHierarchy).unwrapDataKey(wrapped, aggregateId))
  const cleanups: Array<() => Promise<void> | void> = [store.close]
  const close = async () => {
    for (const step of cleanups.reverse()) await Promise.resolve(step()).catch(() => undefined)
  }
  try {
    const { pool, eventStore } = store
    const keyStore: KeyStore =
      settings.keyStore.kind === 'files' ? await openFileKeyStore(settings.keyStore.dir) : openDatabaseKeyStore(pool)
    // SECURITY: no unwrapped key outlives a fraction of the horizon in any process's memory.
    keys = createKeyHierarchy(ring, keyStore, Math.min(10_000, Math.max(500, Math.floor(horizonMs / 4))))
    cleanups.push(keys.close)
    await prepareKeys(pool, keys, settings.keyStore.kind === 'files' ? settings.keyStore.dir : 'the database', log)
    const recovered = await recoverAll({ pool, eventStore, log })
    const tokens = createTokens(ring, settings.naming.env, settings.tokenTtlSeconds)
    const clients = createClientsService(pool, ring, tokens)
    const dataKeys = createDataKeyCache(keys.unwrapDataKey, settings.dataKeyCacheSize, Date.now, Math.min(DATA_KEY_TTL_MS, horizonMs / 2))
    cleanups.push(dataKeys.close)
    const readCache = createReadCache(poolReadSource(pool), settings.readCacheSize)
    cleanups.push(readCache.close)
    const secrets = createSecretsService({ pool, eventStore, log, keys, naming: settings.naming, dataKeys, readCache })
    const shredder = createShredder(pool, keys, horizonMs, log)
    if (settings.runShredder) shredder.start()
    cleanups.push(shredder.stop)
    const listing = createSecretListing(pool, settings.naming, createListTokens(deriveKey(ring.current, 'list-token')))
    const tags = createSecretTags({ pool, eventStore, log, keys, naming: settings.naming, dataKeys })
    const deletion = createScheduledDeletion({ pool, eventStore, log, keys, naming: settings.naming, dataKeys, now: settings.now ?? Date.now })
    if (settings.runShredder) cleanups.push(startDeletionSweeper(deletion, settings.sweepEveryMs ?? 5_000, log))
    const operations = createOperations({ secrets, listing, tags, deletion, clients, keysAdmin: createKeysAdmin(pool, keys, log) })
    return Object.freeze({ pool, eventStore, keys, secrets, clients, tokens, shredder, deletion, operations, recovered, close })
  } catch (error) {
    await close()
    throw error
  }
}

/** A vault server's core: its store (embedded unless DATABASE_URL is set), keys and operations. */
export type ServerCore = VaultCore &
  Readonly<{
    embedded: boolean
    /** The admin client generated on a first start without a bootstrap client (shown once), or null. */
    generatedAdmin: CreatedClient | null
    storeIsReady: () => Promise<boolean>
  }>

/** Everything `npm start` serves, from the configuration: store, master key, core, bootstrap admin. */
export const composeServer = async (config: Config, log: Logger): Promise<ServerCore> => {
  let embedded: EmbeddedServer | null = null
  let core: VaultCore | null = null
  try {
    if (config.databaseUrl === null) embedded = await startEmbeddedPostgres(config.dataDir, log)
    const connection = embedded?.connection ?? connectionFromUrl(config.databaseUrl as string)
    const master = resolveMasterKey(config, log)
    const opened = await openVaultCore(coreSettings(config, connection, master.key, true), log)
    core = opened
    const generatedAdmin = await opened.clients.ensureBootstrapAdmin(config.bootstrapClient)
    const stopEmbedded = embedded?.stop
    const close = async () => {
      await opened.close()
      await stopEmbedded?.().catch(() => undefined)
    }
    return Object.freeze({ ...opened, close, embedded: embedded !== null, generatedAdmin, storeIsReady: () => storeIsReady(opened.pool) })
  } catch (error) {
    await core?.close().catch(() => undefined)
    await embedded?.stop().catch(() => undefined)
    throw error
  }
}

/** What a function deployed on its own needs: its environment's name, a log and the operations. */
export type FunctionCore = Readonly<{ env: string; log: Logger; operations: Operations; close: () => Promise<void> }>

/**
 * The wiring of a function deployed to AWS Lambda on its own, from its environment: a
 * PostgreSQL server shared with the servers, which retire shard keys (this one does not).
 */
export const composeFunction = async (): Promise<FunctionCore> => {
  const config = loadFunctionConfig()
  const log = createLogger(config.logLevel)
  const core = await openVaultCore(coreSettings(config, connectionFromUrl(config.databaseUrl), config.masterKey, false), log)
  return Object.freeze({ env: config.env, log, operations: core.operations, close: core.close })
}

/** Errors of a deployment that cannot work (configuration, keys): a deployed function fails with them loudly. */
export const isDeploymentError = (error: unknown): boolean =>
  error instanceof ConfigError || error instanceof MissingMasterKeyError || error instanceof KeyStoreMismatchError
