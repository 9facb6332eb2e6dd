import crypto from 'node:crypto'
import path from 'node:path'
import fs from 'node:fs'
import os from 'node:os'
import pg from 'pg'
import { connectionFromUrl, type ConnectionSettings } from '../store/connection'
import { storeConnection } from './database'
import { describeMachine } from './machine'
import { writeBenchmarksFile } from './report'
import { HOT_KEY, scaleKey, seedScale, type SeedPlan } from './scale-seed'
import { readLoadWithRss, readOneKey, rssMiB, timeHistory } from './scale-measure'
import { renderScaleSection, SCALE_MARKERS, type ScaleReport } from './scale-report'
import { fetchToken } from './seed'
import { ADMIN_ID, startVault, type Vault } from './vault'
import { EVENTS_TABLE } from '../store/resolve/tables'

/**
 * `npm run bench:scale [-- --secrets N --events N --minutes M]`: the vault at 100,000 secrets and
 * about 1,000,000 events. Seeds them (stopping at the time budget), restarts the vault on that
 * data to time start-to-healthy and its RSS, then reads under load, compares reading a fresh
 * secret with one of 1,000 updates, and times the replay of that key's history. Not part of CI.
 */
const BENCHMARKS_FILE = path.join(__dirname, '..', '..', 'BENCHMARKS.md')
const progress = (text: string) => process.stderr.write(`[scale] ${text}\n`)

const argument = (args: readonly string[], name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`)
  const value = at >= 0 ? Number(args[at + 1]) : fallback
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} takes a positive number`)
  return value
}

const planFrom = (args: readonly string[]): SeedPlan => ({
  secrets: argument(args, 'secrets', 100_000),
  hotUpdates: 1_000,
  events: argument(args, 'events', 1_000_000),
  // This 2-core machine stores about 470 writes/s: 1,000,000 events take about 32 minutes.
  seconds: argument(args, 'minutes', 40) * 60,
  concurrency: 32,
})

const connectionOf = (vault: Vault): ConnectionSettings => {
  if (vault.databaseUrl !== null) return connectionFromUrl(vault.databaseUrl)
  const { host, port, user, password, database } = storeConnection(vault)
  return { host: host as string, port: port as number, user: user as string, password: password as string, database: database as string }
}

const countEvents = async (connection: ConnectionSettings): Promise<number> => {
  const client = new pg.Client(connection)
  await client.connect()
  try {
    return Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${EVENTS_TABLE}`)).rows[0].n)
  } finally {
    await client.end()
  }
}

const main = async () => {
  const plan = planFrom(process.argv.slice(2))
  const databaseUrl = process.env.DATABASE_URL?.trim() || null
  if (databaseUrl !== null) throw new Error('bench:scale runs on the embedded PostgreSQL only (it restarts it)')
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-scale-'))
  fs.chmodSync(parent, 0o755)
  const options = { dataDir: path.join(parent, 'data'), masterKey: crypto.randomBytes(32).toString('base64'), adminSecret: crypto.randomBytes(24).toString('base64url') }
  try {
    const first = await startVault(null, options)
    const connection = connectionOf(first)
    progress(`seeding ${plan.secrets.toLocaleString('en-US')} secrets, up to ${plan.events.toLocaleString('en-US')} events, at most ${plan.seconds / 60} min`)
    const seed = await seedScale(connection, { key: Buffer.from(options.masterKey, 'base64'), keyStoreDir: path.join(options.dataDir, 'keys') }, plan)
    const events = await countEvents(connection)
    progress(`seeded: ${seed.creates} creates, ${seed.updates} updates, ${events} events in ${seed.seconds.toFixed(0)} s`)
    await first.stop()

    const starts: Array<{ ms: number; rssMiB: number }> = []
    for (let i = 0; i < 3; i++) {
      const vault = await startVault(null, options)
      // RSS once the process settles after its first answer to /health.
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      starts.push({ ms: vault.startMs, rssMiB: rssMiB(vault.pid) })
      progress(`start ${i + 1}: healthy in ${vault.startMs} ms, RSS ${starts[i].rssMiB.toFixed(0)} MiB`)
      if (i < 2) await vault.stop()
      else await measureRunning(vault, seed.creates, plan, { seed, events, starts }).finally(() => vault.stop())
    }
  } finally {
    fs.rmSync(parent, { recursive: true, force: true })
  }
}

const measureRunning = async (vault: Vault, secrets: number, plan: SeedPlan, seeded: Pick<ScaleReport, 'seed' | 'events' | 'starts'>) => {
  const token = await fetchToken(vault.url, ADMIN_ID, vault.adminSecret)
  const keys = Array.from({ length: secrets }, (_, n) => scaleKey(n))
  const fresh = scaleKey(secrets - 1)
  const underLoad = await readLoadWithRss(vault.url, token, keys, vault.pid, 20)
  progress(`read load: ${Math.round(underLoad.load.perSecond)}/s, peak RSS ${underLoad.peakRssMiB.toFixed(0)} MiB`)
  // Alternated, so drift in the machine's load hits both keys alike.
  const freshRuns = []
  const hotRuns = []
  for (let i = 0; i < 3; i++) {
    freshRuns.push(await readOneKey(vault.url, token, fresh, 3))
    hotRuns.push(await readOneKey(vault.url, token, HOT_KEY, 3))
  }
  const replay = await timeHistory(vault.url, token, HOT_KEY, 5)
  const report: ScaleReport = {
    date: new Date(),
    machine: describeMachine(),
    plan,
    ...seeded,
    secrets,
    underLoad,
    freshKey: fresh,
    freshRuns,
    hotRuns,
    replay,
  }
  const section = renderScaleSection(report)
  writeBenchmarksFile(BENCHMARKS_FILE, section, SCALE_MARKERS)
  process.stdout.write(`${section}\n`)
  progress(`written to ${BENCHMARKS_FILE}`)
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`[scale] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  },
)
