import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createApp } from './api/app'
import type { CreatedClient } from './app/clients/clients.service'
import { createKeysAdmin } from './app/keys/keys-admin'
import { coreSettings, openVaultCore } from './compose'
import type { Logger } from './lib/logger'
import type { Config } from './config'
import { createFunctionHandlers } from './api/lambda/handlers'
import { connectionFromUrl } from './store/connection'
import type { Pool } from './store/database'
import { startEmbeddedPostgres, type EmbeddedServer } from './store/embedded/embedded-postgres'
import { resolveMasterKey } from './store/master-key'

export type RunningVault = Readonly<{ url: string; close: () => Promise<void> }>

const HEALTH_TIMEOUT_MS = 2_000
const SHUTDOWN_GRACE_MS = 10_000

/** Starts the store (embedded unless DATABASE_URL is set), finishes interrupted writes, then serves. */
export const startVault = async (config: Config, log: Logger): Promise<RunningVault> => {
  const started = Date.now()
  const cleanups: Array<() => Promise<void>> = []
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => undefined)
  }
  try {
    let embedded: EmbeddedServer | null = null
    if (config.databaseUrl === null) {
      embedded = await startEmbeddedPostgres(config.dataDir, log)
      cleanups.push(embedded.stop)
    }
    const connection = embedded?.connection ?? connectionFromUrl(config.databaseUrl as string)
    const master = resolveMasterKey(config, log)
    const core = await openVaultCore(coreSettings(config, connection, master.key, true), log)
    cleanups.push(core.close)
    const { pool, secrets, clients, tokens, recovered } = core
    const generated = await clients.ensureBootstrapAdmin(config.bootstrapClient)
    if (generated !== null) announceGeneratedAdmin(generated)

    const app = createApp({
      secrets,
      clients,
      tokens,
      keysAdmin: createKeysAdmin(pool, core.keys, log),
      functions: createFunctionHandlers(secrets, log),
      naming: config,
      storeIsReady: () => storeIsReady(pool),
      log,
      tokenRateLimit: config.tokenRateLimit,
    })
    const server = await listen(app, config)
    const { port } = server.address() as AddressInfo
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`
    log.info('listening', {
      url,
      port,
      env: config.env,
      store: embedded === null ? 'external' : 'embedded',
      keyStore: config.keyStore.kind,
      shredHorizonSeconds: config.shredHorizonSeconds,
      recovered,
      startMs: Date.now() - started,
    })
    cleanups.push(() => closeServer(server))
    return Object.freeze({ url, close: cleanup })
  } catch (error) {
    await cleanup()
    throw error
  }
}

const listen = (app: http.RequestListener, config: Config): Promise<http.Server> =>
  new Promise((resolve, reject) => {
    // Bounded headers and slow-client timeouts: a request cannot hold the server forever. Node
    // checks the timeouts every connectionsCheckingInterval (30 s by default, so a client that
    // declares a body and never sends it was answered 408 only after 30 to 60 s): every second.
    const server = http.createServer(
      { maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000, connectionsCheckingInterval: 1_000 },
      app,
    )
    server.keepAliveTimeout = 5_000
    server.once('error', reject)
    server.listen(config.port, config.host, () => resolve(server))
  })

/** Stops accepting, lets requests in flight finish (up to a grace period), then closes the rest. */
const closeServer = (server: http.Server): Promise<void> =>
  new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS)
    // A keep-alive connection that was busy when the stop began goes idle once it has answered:
    // close it then, rather than waiting for the keep-alive timeout.
    const sweep = setInterval(() => server.closeIdleConnections(), 50)
    server.close(() => {
      clearTimeout(force)
      clearInterval(sweep)
      resolve()
    })
    server.closeIdleConnections()
  })

const storeIsReady = async (pool: Pool): Promise<boolean> => {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS)
  })
  const probe = pool.query('SELECT 1').then(
    () => true,
    () => false,
  )
  try {
    return await Promise.race([probe, timeout])
  } finally {
    clearTimeout(timer)
  }
}

// DESIGN: a first start with no bootstrap client prints a generated admin once. It goes to
// stderr, apart from the JSON log stream on stdout, and is never written anywhere else.
const announceGeneratedAdmin = (client: CreatedClient): void => {
  process.stderr.write(
    [
      'event-vault: no admin client was configured, so one was generated. It is shown this once:',
      `  client_id:     ${client.clientId}`,
      `  client_secret: ${client.clientSecret}`,
      'Set VAULT_BOOTSTRAP_CLIENT_ID and VAULT_BOOTSTRAP_CLIENT_SECRET to choose your own.',
      '',
    ].join('\n'),
  )
}
