import crypto from 'node:crypto'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { serverFacts, storeConnection, storeSettings } from './database'
import { startHttpCeiling } from './http-ceiling'
import { loadHttp } from './load'
import { describeMachine, fileSystemOf } from './machine'
import { planFrom, type Plan } from './options'
import { failedRuns, renderSection, writeBenchmarksFile, type Report } from './report'
import { readRequest } from './requests'
import { measureVault } from './scenarios'
import { fetchToken, readAnswerBytes, seedSecrets } from './seed'
import type { Measurement } from './stats'
import { measureEventStoreCeiling } from './event-store-ceiling'
import { measureStorageCeiling } from './storage-ceiling'
import { ADMIN_ID, startVault, type Vault } from './vault'

const BENCHMARKS_FILE = path.join(__dirname, '..', '..', 'BENCHMARKS.md')

const progress = (text: string) => process.stderr.write(`[bench] ${text}\n`)

const line = (label: string, m: Measurement) =>
  progress(
    `${label.padEnd(16)} c=${String(m.connections).padStart(2)}  ${Math.round(m.perSecond).toString().padStart(6)}/s` +
      `  p50 ${m.p50Ms.toFixed(2)} ms  p99 ${m.p99Ms.toFixed(2)} ms` +
      (m.errors > 0 || Object.keys(m.unexpected).length > 0 ? `  FAILURES ${JSON.stringify({ ...m.unexpected, errors: m.errors })}` : ''),
  )

const measure = async (plan: Plan, vault: Vault, started: number): Promise<Report> => {
  const machine = describeMachine()
  const connection = storeConnection(vault)
  const server = await serverFacts(connection)
  progress(`vault ready in ${(vault.startMs / 1000).toFixed(1)} s; ${server.version.split(',')[0]}`)

  const storageCeiling = await measureStorageCeiling(connection, plan.connections, plan.seconds)
  storageCeiling.forEach((m) => line('storage ceiling', m))
  const eventStoreCeiling = await measureEventStoreCeiling(storeSettings(vault), plan.connections, plan.seconds)
  eventStoreCeiling.forEach((m) => line('event store', m))

  const runId = crypto.randomBytes(3).toString('hex')
  const token = await fetchToken(vault.url, ADMIN_ID, vault.adminSecret)
  progress(`storing ${plan.seededSecrets} secrets`)
  const seeded = await seedSecrets(vault.url, token, `${runId}-s`, plan.seededSecrets, plan.seedConnections)
  line('seed (create)', seeded.load)
  const readBodyBytes = await readAnswerBytes(vault.url, token, seeded.keys[0])

  const ceilingServer = await startHttpCeiling(readBodyBytes)
  const httpCeiling: Measurement[] = []
  try {
    const request = () => [readRequest(token, seeded.keys)]
    for (const connections of plan.connections) {
      // Warmed before each run at its concurrency, as the vault's runs are (scenarios.ts).
      await loadHttp({ url: ceilingServer.url, connections, seconds: plan.warmupSeconds, requests: request(), expect: 200 })
      const m = await loadHttp({ url: ceilingServer.url, connections, seconds: plan.seconds, requests: request(), expect: 200 })
      httpCeiling.push(m)
      line('HTTP ceiling', m)
    }
  } finally {
    await ceilingServer.close()
  }

  const target = { url: vault.url, token, clientId: ADMIN_ID, clientSecret: vault.adminSecret, seeded: seeded.keys, seededPrefix: `${runId}-s`, runId }
  const vaultRuns = await measureVault(target, plan, (run) => line(run.operation, run.measurement))

  return {
    date: new Date(),
    plan,
    store: vault.databaseUrl === null ? 'embedded' : 'DATABASE_URL',
    machine,
    server,
    fileSystem: vault.databaseUrl === null ? fileSystemOf(vault.dataDir) : null,
    vaultStartMs: vault.startMs,
    readBodyBytes,
    seed: seeded.load,
    seededKeys: seeded.keys.length,
    runId,
    httpCeiling,
    storageCeiling,
    eventStoreCeiling,
    vault: vaultRuns,
    wallSeconds: (performance.now() - started) / 1000,
  }
}

const main = async (): Promise<number> => {
  const started = performance.now()
  const plan = planFrom(process.argv.slice(2))
  const databaseUrl = process.env.DATABASE_URL?.trim() || null
  progress(`${plan.mode} run on ${databaseUrl === null ? 'the embedded PostgreSQL' : 'DATABASE_URL'}`)
  const vault = await startVault(databaseUrl)
  const interrupted = () => {
    progress('interrupted: stopping the vault')
    void vault.stop().finally(() => process.exit(130))
  }
  process.once('SIGINT', interrupted)
  process.once('SIGTERM', interrupted)
  let report: Report
  try {
    report = await measure(plan, vault, started)
  } finally {
    await vault.stop()
  }
  report = { ...report, wallSeconds: (performance.now() - started) / 1000 }
  const section = renderSection(report)
  writeBenchmarksFile(BENCHMARKS_FILE, section)
  process.stdout.write(`${section}\n`)
  progress(`written to ${BENCHMARKS_FILE}; ${report.wallSeconds.toFixed(0)} s`)
  const failed = failedRuns(report)
  if (failed.length === 0) return 0
  const banner = '!'.repeat(78)
  process.stderr.write(`\n${banner}\n!! ${failed.length} RUNS HAD FAILURES; THEIR FIGURES ARE NOT VALID:\n`)
  for (const run of failed) process.stderr.write(`!!   ${run}\n`)
  process.stderr.write(`${banner}\n`)
  return 1
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  },
)
