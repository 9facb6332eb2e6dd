import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { rewrapAll } from '../app/keys/rewrap'
import { createShredder } from '../app/keys/shredder'
import { createLogger, type LogFields, type Logger } from '../lib/logger'
import { openVaultCore, type VaultCore } from '../compose'
import { secretsNotSealedBy } from '../store/clients.repository'
import type { ConnectionSettings } from '../store/connection'
import { startEmbeddedPostgres } from '../store/embedded/embedded-postgres'
import { serverFacts } from './database'
import { checkStore, dataKeysDigest, insertDataKeys, insertDeletions, settleStore, type Sample } from './key-seed'
import { createTimings, timedKeys, timeStatements, type Timings } from './key-timers'
import { planFrom } from './key-plan'
import { KEYS_MARKERS, renderKeysSection, type PassRun, type RewrapRun } from './key-hierarchy-report'
import { describeMachine, fileSystemOf } from './machine'
import { writeBenchmarksFile } from './report'
import { startVault } from './vault'

/**
 * `npm run bench:keys [-- --live N --deleted N --passes N --clients N]`: the key hierarchy's two
 * bulk operations at 100,000 secrets. A shred pass over 10,000 deletions (every shard re-keyed,
 * every live data key re-wrapped), and a master-key rewrap, at 0 secrets and at 100,000, to show
 * that it touches the 256 shard keys and the clients only. Not part of `npm run bench`.
 */
const BENCHMARKS_FILE = path.join(__dirname, '..', '..', 'BENCHMARKS.md')
const HORIZON_SECONDS = 60
const progress = (text: string) => process.stderr.write(`[keys] ${text}\n`)

/** The lines the shredder and the rewrap log, kept for their counts; warnings and errors go to stderr. */
const capturingLogger = (): { log: Logger; last: (message: string) => LogFields | null } => {
  const seen = new Map<string, LogFields>()
  const log = createLogger('info', (line) => {
    const entry = JSON.parse(line) as LogFields & { msg: string; level: string }
    seen.set(entry.msg, entry)
    if (entry.level === 'warn' || entry.level === 'error') process.stderr.write(line)
  })
  return { log, last: (message) => seen.get(message) ?? null }
}

const openCore = (connection: ConnectionSettings, dataDir: string, master: Buffer, previous: Buffer[], log: Logger): Promise<VaultCore> =>
  openVaultCore(
    {
      connection,
      masterKey: master,
      previousMasterKeys: previous,
      keyStore: { kind: 'files', dir: path.join(dataDir, 'keys') },
      shredHorizonSeconds: HORIZON_SECONDS,
      dataKeyCacheSize: 0,
      readCacheSize: 0,
      tokenTtlSeconds: 3600,
      naming: { env: 'dev', aws: { region: 'us-east-1', accountId: '000000000000' } },
      // The timer stays off: the benchmark runs each pass itself.
      runShredder: false,
    },
    log,
  )

const seconds = (ms: number) => ms / 1000
const int = (n: number) => n.toLocaleString('en-US')

const timedPass = async (core: VaultCore, instrumented: boolean, capture: ReturnType<typeof capturingLogger>): Promise<Omit<PassRun, 'pass' | 'seedSeconds' | 'shardsTouched'>> => {
  const timings: Timings = createTimings()
  const cpu = process.cpuUsage()
  const started = performance.now()
  let shards: number
  if (instrumented) {
    // createShredder is what compose.ts wires, on the same pool and key hierarchy, with timers around its calls.
    const restore = timeStatements(timings)
    try {
      shards = await createShredder(core.pool, timedKeys(core.keys, timings), HORIZON_SECONDS * 1000, capture.log).pass()
    } finally {
      restore()
    }
  } else {
    shards = await core.shredder.pass()
  }
  const ms = performance.now() - started
  const used = process.cpuUsage(cpu)
  const logged = capture.last('shred pass')
  return { instrumented, ms, shards, rewrapped: Number(logged?.rewrapped ?? 0), nodeCpuMs: (used.user + used.system) / 1000, timings }
}

const timedRewrap = async (
  connection: ConnectionSettings,
  dataDir: string,
  next: Buffer,
  previous: Buffer,
  secrets: number,
  instrumented: boolean,
  capture: ReturnType<typeof capturingLogger>,
): Promise<RewrapRun> => {
  const openStarted = performance.now()
  const core = await openCore(connection, dataDir, next, [previous], capture.log)
  const openMs = performance.now() - openStarted
  try {
    await settleStore(core.pool)
    const before = await dataKeysDigest(core.pool)
    const slotsBefore = await core.keys.keyStore.list()
    const clients = (await secretsNotSealedBy(core.pool, core.keys.ring.current.id)).length
    const timings = createTimings()
    const cpu = process.cpuUsage()
    const started = performance.now()
    let rewrapped: number
    if (instrumented) {
      const restore = timeStatements(timings)
      try {
        rewrapped = await rewrapAll(core.pool, timedKeys(core.keys, timings), capture.log)
      } finally {
        restore()
      }
    } else {
      rewrapped = await rewrapAll(core.pool, core.keys, capture.log)
    }
    const ms = performance.now() - started
    const used = process.cpuUsage(cpu)
    if ((await dataKeysDigest(core.pool)) !== before) throw new Error('the rewrap changed stored data keys')
    const slots = await core.keys.keyStore.list()
    const current = core.keys.ring.current.id
    if (slots.length !== slotsBefore.length || slots.some((slot) => slot.masterKeyId !== current)) {
      throw new Error(`after the rewrap ${slots.filter((slot) => slot.masterKeyId !== current).length} shard keys are not under the new master key`)
    }
    if ((await secretsNotSealedBy(core.pool, current)).length > 0) throw new Error('after the rewrap some client secrets are not under the new master key')
    return { secrets, instrumented, openMs, ms, rewrapped, shardKeys: slots.length, clients, nodeCpuMs: (used.user + used.system) / 1000, timings }
  } finally {
    await core.close()
  }
}

