import { spawn, type ChildProcess } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { isAlive } from '../store/embedded/data-dir-lock'
import { freePort } from '../store/embedded/free-port'

const MAIN = path.join(__dirname, '..', 'main.js')
const START_TIMEOUT_MS = 120_000
const STOP_TIMEOUT_MS = 30_000

export const ADMIN_ID = 'bench-admin'

/** The vault under test: `node dist/main.js`, started the way a user starts it. */
export type Vault = Readonly<{
  url: string
  dataDir: string
  /** Set when the vault runs on the DATABASE_URL given to the benchmark. */
  databaseUrl: string | null
  adminSecret: string
  startMs: number
  /** The vault's process id (for its memory figures). */
  pid: number
  /** SIGTERM, wait for the exit, remove the temporary data directory (not a given one). Safe to call twice. */
  stop: () => Promise<void>
}>

/** How to start a vault other than the default (a fresh temporary data directory, no extra flags). */
export type VaultOptions = Readonly<{
  /** Flags for node before the script, e.g. --cpu-prof. */
  nodeArgs?: readonly string[]
  /** An existing data directory (with its master key in VAULT_MASTER_KEY): it is kept on stop. */
  dataDir?: string
  masterKey?: string
  adminSecret?: string
}>

/**
 * Starts a vault, on a fresh data directory unless one is given. With LOG_LEVEL=warn it does
 * not log its "listening" line, so it gets a free port of ours and is ready once /health answers 200.
 */
export const startVault = async (databaseUrl: string | null, options: VaultOptions = {}): Promise<Vault> => {
  const parent = options.dataDir === undefined ? fs.mkdtempSync(path.join(os.tmpdir(), 'vault-bench-')) : null
  // As root the embedded PostgreSQL runs as the postgres user, which must pass through.
  if (parent !== null) fs.chmodSync(parent, 0o755)
  const dataDir = options.dataDir ?? path.join(parent as string, 'data')
  const adminSecret = options.adminSecret ?? crypto.randomBytes(24).toString('base64url')
  const port = await freePort()
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    PORT: String(port),
    HOST: '127.0.0.1',
    VAULT_DATA_DIR: dataDir,
    // A store refuses a master key other than its own: a DATABASE_URL store that already has
    // one needs it passed in; a fresh store (always the embedded one here) gets a random key.
    VAULT_MASTER_KEY:
      options.masterKey ??
      (databaseUrl !== null ? process.env.VAULT_MASTER_KEY : undefined) ??
      crypto.randomBytes(32).toString('base64'),
    VAULT_BOOTSTRAP_CLIENT_ID: ADMIN_ID,
    VAULT_BOOTSTRAP_CLIENT_SECRET: adminSecret,
    // One access-log line per request at info; the benchmark measures the vault, not its logging.
    LOG_LEVEL: 'warn',
    // 120 tokens a minute by default: the token benchmark would measure 429s.
    VAULT_TOKEN_RATE_LIMIT: '1000000',
    ...(databaseUrl !== null ? { DATABASE_URL: databaseUrl } : {}),
    ...(process.env.PGSSLMODE !== undefined ? { PGSSLMODE: process.env.PGSSLMODE } : {}),
  }
  const started = Date.now()
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8_000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${port}`

  let stopped: Promise<void> | null = null
  const stop = () => (stopped ??= stopAndRemove(child, exited, dataDir, parent))
  try {
    await waitUntilHealthy(url, child, () => output)
  } catch (error) {
    await stop()
    throw error
  }
  return Object.freeze({ url, dataDir, databaseUrl, adminSecret, startMs: Date.now() - started, pid: child.pid ?? 0, stop })
}

const waitUntilHealthy = async (url: string, child: ChildProcess, output: () => string): Promise<void> => {
  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the vault exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output()}`)
    }
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })
      await response.arrayBuffer()
      if (response.status === 200) return
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`the vault was not ready within ${START_TIMEOUT_MS / 1000} s:\n${output()}`)
}

const stopAndRemove = async (child: ChildProcess, exited: Promise<void>, dataDir: string, parent: string | null) => {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
    await exited
    clearTimeout(timer)
  }
  await stopLeftoverPostgres(dataDir)
  if (parent !== null) fs.rmSync(parent, { recursive: true, force: true })
}

/** A vault that had to be killed leaves its embedded postgres running: stop it before removing its files. */
const stopLeftoverPostgres = async (dataDir: string): Promise<void> => {
  const pidFile = path.join(dataDir, 'postgres', 'data', 'postmaster.pid')
  if (!fs.existsSync(pidFile)) return
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0])
  if (!Number.isInteger(pid) || pid <= 0) return
  try {
    process.kill(pid, 'SIGINT')
  } catch {
    return
  }
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100))
}
