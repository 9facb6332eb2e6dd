import fs from 'node:fs'
import os from 'node:os'

/** The machine a run was measured on, as the report states it. */
export type Machine = Readonly<{ cpu: string; cpus: number; memoryGiB: number; os: string; node: string; loadAverage: string }>

export const describeMachine = (): Machine => {
  const cpus = os.cpus()
  return Object.freeze({
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: os.loadavg().map((load) => load.toFixed(2)).join(' '),
  })
}

// statfs magic numbers of the file systems a data directory is commonly on.
const FILE_SYSTEMS: Record<number, string> = {
  0xef53: 'ext4',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x01021994: 'tmpfs (fsync costs nothing)',
  0x794c7630: 'overlayfs',
  0x2fc12fc1: 'zfs',
  0x6969: 'nfs',
}

/** The file system under a directory: a commit costs what its fsync costs. */
export const fileSystemOf = (dir: string): string => {
  try {
    const type = fs.statfsSync(dir).type
    return FILE_SYSTEMS[type] ?? `statfs type 0x${type.toString(16)}`
  } catch {
    return 'unknown'
  }
}