const main = async () => {
  const wallStarted = performance.now()
  const plan = planFrom(process.argv.slice(2))
  if (process.env.DATABASE_URL?.trim()) throw new Error('bench:keys runs on the embedded PostgreSQL only (it restarts it in this process)')
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-keys-'))
  fs.chmodSync(parent, 0o755)
  const dataDir = path.join(parent, 'data')
  const masters = Array.from({ length: 6 }, () => crypto.randomBytes(32))
  const capture = capturingLogger()
  try {
    // The vault makes the store as it makes any: schema, 256 shard keys in its key store, the
    // bootstrap admin. Then it stops: its own shredder (a pass every 5 s) would take the due
    // shards itself, so the benchmark starts the same embedded PostgreSQL on the same data
    // directory in this process and opens the vault's core on it, with the shredder's timer off.
    const vault = await startVault(null, { dataDir, masterKey: masters[0].toString('base64') })
    progress(`vault made its store in ${(vault.startMs / 1000).toFixed(1)} s; stopping it`)
    await vault.stop()
    const server = await startEmbeddedPostgres(dataDir, createLogger('warn', (line) => process.stderr.write(line)))
    try {
      const { connection } = server
      const facts = await serverFacts(connection)

      let core = await openCore(connection, dataDir, masters[0], [], capture.log)
      for (let i = 1; i < plan.clients; i++) await core.clients.create({ name: `bench-${i}`, organizations: [], secrets: true, admin: false })
      await core.close()
      progress(`${plan.clients} clients; rewraps at 0 secrets`)
      // Each rewrap moves everything from masters[m - 1] to masters[m]: two at 0 secrets, three at the full store.
      let m = 0
      const rewrap = async (secrets: number, instrumented: boolean) => {
        m++
        const run = await timedRewrap(connection, dataDir, masters[m], masters[m - 1], secrets, instrumented, capture)
        progress(`rewrap at ${int(secrets)} secrets: ${run.rewrapped} keys in ${seconds(run.ms).toFixed(2)} s${instrumented ? ' (timed steps)' : ''}`)
        return run
      }
      const rewraps: RewrapRun[] = [await rewrap(0, false), await rewrap(0, false)]

      core = await openCore(connection, dataDir, masters[m], [], capture.log)
      const passes: PassRun[] = []
      const sample: Sample = new Map()
      try {
        const seedStarted = performance.now()
        await insertDataKeys(core.pool, core.keys, plan.live, sample)
        let seedMs = performance.now() - seedStarted
        progress(`${int(plan.live)} live data keys inserted in ${seconds(seedMs).toFixed(1)} s`)
        for (let pass = 1; pass <= plan.passes; pass++) {
          const deletionsStarted = performance.now()
          const shardsTouched = await insertDeletions(core.pool, core.keys, plan.deleted)
          await settleStore(core.pool)
          seedMs += performance.now() - deletionsStarted
          const run = await timedPass(core, pass % 2 === 0, capture)
          const check = await checkStore(core.pool, core.keys, sample)
          if (check.live !== plan.live || check.stale > 0 || check.pendingShreds > 0 || check.retiring > 0 || check.slots !== 256) {
            throw new Error(`pass ${pass} left the store wrong: ${JSON.stringify(check)}`)
          }
          passes.push({ pass, seedSeconds: seconds(seedMs), shardsTouched, ...run })
          progress(
            `pass ${pass}${run.instrumented ? ' (timed steps)' : ''}: ${run.shards} shards, ${int(run.rewrapped)} data keys re-wrapped ` +
              `in ${seconds(run.ms).toFixed(2)} s (${int(Math.round(run.rewrapped / seconds(run.ms)))}/s); node CPU ${seconds(run.nodeCpuMs).toFixed(2)} s`,
          )
          seedMs = 0
        }
      } finally {
        await core.close()
      }

      rewraps.push(await rewrap(plan.live, false), await rewrap(plan.live, false), await rewrap(plan.live, true))

      // The last master key alone opens the store and every sampled data key: nothing needs an older one.
      core = await openCore(connection, dataDir, masters[m], [], capture.log)
      try {
        await checkStore(core.pool, core.keys, sample)
      } finally {
        await core.close()
      }

      const section = renderKeysSection({
        date: new Date(),
        plan,
        machine: describeMachine(),
        server: facts,
        fileSystem: fileSystemOf(dataDir),
        passes,
        rewraps,
        wallSeconds: seconds(performance.now() - wallStarted),
      })
      writeBenchmarksFile(BENCHMARKS_FILE, section, KEYS_MARKERS)
      process.stdout.write(`${section}\n`)
      progress(`written to ${BENCHMARKS_FILE}; ${seconds(performance.now() - wallStarted).toFixed(0)} s`)
    } finally {
      await server.stop()
    }
  } finally {
    fs.rmSync(parent, { recursive: true, force: true })
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`[keys] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  },
)
