import { spawn, type ChildProcess } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createServerDatabase, type Backend } from './backends'

const MAIN = path.join(__dirname, '..', '..', 'dist', 'main.js')

export const ADMIN_ID = 'test-admin'
export const ADMIN_SECRET = 'test-admin-secret-0123456789'

/** Everything a test needs to start the same vault again on the same data. */
export type VaultSetup = Readonly<{ backend: Backend; dataDir: string; env: Record<string, string> }>

/** The real server, started with `node dist/main.js` as a user would. */
export type VaultProcess = Readonly<{
  url: string
  setup: VaultSetup
  /** Everything the process wrote so far (stdout and stderr). */
  output: () => string
  /** Sends a signal and waits for the exit; resolves to the exit code (null when killed). */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
}>

/** A fresh data directory (traversable by the postgres user when tests run as root). */
export const makeDataDir = (): string => {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-test-'))
  fs.chmodSync(parent, 0o755)
  return path.join(parent, 'data')
}

/** A new, empty vault: its own data directory, master key, and (on a server) database. */
export const newVaultSetup = async (backend: Backend, env: Record<string, string> = {}): Promise<VaultSetup> => {
  const base: Record<string, string> = {
    VAULT_MASTER_KEY: crypto.randomBytes(32).toString('base64'),
    VAULT_BOOTSTRAP_CLIENT_ID: ADMIN_ID,
    VAULT_BOOTSTRAP_CLIENT_SECRET: ADMIN_SECRET,
    LOG_LEVEL: 'debug',
    // Suites mint many tokens from one address; the rate limit has its own tests.
    VAULT_TOKEN_RATE_LIMIT: '1000000',
  }
  if (backend === 'server') base.DATABASE_URL = await createServerDatabase()
  const dataDir = makeDataDir()
  // Beside the data directory, so that a second process on the same database (its own data
  // directory, the same environment) shares the key store, as processes on one host do.
  base.VAULT_KEYSTORE_DIR = path.join(path.dirname(dataDir), 'keys')
  return { backend, dataDir, env: { ...base, ...env } }
}

/** Starts a vault process and waits until it listens. */
export const startVault = (setup: VaultSetup): Promise<VaultProcess> => {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      PORT: '0',
      HOST: '127.0.0.1',
      VAULT_DATA_DIR: setup.dataDir,
      ...setup.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`vault did not start within 60 s:\n${output}`))
    }, 60_000)
    const onData = () => {
      const url = listeningUrl(output)
      if (url === null) return
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      resolve({ url, setup, output: () => output, stop: (signal = 'SIGTERM') => stop(child, exited, signal) })
    }
    child.stdout?.on('data', onData)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`vault exited with ${code} before listening:\n${output}`))
    })
  })
}

const listeningUrl = (output: string): string | null => {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      const entry = JSON.parse(line) as { msg?: string; url?: string }
      if (entry.msg === 'listening' && typeof entry.url === 'string') return entry.url
    } catch {
      // A partial line: the rest is still coming.
    }
  }
  return null
}

const stop = async (child: ChildProcess, exited: Promise<number | null>, signal: NodeJS.Signals) => {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal)
  return exited
}

/** Runs a process to its end (for start-up failures): exit code and output. */
export const runVaultToExit = (setup: VaultSetup, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PORT: '0', VAULT_DATA_DIR: setup.dataDir, ...setup.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })

/**
 * For embedded vaults: stops a postgres that a SIGKILLed vault left running, so a test that
 * kills a vault and does not restart it leaves nothing behind.
 */
export const stopLeftoverPostgres = (dataDir: string): void => {
  const pidFile = path.join(dataDir, 'postgres', 'data', 'postmaster.pid')
  if (!fs.existsSync(pidFile)) return
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0])
  try {
    process.kill(pid, 'SIGINT')
  } catch {
    // Already gone.
  }
}
