import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** The system user PostgreSQL's programs run as: empty when the vault is not root. */
export type RunAs = { uid?: number; gid?: number }

/** Makes the data directory (private) and, as root, lets postgres pass through it. */
export const prepareDataDir = (dataDir: string): void => {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  // SECURITY: as root, postgres runs as its own user and must be able to pass through (not
  // list or read) the data directory to reach its own, private subdirectory.
  if (isRoot()) fs.chmodSync(dataDir, 0o711)
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0

/** PostgreSQL refuses to run as root: then it runs as the system user `postgres`, made if missing. */
export const postgresUser = async (): Promise<RunAs> => {
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
export const assertReachable = (dataDir: string, runAs: RunAs): void => {
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
