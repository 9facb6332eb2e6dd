import fs from 'node:fs'
import path from 'node:path'

export type DataDirLock = Readonly<{ release: () => void }>

/** The data directory is in use by another live vault process. */
export class DataDirInUseError extends Error {
  constructor(dataDir: string, pid: number) {
    super(`VAULT_DATA_DIR ${dataDir} is in use by vault process ${pid}`)
    this.name = 'DataDirInUseError'
  }
}

/**
 * One vault process per embedded data directory: a pid file taken with O_EXCL. A pid file
 * whose process is gone (a vault killed with SIGKILL) is stale and is taken over.
 */
export const acquireDataDirLock = (dataDir: string): DataDirLock => {
  const file = path.join(dataDir, 'vault.pid')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 })
      return Object.freeze({ release: () => releaseIfOurs(file) })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = Number(fs.readFileSync(file, 'utf8').trim())
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new DataDirInUseError(dataDir, holder)
      }
      fs.rmSync(file, { force: true })
    }
  }
  throw new Error(`Could not lock VAULT_DATA_DIR ${dataDir}`)
}

const releaseIfOurs = (file: string): void => {
  try {
    if (Number(fs.readFileSync(file, 'utf8').trim()) === process.pid) fs.rmSync(file, { force: true })
  } catch {
    // Already gone: nothing to release.
  }
}

/** Whether a process exists (EPERM: it exists but belongs to another user). */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
