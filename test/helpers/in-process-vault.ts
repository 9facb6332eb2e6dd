import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createApp } from '../../api/app'
import { listen } from '../../api/http/server'
import { coreSettings, openVaultCore, type VaultCore } from '../../compose'
import { loadConfig } from '../../config'
import { createLogger } from '../../lib/logger'
import { connectionFromUrl } from '../../store/connection'
import { createServerDatabase } from './backends'

/** Where an in-process vault keeps its store: hand it to another to share it (a second process, a restart). */
export type StoreOf = Readonly<{ databaseUrl: string; masterKey: Buffer; keyStoreDir: string; admin: { clientId: string; clientSecret: string } }>

export type InProcessVault = Readonly<{
  url: string
  core: VaultCore
  admin: { clientId: string; clientSecret: string }
  store: StoreOf
  logs: string[]
  stop: () => Promise<void>
}>

export type InProcessOptions = Readonly<{
  /** Another vault's store, to share (a second process, or a restart after stop). */
  store?: StoreOf
  /** The clock of scheduled deletes. */
  now?: () => number
}>

/**
 * The whole vault in this test's process, built the way main.ts builds it (compose.ts, then
 * createApp over its operations) on a fresh database of the test PostgreSQL server, listening
 * on a free port. What it logs is kept, to check that no line holds a value.
 */
export const startInProcessVault = async (env: Record<string, string> = {}, options: InProcessOptions = {}): Promise<InProcessVault> => {
  const store: StoreOf = options.store ?? {
    databaseUrl: await createServerDatabase(),
    masterKey: crypto.randomBytes(32),
    keyStoreDir: fs.mkdtempSync(path.join(os.tmpdir(), 'vault-component-keys-')),
    admin: { clientId: `EVADMIN${crypto.randomBytes(6).toString('hex').toUpperCase()}`, clientSecret: crypto.randomBytes(24).toString('base64url') },
  }
  const { databaseUrl, masterKey, admin } = store
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    VAULT_MASTER_KEY: masterKey.toString('base64'),
    VAULT_KEYSTORE_DIR: store.keyStoreDir,
    VAULT_BOOTSTRAP_CLIENT_ID: admin.clientId,
    VAULT_BOOTSTRAP_CLIENT_SECRET: admin.clientSecret,
    LOG_LEVEL: 'info',
    ...env,
  })
  const logs: string[] = []
  const log = createLogger(config.logLevel, (line) => void logs.push(line))
  const core = await openVaultCore({ ...coreSettings(config, connectionFromUrl(databaseUrl), masterKey, true), now: options.now }, log)
  try {
    await core.clients.ensureBootstrapAdmin(config.bootstrapClient)
    const app = createApp({
      operations: core.operations,
      tokens: core.tokens,
      clients: core.clients,
      naming: { env: config.env, aws: config.aws },
      storeIsReady: async () => true,
      log,
      tokenRateLimit: config.tokenRateLimit,
    })
    const server = await listen(app, 0, '127.0.0.1')
    return Object.freeze({
      url: server.url,
      core,
      admin,
      store,
      logs,
      stop: async () => {
        await server.close()
        await core.close()
      },
    })
  } catch (error) {
    await core.close()
    throw error
  }
}
