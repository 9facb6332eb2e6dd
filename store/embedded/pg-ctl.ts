import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import type { Logger } from '../../lib/logger'
import type { Binaries } from './binaries'
import { isAlive, type DataDirLock } from './data-dir-lock'
import { freePort } from './free-port'
import type { RunAs } from './run-as'

// The cluster under `<dataDir>/postgres`, driven through initdb and pg_ctl.

const run = promisify(execFile)

/** The database superuser initdb makes; the vault connects as it. */
export const DB_USER = 'vault'

/** Makes the cluster, its superuser's password set from `password`. */
export const initialise = async (bin: Binaries, pgDir: string, password: string, runAs: RunAs, log: Logger) => {
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
export const stopLeftoverServer = async (bin: Binaries, pgDir: string, runAs: RunAs, log: Logger) => {
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
export const serverIsRunning = (pgDir: string): boolean => {
  try {
    const pid = Number(fs.readFileSync(path.join(clusterDir(pgDir), 'postmaster.pid'), 'utf8').split('\n')[0])
    return Number.isInteger(pid) && pid > 0 && isAlive(pid)
  } catch {
    return false
  }
}

/** Starts the cluster on `fixedPort`, or on a free port (then a few tries: one can be taken). */
export const startServer = async (bin: Binaries, pgDir: string, runAs: RunAs, fixedPort?: number): Promise<number> => {
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

export const stopServer = async (bin: Binaries, pgDir: string, runAs: RunAs, lock: DataDirLock, log: Logger) => {
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
