import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const SCRIPT = path.join(__dirname, '..', '..', 'scripts', 'postgres-server.sh')
const script = (...args: string[]) => execFileSync('bash', [SCRIPT, ...args], { encoding: 'utf8' }).trim()

/**
 * A PostgreSQL server of the test's own (the machine's Debian server), for tests that stop,
 * kill or restart the server: the shared one serves other suites at the same time.
 */
export type OwnPostgres = Readonly<{
  url: string
  stop: () => void
  resume: () => void
  /** SIGKILL the postmaster, as a crash would (its children go down with it). */
  kill: () => void
  dispose: () => void
}>

/** Whether the machine has a PostgreSQL server to start (CI always does). */
export const hasPostgresServer = (): boolean => {
  try {
    script('find')
    return true
  } catch {
    return false
  }
}

export const startOwnPostgres = (): OwnPostgres => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-own-pg-'))
  const url = script('start', dir)
  const quietly = (...args: string[]) => {
    try {
      script(...args)
    } catch {
      // Already in the state asked for.
    }
  }
  return Object.freeze({
    url,
    stop: () => script('stop', dir),
    resume: () => script('resume', dir),
    kill: () => script('kill', dir),
    dispose: () => {
      quietly('stop', dir)
      fs.rmSync(dir, { recursive: true, force: true })
    },
  })
}
