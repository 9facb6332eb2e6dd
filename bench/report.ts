import fs from 'node:fs'
import type { ServerFacts } from './database'
import type { Machine } from './machine'
import type { Plan } from './options'
import type { Operation, VaultRun } from './scenarios'
import { failures, type Measurement } from './stats'

export const START_MARKER = '<!-- bench:start -->'
export const END_MARKER = '<!-- bench:end -->'

export type Report = Readonly<{
  date: Date
  plan: Plan
  store: 'embedded' | 'DATABASE_URL'
  machine: Machine
  server: ServerFacts
  /** The file system of the embedded store's data directory; null with DATABASE_URL. */
  fileSystem: string | null
  vaultStartMs: number
  readBodyBytes: number
  seed: Measurement
  seededKeys: number
  /** The prefix of every key this run stored. */
  runId: string
  httpCeiling: readonly Measurement[]
  storageCeiling: readonly Measurement[]
  /** reSolve's adapter saving events alone: a reference for writes, not a target's ceiling. */
  eventStoreCeiling: readonly Measurement[]
  vault: readonly VaultRun[]
  wallSeconds: number
}>

type Ceiling = 'HTTP' | 'storage'

const CEILING_OF: Record<Operation, Ceiling> = { read: 'HTTP', list: 'HTTP', create: 'storage', update: 'storage', delete: 'storage', token: 'HTTP' }

/** One part of a target: its name, and whether a run meets it. */
type TargetPart = Readonly<{ name: string; met: (m: Measurement, ratio: number) => boolean }>

/** A target of the issue, as text for the table and as the parts a run is checked against. */
type Target = Readonly<{ text: string; parts: readonly TargetPart[] }>

const throughputAtLeast = (share: number): TargetPart => ({ name: 'throughput', met: (_m, ratio) => ratio >= share })

const targetOf = (operation: Operation, connections: number): Target | null => {
  if (operation === 'read' && connections === 32) {
    return { text: '≥ 50% of HTTP, p99 < 10 ms', parts: [throughputAtLeast(0.5), { name: 'p99', met: (m) => m.p99Ms < 10 }] }
  }
  if (operation === 'create' || operation === 'update') {
    return { text: '≥ 25% of storage', parts: [throughputAtLeast(0.25)] }
  }
  return null
}

// 'yes', or which part of a target of several parts was missed (a run with failures meets nothing).
const metText = (target: Target | null, m: Measurement, ratio: number): string => {
  if (target === null) return ''
  if (failures(m) > 0) return '**no**'
  const missed = target.parts.filter((part) => !part.met(m, ratio))
  if (missed.length === 0) return 'yes'
  return target.parts.length > 1 && missed.length === 1 ? `**no** (${missed[0].name}; the rest met)` : '**no**'
}

const num = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–')
const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : '–')
const pct = (value: number): string => (Number.isFinite(value) ? `${(value * 100).toFixed(1)}%` : '–')

const failureText = (m: Measurement, bold = true): string => {
  const parts = Object.entries(m.unexpected).map(([status, count]) => `${count}× ${status}`)
  if (m.errors > 0) parts.push(`${m.errors} errors`)
  if (parts.length === 0) return '0'
  return bold ? `**${parts.join(', ')}**` : parts.join(', ')
}

const ceilingAt = (ceilings: readonly Measurement[], connections: number): Measurement | undefined =>
  ceilings.find((m) => m.connections === connections)

/** A run's throughput as a share of the reference measured at its concurrency (NaN without one). */
const shareOf = (m: Measurement, references: readonly Measurement[]): number => {
  const reference = ceilingAt(references, m.connections)
  return reference === undefined || reference.perSecond === 0 ? Number.NaN : m.perSecond / reference.perSecond
}

