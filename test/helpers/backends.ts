import crypto from 'node:crypto'
import pg from 'pg'

/** Where a test vault keeps its data: the embedded default, or a real PostgreSQL server. */
export type Backend = 'embedded' | 'server'

/** The backends a suite runs on: always the embedded default; the server when one is there. */
export const backends = (): Backend[] => (process.env.TEST_DATABASE_URL ? ['embedded', 'server'] : ['embedded'])

/** A fresh database on the test server, so every vault started on it starts empty. */
export const createServerDatabase = async (): Promise<string> => {
  const admin = process.env.TEST_DATABASE_URL
  if (!admin) throw new Error('TEST_DATABASE_URL is not set')
  const name = `vault_${crypto.randomBytes(6).toString('hex')}`
  const client = new pg.Client({ connectionString: admin })
  await client.connect()
  try {
    await client.query(`CREATE DATABASE ${name}`)
  } finally {
    await client.end()
  }
  const url = new URL(admin)
  url.pathname = `/${name}`
  return url.toString()
}
