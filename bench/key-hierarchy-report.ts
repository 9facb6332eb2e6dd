import type { ServerFacts } from './database'
import type { KeysPlan } from './key-plan'
import type { Timings } from './key-timers'
import type { Machine } from './machine'

export const KEYS_MARKERS = { start: '<!-- bench:keys:start -->', end: '<!-- bench:keys:end -->' }

export type PassRun = Readonly<{
  pass: number
  /** Seconds spent seeding before this pass (not measured): the live keys before the first, the deletions before each. */
  seedSeconds: number
  /** Distinct shards the pass's deletions fell in. */
  shardsTouched: number
  instrumented: boolean
  ms: number
  shards: number
  rewrapped: number
  nodeCpuMs: number
  timings: Timings
}>

export type RewrapRun = Readonly<{
  secrets: number
  instrumented: boolean
  /** Opening the core with the new master key and the old one as previous (not part of `ms`). */
  openMs: number
  ms: number
  rewrapped: number
  shardKeys: number
  clients: number
  nodeCpuMs: number
  timings: Timings
}>

export type KeysReport = Readonly<{
  date: Date
  plan: KeysPlan
  machine: Machine
  server: ServerFacts
  fileSystem: string
  passes: readonly PassRun[]
  rewraps: readonly RewrapRun[]
  wallSeconds: number
}>

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const s = (ms: number, digits = 2) => (ms / 1000).toFixed(digits)

const breakdown = (timings: Timings, totalMs: number): string[] => {
  const rows = [...timings].sort((a, b) => b[1].ms - a[1].ms)
  const counted = rows.reduce((sum, [, t]) => sum + t.ms, 0)
  return [
    '| step | calls | seconds | share of the wall time |',
    '|---|---:|---:|---:|',
    ...rows.map(([name, t]) => `| ${name} | ${int(t.calls)} | ${s(t.ms)} | ${((100 * t.ms) / totalMs).toFixed(1)}% |`),
    `| the rest: JavaScript between those calls (parsing wrapped keys, filtering, awaits) | | ${s(Math.max(0, totalMs - counted))} | ${((100 * Math.max(0, totalMs - counted)) / totalMs).toFixed(1)}% |`,
  ]
}

export const renderKeysSection = (r: KeysReport): string => {
  const { plan } = r
  const timedPass = r.passes.find((p) => p.instrumented)
  const timedRewrap = r.rewraps.find((p) => p.instrumented)
  const lines = [
    `### Run: ${r.date.toISOString().replace(/\.\d+Z$/, 'Z')}, embedded PostgreSQL (\`npm run bench:keys\`)`,
    '',
    `- Machine: ${r.machine.cpu}, ${r.machine.cpus} CPUs, ${r.machine.memoryGiB} GiB, ${r.machine.os}; Node ${r.machine.node}; load average at the end ${r.machine.loadAverage}.`,
    `- PostgreSQL: ${r.server.version.split(',')[0]}; fsync=${r.server.fsync}, synchronous_commit=${r.server.synchronousCommit}, wal_sync_method=${r.server.walSyncMethod}; ` +
      `data directory and key store (\`$VAULT_DATA_DIR/keys\`) on ${r.fileSystem}.`,
    '- Store: made by `node dist/main.js` on a fresh data directory (schema, 256 shard keys in the file key store, the bootstrap admin), which is then stopped: ' +
      'its own shredder (a pass every 5 s) would take the due shards itself. The same embedded PostgreSQL is started on that data directory in the ' +
      "benchmark's process, and the vault's core is opened on it with `openVaultCore` (the one wiring; `runShredder: false`, horizon 60 s).",
    `- Seeded directly, not measured: ${int(plan.live)} live data keys inserted into \`eventstore.secrets\` (fresh keys wrapped under their shards' current keys ` +
      `by the vault's \`keys.withShardKey\` and \`wrapDataKey\`, 5,000 rows an INSERT), then before each pass ${int(plan.deleted)} deletions as a delete leaves them ` +
      `(a wrapped key stored, then set to NULL as reSolve's deleteSecret does, and a row in \`vault.shred_requests\` for its shard, asked an hour ago so it is due); ` +
      `${int(plan.clients)} clients (the bootstrap admin and ${int(plan.clients - 1)} through the clients service). No events, read-model rows or values: ` +
      'the shredder and the rewrap read neither. Before each timed step: VACUUM ANALYZE of the two tables, CHECKPOINT.',
    `- Measured: one \`shredder.pass()\` per row below (the core's own shredder; the row with timed steps is \`createShredder\` on the same pool and key hierarchy ` +
      'with timers around its calls into them and around every SQL statement), and `rewrapAll` on a core opened with a new master key and the previous one in ' +
      '`previousMasterKeys`. After each: no request pending, no key retiring, one key per shard in the key store, every live data key under its ' +
      `shard's current key, 1,000 sampled data keys still opening to the keys they were made with; after a rewrap every stored data key byte for byte as before ` +
      'and every shard key and client secret under the new master key; at the end the last master key alone opens the store and the sample.',
    `- Wall time of the benchmark process: ${r.wallSeconds.toFixed(0)} s.`,
    '',
    '| shred pass | steps timed | deletions (shards they touched) | shards re-keyed | data keys re-wrapped | seconds | re-wrapped/s | Node CPU s | seeding before it, s (not measured) |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
    ...r.passes.map(
      (p) =>
        `| ${p.pass} | ${p.instrumented ? 'yes' : 'no'} | ${int(plan.deleted)} (${p.shardsTouched}) | ${p.shards} | ${int(p.rewrapped)} | ${s(p.ms)} | ` +
        `${int(p.rewrapped / (p.ms / 1000))} | ${s(p.nodeCpuMs)} | ${p.seedSeconds.toFixed(1)} |`,
    ),
    '',
    '| rewrap | secrets in the store | steps timed | shard keys | client secrets | keys re-wrapped | seconds | ms per key | Node CPU s | core opened in, s |',
    '|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|',
    ...r.rewraps.map(
      (w, i) =>
        `| ${i + 1} | ${int(w.secrets)} | ${w.instrumented ? 'yes' : 'no'} | ${w.shardKeys} | ${w.clients} | ${int(w.rewrapped)} | ${s(w.ms)} | ` +
        `${(w.ms / Math.max(1, w.rewrapped)).toFixed(2)} | ${s(w.nodeCpuMs)} | ${s(w.openMs)} |`,
    ),
  ]
  if (timedPass !== undefined) {
    lines.push('', `Where shred pass ${timedPass.pass}'s ${s(timedPass.ms)} s went (SQL times are round trips: the server's work and, for a commit, its WAL flush):`, '')
    lines.push(...breakdown(timedPass.timings, timedPass.ms))
  }
  if (timedRewrap !== undefined) {
    lines.push('', `Where the timed rewrap's ${s(timedRewrap.ms)} s went:`, '')
    lines.push(...breakdown(timedRewrap.timings, timedRewrap.ms))
  }
  return lines.join('\n')
}