/** Every run with a failure, named; empty when the run was clean. */
export const failedRuns = (report: Report): string[] => [
  ...(failures(report.seed) > 0 ? [`seeding: ${failureText(report.seed, false)}`] : []),
  ...report.httpCeiling.filter((m) => failures(m) > 0).map((m) => `HTTP ceiling at ${m.connections}: ${failureText(m, false)}`),
  ...report.storageCeiling.filter((m) => failures(m) > 0).map((m) => `storage ceiling at ${m.connections}: ${failureText(m, false)}`),
  ...report.eventStoreCeiling.filter((m) => failures(m) > 0).map((m) => `event store at ${m.connections}: ${failureText(m, false)}`),
  ...report.vault
    .filter((run) => failures(run.measurement) > 0)
    .map((run) => `${run.operation} at ${run.measurement.connections}: ${failureText(run.measurement, false)}`),
]

export const ceilingsTable = (report: Report): string => {
  const rows = [
    '| ceiling | connections | per second | p50 ms | p99 ms | failures |',
    '|---|---:|---:|---:|---:|---|',
    ...report.httpCeiling.map((m) => `| HTTP: node:http, ${report.readBodyBytes}-byte JSON | ${m.connections} | ${num(m.perSecond)} | ${ms(m.p50Ms)} | ${ms(m.p99Ms)} | ${failureText(m)} |`),
    ...report.storageCeiling.map((m) => `| storage: single-row INSERT commits | ${m.connections} | ${num(m.perSecond)} | ${ms(m.p50Ms)} | ${ms(m.p99Ms)} | ${failureText(m)} |`),
    ...report.eventStoreCeiling.map((m) => `| event store (reference): reSolve's saveEvent alone | ${m.connections} | ${num(m.perSecond)} | ${ms(m.p50Ms)} | ${ms(m.p99Ms)} | ${failureText(m)} |`),
  ]
  return rows.join('\n')
}

export const vaultTable = (report: Report): string => {
  const rows = [
    '| operation | connections | req/s | p50 ms | p99 ms | ratio to ceiling | target | met | of event store | failures |',
    '|---|---:|---:|---:|---:|---:|---|---|---:|---|',
  ]
  for (const { operation, measurement: m } of report.vault) {
    const kind = CEILING_OF[operation]
    const ratio = shareOf(m, kind === 'HTTP' ? report.httpCeiling : report.storageCeiling)
    const target = targetOf(operation, m.connections)
    const met = metText(target, m, ratio)
    // Writes also against what reSolve's adapter saves alone, every write's last statement.
    const ofEventStore = kind === 'storage' ? pct(shareOf(m, report.eventStoreCeiling)) : ''
    rows.push(
      `| ${operation} | ${m.connections} | ${num(m.perSecond)} | ${ms(m.p50Ms)} | ${ms(m.p99Ms)} | ${pct(ratio)} of ${kind} | ${target?.text ?? ''} | ${met} | ${ofEventStore} | ${failureText(m)} |`,
    )
  }
  return rows.join('\n')
}

