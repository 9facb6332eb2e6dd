import { createLogger } from './lib/logger'
import { ConfigError, loadConfig, type Config } from './config'
import { startVault } from './vault'

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

  let vault
  try {
    vault = await startVault(config, log)
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
    vault.close().then(
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

void main()
