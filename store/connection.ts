import { parse } from 'pg-connection-string'

/** Where the store's PostgreSQL is: what both our pool and the reSolve adapter need. */
export type ConnectionSettings = Readonly<{
  host: string
  port: number
  user: string
  password: string
  database: string
}>

/** Settings from a DATABASE_URL (already validated as a postgres URL by config). */
export const connectionFromUrl = (url: string): ConnectionSettings => {
  const parsed = parse(url)
  return Object.freeze({
    host: parsed.host ?? '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 5432,
    user: parsed.user ?? 'postgres',
    password: parsed.password ?? '',
    database: parsed.database ?? 'postgres',
  })
}