/** The whole section between the markers. */
export const renderSection = (report: Report): string => {
  const { machine, server, plan } = report
  const failed = failedRuns(report)
  const lines = [
    `## Last run: ${report.date.toISOString().replace(/\.\d+Z$/, 'Z')}, ${plan.mode} mode, ${report.store === 'embedded' ? 'embedded PostgreSQL' : 'PostgreSQL from DATABASE_URL'}`,
    '',
    ...(failed.length > 0
      ? [`**WARNING: ${failed.length} runs had failures; their figures are not valid:** ${failed.join('; ')}.`, '']
      : []),
    `- Machine: ${machine.cpu}, ${machine.cpus} CPUs, ${machine.memoryGiB} GiB, ${machine.os}; Node ${machine.node}; load average at start ${machine.loadAverage}.`,
    `- PostgreSQL: ${server.version}; fsync=${server.fsync}, synchronous_commit=${server.synchronousCommit}, wal_sync_method=${server.walSyncMethod}${report.fileSystem === null ? '' : `; data directory on ${report.fileSystem}`}.`,
    `- Vault: \`node dist/main.js\` on ${report.store === 'embedded' ? 'the embedded PostgreSQL in a fresh temporary VAULT_DATA_DIR' : `the DATABASE_URL given to the benchmark (the storage ceiling uses the same server); the secrets it stored, keys starting \`${report.runId}-\`, stay in that database`}; ready in ${(report.vaultStartMs / 1000).toFixed(1)} s.`,
    `  LOG_LEVEL=warn: at the default (info) every request writes an access-log line to stdout, which would be measured too.`,
    `  VAULT_TOKEN_RATE_LIMIT=1000000: the default of 120 tokens a minute per client and address would turn the token benchmark into a 429 benchmark.`,
    `- Data: ${report.seededKeys.toLocaleString('en-US')} secrets stored through the API before the runs (${plan.seedConnections} connections, ${num(report.seed.perSecond)} creates/s); reads and updates pick one of them at random.`,
    `- Load: autocannon, one request in flight per connection, ${plan.seconds} s per run, each after ${plan.warmupSeconds} s of unmeasured load at its own concurrency (the HTTP ceiling's too);`,
    `  deletes delete, once each, the keys the creates at the same concurrency created (a fixed number of requests), after one warm-up on the creates' warm-up keys at 8 connections.`,
    `  list: one client pages through all ${report.seededKeys.toLocaleString('en-US')} seeded secrets, 100 a page, following nextToken, again and again for the run's seconds; its req/s are pages per second (bench/listing.ts).`,
    `  req/s counts expected answers (200; 204 for deletes) per second; p50/p99 are of those answers, in ms; any other answer or error is a failure.`,
    `- Ceilings, same machine, same concurrency: HTTP is a bare node:http server in its own process answering a fixed JSON body the size of a read answer`,
    `  (${report.readBodyBytes} bytes; without the vault's extra headers) to the same GET requests from autocannon; storage is single-row INSERT commits`,
    `  (autocommit, durable) into a scratch table on the same PostgreSQL from N \`pg\` clients in closed loops. Reads and tokens are compared with HTTP, writes with storage.`,
    `  For reference, not a target: the event store is reSolve's PostgreSQL adapter alone saving the first event of a fresh aggregate (the statement every vault write`,
    `  ends in), N adapters in closed loops, into a scratch event store on the same server; "of event store" compares writes with it (an update saves one event;`,
    `  a create or a delete two, as the secrets manager records storing or deleting the data key as an event of its own).`,
    `  The load generator, the vault and PostgreSQL share the machine's ${machine.cpus} CPUs, as they do for the ceilings.`,
    `- Wall time of the benchmark process: ${report.wallSeconds.toFixed(0)} s.`,
    '',
    '### Ceilings',
    '',
    ceilingsTable(report),
    '',
    '### Vault',
    '',
    vaultTable(report),
  ]
  return lines.join('\n')
}

const HEADER = `# Benchmarks

\`npm run bench\` (under 5 minutes) or \`npm run bench:quick\` (under 1) measures the vault and writes the
section between the two markers below; the rest of this file is kept, for notes and history.
Run it on an otherwise idle machine: figures taken beside other work are noisy.

`

/** Replaces the section between the markers (or adds it), keeping the rest of the file. */
export const writeBenchmarksFile = (file: string, section: string, markers = { start: START_MARKER, end: END_MARKER }): void => {
  const block = `${markers.start}\n${section}\n${markers.end}`
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : HEADER
  const start = current.indexOf(markers.start)
  const end = current.indexOf(markers.end)
  const next =
    start >= 0 && end > start
      ? current.slice(0, start) + block + current.slice(end + markers.end.length)
      : `${current.trimEnd()}\n\n${block}\n`
  fs.writeFileSync(file, next.endsWith('\n') ? next : `${next}\n`)
}
