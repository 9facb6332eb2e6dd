import type { Machine } from './machine'
import type { SeedPlan, SeedResult } from './scale-seed'
import type { Replay } from './scale-measure'
import { failures, percentile, type Measurement } from './stats'

export const SCALE_MARKERS = { start: '<!-- bench:scale:start -->', end: '<!-- bench:scale:end -->' }

export type ScaleReport = Readonly<{
  date: Date
  machine: Machine
  plan: SeedPlan
  seed: SeedResult
  events: number
  secrets: number
  starts: ReadonlyArray<{ ms: number; rssMiB: number }>
  underLoad: Readonly<{ load: Measurement; peakRssMiB: number }>
  freshKey: string
  freshRuns: readonly Measurement[]
  hotRuns: readonly Measurement[]
  replay: Replay
}>

const num = (value: number) => Math.round(value).toLocaleString('en-US')
const median = (values: readonly number[]) => percentile([...values].sort((a, b) => a - b), 50)
const yes = (ok: boolean) => (ok ? 'yes' : '**no**')

// Runs of one key pooled: medians of their p50 and p99.
const pooled = (runs: readonly Measurement[]) => ({
  p50: median(runs.map((m) => m.p50Ms)),
  p99: median(runs.map((m) => m.p99Ms)),
  perSecond: median(runs.map((m) => m.perSecond)),
  failed: runs.reduce((sum, m) => sum + failures(m), 0),
})

/** The section of BENCHMARKS.md between the scale markers. */
export const renderScaleSection = (report: ScaleReport): string => {
  const { machine, seed, plan } = report
  const startMs = median(report.starts.map((s) => s.ms))
  const startRss = Math.max(...report.starts.map((s) => s.rssMiB))
  const fresh = pooled(report.freshRuns)
  const hot = pooled(report.hotRuns)
  const slower = hot.p50 / fresh.p50 - 1
  const load = report.underLoad.load
  const cut = seed.stoppedByTime
    ? ` Seeding stopped at its time budget of ${plan.seconds / 60} minutes, short of the ${num(plan.events)} events asked for: that is what this machine stores in that time.`
    : ''
  return [
    `## Scale run: ${report.date.toISOString().replace(/\.\d+Z$/, 'Z')}, embedded PostgreSQL`,
    '',
    `- Machine: ${machine.cpu}, ${machine.cpus} CPUs, ${machine.memoryGiB} GiB; Node ${machine.node}; load average at the end ${machine.loadAverage}.`,
    `- Data: ${num(report.secrets)} secrets and ${num(report.events)} events in the event store (each create stores two: \`SecretCreated\` and the secrets manager's key event),`,
    `  seeded in ${(seed.seconds / 60).toFixed(1)} min through the service layer (${num(seed.creates)} creates, ${num(seed.updates)} updates, ${plan.concurrency} at a time;`,
    `  ${num((seed.creates + seed.updates) / seed.seconds)} writes/s). \`scale-0\` has 1,001 events; \`${report.freshKey}\` has one.${cut}`,
    `- Start: \`node dist/main.js\` (what \`npm start\` runs after its build) on that data directory, timed from spawn to the first 200 of \`/health\`, three times;`,
    `  RSS is the vault process's own (PostgreSQL's processes not included), read from /proc 1 s after it is healthy, and every 250 ms under load.`,
    `- Read load: 20 s at 32 connections over all ${num(report.secrets)} keys at random. Latency of one key: 1 connection, 3 s per run, the two keys alternated three times (medians of the runs).`,
    `- Replay: \`GET /secrets/scale-0/history\` (its ${num(report.replay.events)} events), five times in a row.`,
    '',
    '| measure | value | target | met |',
    '|---|---:|---|---|',
    `| start to healthy (median of 3: ${report.starts.map((s) => num(s.ms)).join(', ')} ms) | ${num(startMs)} ms | < 3 s | ${yes(startMs < 3000)} |`,
    `| RSS after start (largest of 3) | ${startRss.toFixed(0)} MiB | < 300 MB | ${yes(startRss * 1.048576 < 300)} |`,
    `| RSS under read load (peak) | ${report.underLoad.peakRssMiB.toFixed(0)} MiB | < 300 MB | ${yes(report.underLoad.peakRssMiB * 1.048576 < 300)} |`,
    `| reads at 32 connections, all keys | ${num(load.perSecond)}/s, p50 ${load.p50Ms.toFixed(2)} ms, p99 ${load.p99Ms.toFixed(2)} ms${failures(load) > 0 ? `, **${failures(load)} failures**` : ''} |  |  |`,
    `| read of a 1-event secret (1 connection) | p50 ${fresh.p50.toFixed(2)} ms, p99 ${fresh.p99.toFixed(2)} ms, ${num(fresh.perSecond)}/s |  |  |`,
    `| read of the 1,000-update secret (1 connection) | p50 ${hot.p50.toFixed(2)} ms, p99 ${hot.p99.toFixed(2)} ms, ${num(hot.perSecond)}/s |  |  |`,
    `| 1,000-update read vs 1-event read (p50) | ${slower >= 0 ? '+' : ''}${(slower * 100).toFixed(1)}% | within 20% | ${yes(slower <= 0.2 && fresh.failed + hot.failed === 0)} |`,
    `| full replay of \`scale-0\`'s history (median of 5: ${report.replay.timesMs.map((ms) => ms.toFixed(0)).join(', ')} ms) | ${median(report.replay.timesMs).toFixed(0)} ms |  |  |`,
  ].join('\n')
}
