import { createApp } from './api/app'
import { listen } from './api/http/server'
import type { CreatedClient } from './app/clients/clients.service'
import { composeServer } from './compose'
import { ConfigError, loadConfig, type Config } from './config'
import { createLogger, type Logger } from './lib/logger'

/** Starts the store and the core (compose.ts), then serves every door on one port. */
const startVault = async (config: Config, log: Logger): Promise<() => Promise<void>> => {
  const started = Date.now()
  const core = await composeServer(config, log)
  try {
    if (core.generatedAdmin !== null) announceGeneratedAdmin(core.generatedAdmin)
    const app = createApp({
      operations: core.operations,
      tokens: core.tokens,
      clients: core.clients,
      naming: { env: config.env, aws: config.aws },
      storeIsReady: core.storeIsReady,
      log,
      tokenRateLimit: config.tokenRateLimit,
    })
    const server = await listen(app, config.port, config.host)
    log.info('listening', {
      url: server.url,
      port: server.port,
      env: config.env,
      store: core.embedded ? 'embedded' : 'external',
      keyStore: config.keyStore.kind,
      shredHorizonSeconds: config.shredHorizonSeconds,
      recovered: core.recovered,
      startMs: Date.now() - started,
    })
    return async () => {
      await server.close().catch(() => undefined)
      await core.close()
    }
  } catch (error) {
    await core.close()
    throw error
  }
}

/** Entry point: validate config, start, and stop cleanly on SIGTERM or SIGINT (exit 0). */
const main = async (): Promise<void> => {
  let config: Config
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`event-vault: configuration error: ${error.message}\n`)
      process.exit(1)
    }
    throw error
  }
  const log = createLogger(config.logLevel)
  process.on('unhandledRejection', (reason) => {
    log.error('unhandled rejection', { error: reason instanceof Error ? reason.name : typeof reason })
  })

  let close: () => Promise<void>
  try {
    close = await startVault(config, log)
  } catch (error) {
    log.error('start failed', { error: error instanceof Error ? error.name : typeof error })
    process.stderr.write(`event-vault: could not start: ${startFailure(error)}\n`)
    process.exit(1)
  }

  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    log.info('stopping', { signal })
    close().then(
      () => {
        log.info('stopped')
        process.exit(0)
      },
      () => process.exit(1),
    )
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

// Start-up errors are ours (config, lock, master key) or the store's connection errors:
// neither carries secret material, and the operator needs the reason.
const startFailure = (error: unknown): string => {
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n')[0].slice(0, 300)
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

void main()
