import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import { cipherFor } from '../../common/encryption'
import { dataKeyOpener } from '../helpers/keys'
import { adminToken, clientWith, type Grants } from '../helpers/api'
import { connectToStore } from '../helpers/database'
import { awaitHealth } from '../helpers/health'
import { hasPostgresServer, startOwnPostgres, type OwnPostgres } from '../helpers/own-postgres'
import { sleep } from '../helpers/sleep'
import { statusOf } from '../helpers/timed-http'
import { newVaultSetup, startVault, stopLeftoverPostgres, type VaultProcess, type VaultSetup } from '../helpers/vault-process'

/**
 * Crash safety under load. The real vault runs as a child process; a dozen clients create,
 * update and delete a small set of keys at once (so their writes collide), and the vault is
 * killed with SIGKILL at a random moment, round after round; on a PostgreSQL server, the server
 * itself is also killed once mid-write. After each restart, everything the clients were told
 * must hold: each acknowledged change is in the key's history, in an order that agrees with
 * when it was answered; the value read is the last one written, and every value of a live
 * secret, decrypted from the store with the master key, is the one written; a refusal (400 on
 * create, 404 on update, 205 on delete) agrees with the state at some moment while it ran; and
 * in the database, no data key is held without a live secret, none is missing, every deleted
 * incarnation's key is shredded, no intent is left. A change whose answer the crash cut off
 * may have happened or not: the history says which, and the model follows it from there.
 *
 * Exactness comes from giving every worker its own client: `actor` in the history then names
 * the worker, and a worker's changes to a key appear in the order it made them. A worker
 * never touches again, in the same round, a key on which it has a change of unknown outcome,
 * so after a restart at most one such change per worker and key is left to resolve.
 *
 * Randomness is only in the workload and the timing; the seed is in every failure
 * (CRASH_SEED=<seed> replays the same workload choices).
 */

const SEED = process.env.CRASH_SEED !== undefined ? Number(process.env.CRASH_SEED) >>> 0 : crypto.randomBytes(4).readUInt32LE()
const ROUNDS = 6
const WORKERS = 12
/** The round (1-based) of the server backend in which the PostgreSQL server is killed. */
const POSTGRES_KILL_ROUND = 3
const REQUEST_TIMEOUT_MS = 20_000
const FIGURES_FILE = path.join(os.tmpdir(), 'event-vault-crash-figures.json')

type Kind = 'create' | 'update' | 'delete'
type EventType = 'SecretCreated' | 'SecretUpdated' | 'SecretDeleted'
/** acknowledged: changed it; refused: answered that nothing changed; in-flight: unknown. */
type Outcome = 'acknowledged' | 'refused' | 'in-flight'
type Value = { writer: number; n: number }
type HistoryEvent = { type: EventType; version: number; actor: string }

type Slot = Readonly<{ index: number; base: string; key: string; organizationId: string }>
type Worker = Readonly<{ index: number; clientId: string; token: string; slots: readonly Slot[] }>

type Op = {
  id: number
  round: number
  worker: number
  slot: number
  kind: Kind
  value: Value | null
  /** Milliseconds since the backend's run began; `end` is Infinity while the effect is unknown. */
  start: number
  end: number
  status: number | string
  outcome: Outcome
  /** Whether it stored an event: known when answered, else resolved from the history. */
  applied: boolean | null
}

type Figures = {
  seed: number
  backend: string
  roundsSurvived: number
  vaultKills: number
  postgresKills: number
  operationsSent: number
  writesAcknowledged: number
  writesVerifiedInHistory: number
  deletesAcknowledged: number
  deletesVerifiedShredded: number
  refusalsVerified: number
  inFlightAtCrash: number
  inFlightFoundApplied: number
  serverErrors: number
  liveValuesVerified: number
  storedValuesDecrypted: number
  intentsRecoveredAtStart: number
  vaultSurvivedPostgresKill: boolean | null
  writesAcknowledgedAfterPostgresCameBack: number | null
  postgresOutageMs: number | null
  seconds: number
}

/** What one backend's run knows: the vault now running, the clients, every operation sent. */
type Run = {
  setup: VaultSetup
  backend: string
  vault: VaultProcess
  workers: Worker[]
  workerOf: Map<string, number>
  ops: Op[]
  counter: number
  began: number
  random: () => number
  figures: Figures
  deletesShredded: Set<number>
  /** Writes whose value was read back over HTTP, or decrypted from the store, after a restart. */
  valuesRead: Set<number>
  valuesDecrypted: Set<number>
  /** The vault not surviving its database's crash: reported after the durability checks. */
  availabilityProblems: string[]
  completed: boolean
}

type Round = { number: number; url: string; stopped: boolean; storeBack: Promise<void> }

// mulberry32, seeded from SEED and the coordinates of its use (backend, round, worker).
const prng = (seed: number) => {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}
const seedFor = (...parts: number[]): number => {
  let h = SEED ^ 0x9e3779b9
  for (const part of parts) {
    h = Math.imul(h ^ part, 0x85ebca6b)
    h ^= h >>> 13
    h = Math.imul(h, 0xc2b2ae35)
    h ^= h >>> 16
  }
  return h >>> 0
}
const backendNumber = (backend: string) => (backend === 'server' ? 2 : 1)
const between = (random: () => number, low: number, high: number) => Math.round(low + random() * (high - low))

// 20 keys: the same names as standard secrets and in two organizations (all different secrets).
const SLOTS: readonly Slot[] = [
  ...Array.from({ length: 8 }, (_, i) => ({ base: '/secrets', key: `crash-${i}`, organizationId: '' })),
  ...['acme', 'globex'].flatMap((org) =>
    Array.from({ length: 6 }, (_, i) => ({ base: `/organizations/${org}`, key: `crash-${i}`, organizationId: org })),
  ),
].map((slot, index) => ({ ...slot, index }))

const GRANTS: readonly Grants[] = [
  { secrets: true, organizations: ['acme', 'globex'] },
  { secrets: true },
  { organizations: ['acme', 'globex'] },
  { organizations: ['acme'] },
]
const slotsFor = (grants: Grants) =>
  SLOTS.filter((slot) => (slot.organizationId === '' ? grants.secrets === true : grants.organizations?.includes(slot.organizationId)))

const label = (slot: Slot) => `${slot.base}/${slot.key}`
const EVENT_OF: Record<Kind, EventType> = { create: 'SecretCreated', update: 'SecretUpdated', delete: 'SecretDeleted' }
const ACKNOWLEDGED: Record<Kind, number> = { create: 200, update: 200, delete: 204 }
const REFUSED: Record<Kind, number> = { create: 400, update: 404, delete: 205 }

// ---------------------------------------------------------------- the workload

/** One HTTP exchange, body read to its end: the status means the vault answered in full. */
const send = (url: string, token: string, method: string, route: string, body?: object): Promise<number> =>
  statusOf(url, REQUEST_TIMEOUT_MS, token, method, route, body)

const requestOf = (slot: Slot, kind: Kind, value: Value | null): [string, string, object?] => {
  if (kind === 'create') return ['POST', slot.base, { key: slot.key, secret: value }]
  if (kind === 'update') return ['POST', `${slot.base}/${slot.key}`, { secret: value }]
  return ['DELETE', `${slot.base}/${slot.key}`]
}

const now = (run: Run) => performance.now() - run.began

/** Sends one operation and records it; a change whose answer never came stays in-flight. */
const perform = async (run: Run, round: Round, worker: Worker, slot: Slot, kind: Kind): Promise<Op> => {
  const value = kind === 'delete' ? null : { writer: worker.index, n: run.counter++ }
  const op: Op = {
    id: run.ops.length,
    round: round.number,
    worker: worker.index,
    slot: slot.index,
    kind,
    value,
    start: now(run),
    end: Infinity,
    status: 'no answer',
    outcome: 'in-flight',
    applied: null,
  }
  run.ops.push(op)
  try {
    op.status = await send(round.url, worker.token, ...requestOf(slot, kind, value))
  } catch (error) {
    op.status = `no answer (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name})`
    return op
  }
  if (op.status === ACKNOWLEDGED[kind] || op.status === REFUSED[kind]) {
    op.end = now(run)
    op.outcome = op.status === ACKNOWLEDGED[kind] ? 'acknowledged' : 'refused'
    op.applied = op.outcome === 'acknowledged'
  } else if (op.status >= 500) {
    run.figures.serverErrors++
  } else {
    throw new Error(`worker ${worker.index}: ${kind} ${label(slot)} answered ${op.status} (seed ${SEED})`)
  }
  return op
}

const runWorker = async (run: Run, round: Round, worker: Worker, random: () => number) => {
  const unsure = new Set<number>()
  while (!round.stopped) {
    const usable = worker.slots.filter((slot) => !unsure.has(slot.index))
    if (usable.length === 0) return
    const slot = usable[Math.floor(random() * usable.length)]
    const roll = random()
    const op = await perform(run, round, worker, slot, roll < 0.4 ? 'create' : roll < 0.75 ? 'update' : 'delete')
    if (op.outcome === 'in-flight') {
      unsure.add(slot.index)
      await round.storeBack
    }
  }
}

/** All workers at once; awaited only after the crash, so a failure waits (handled) until then. */
const startWorkload = (run: Run, round: Round) => {
  const workload = Promise.all(
    run.workers.map((worker) =>
      runWorker(run, round, worker, prng(seedFor(backendNumber(run.backend), round.number, worker.index + 1))),
    ),
  )
  workload.catch(() => undefined)
  return workload
}

// ---------------------------------------------------------------- crashes and restarts

const restart = async (run: Run) => {
  try {
    run.vault = await startVault(run.setup)
  } catch (error) {
    throw new Error(`seed ${SEED}, ${run.backend}: the vault did not start again after a crash: ${(error as Error).message}`)
  }
  const listening = run.vault
    .output()
    .split('\n')
    .find((line) => line.includes('"msg":"listening"'))
  run.figures.intentsRecoveredAtStart += listening ? Number(JSON.parse(listening).recovered ?? 0) : 0
}

/** The lines around an uncaught error in the vault's output (why it exited on its own). */
const crashReport = (output: string) => {
  const lines = output.split('\n').filter((line) => !line.startsWith('{'))
  return lines.slice(0, 12).join('\n')
}

/** SIGKILL; a vault found already gone (it exited on its own) is an availability problem. */
const killVault = async (run: Run, round: number) => {
  const code = await run.vault.stop('SIGKILL')
  if (code !== null) {
    run.availabilityProblems.push(`round ${round}: the vault had exited on its own (${code}):\n${crashReport(run.vault.output())}`)
  }
  run.figures.vaultKills++
}

/** Writes at full speed; SIGKILL at a random moment 100-800 ms in; restart on the same data. */
const vaultCrashRound = async (run: Run, number: number) => {
  const round: Round = { number, url: run.vault.url, stopped: false, storeBack: Promise.resolve() }
  const workload = startWorkload(run, round)
  await sleep(between(run.random, 100, 800))
  round.stopped = true
  await killVault(run, number)
  await workload
  await restart(run)
}

/**
 * The PostgreSQL server is killed mid-write; the vault stays up and, once the server is back,
 * must serve again on its own (health, then acknowledged writes); then it is killed too. Should
 * the vault die with its database, that is recorded (the test fails at the end of the run) and
 * it is started again, so that durability is still checked.
 */
const postgresCrashRound = async (run: Run, number: number, own: OwnPostgres) => {
  let storeIsBack = () => undefined as void
  const round: Round = { number, url: run.vault.url, stopped: false, storeBack: new Promise((resolve) => (storeIsBack = resolve)) }
  const workload = startWorkload(run, round)
  try {
    await sleep(between(run.random, 100, 800))
    const killedAt = performance.now()
    own.kill()
    run.figures.postgresKills++
    await sleep(300)
    own.resume()
    const state = await awaitHealth(run.vault.url)
    run.figures.postgresOutageMs = Math.round(performance.now() - killedAt)
    run.figures.vaultSurvivedPostgresKill = state !== 'unreachable'
    if (state === 'unreachable') {
      const report = crashReport(run.vault.output())
      run.availabilityProblems.push(`round ${number}: the vault process exited when PostgreSQL was killed:\n${report}`)
      await run.vault.stop('SIGKILL')
      await restart(run)
      round.url = run.vault.url
    } else if (state !== 'ok') {
      run.availabilityProblems.push(`round ${number}: /health was not ok 20 s after PostgreSQL came back`)
    }
  } catch (error) {
    round.stopped = true
    throw error
  } finally {
    storeIsBack()
  }
  const before = run.ops.length
  await sleep(between(run.random, 300, 700))
  round.stopped = true
  await killVault(run, number)
  await workload
  const afterResume = run.ops.slice(before).filter((op) => op.outcome === 'acknowledged' && op.kind !== 'delete')
  run.figures.writesAcknowledgedAfterPostgresCameBack = afterResume.length
  if (afterResume.length === 0) run.availabilityProblems.push(`round ${number}: no write acknowledged once PostgreSQL was back`)
  await restart(run)
}

// ---------------------------------------------------------------- the checks

const describeOp = (op: Op) =>
  `#${op.id} round ${op.round} worker ${op.worker} ${op.kind}${op.value ? ` n=${op.value.n}` : ''} ` +
  `${op.start.toFixed(0)}-${op.end === Infinity ? '?' : op.end.toFixed(0)}ms -> ${op.status}` +
  (op.outcome === 'in-flight' ? ` (${op.applied === null ? 'unresolved' : op.applied ? 'applied' : 'not applied'})` : '')

/** Settles each change of unknown outcome: its worker has one more event in the history, or not. */
const resolveInFlight = (run: Run, ops: Op[], history: HistoryEvent[], problems: string[]) => {
  for (const event of history) {
    if (!run.workerOf.has(event.actor)) problems.push(`an event by ${event.actor}, who is none of the writers`)
  }
  for (const worker of run.workers) {
    const mine = ops.filter((op) => op.worker === worker.index)
    const known = mine.filter((op) => op.applied === true).length
    const unsure = mine.filter((op) => op.applied === null)
    const seen = history.filter((event) => event.actor === worker.clientId).length
    if (seen === known) unsure.forEach((op) => (op.applied = false))
    else if (seen === known + 1 && unsure.length === 1) unsure[0].applied = true
    else problems.push(`worker ${worker.index} has ${seen} events but ${known} acknowledged changes (+${unsure.length} unknown)`)
  }
}

/** Pairs each history event with the operation that made it: its worker's next applied change. */
const matchEvents = (run: Run, ops: Op[], history: HistoryEvent[], problems: string[]): Op[] | null => {
  const queues = new Map(run.workers.map((worker) => [worker.index, ops.filter((op) => op.worker === worker.index && op.applied)]))
  const matched: Op[] = []
  history.forEach((event, index) => {
    const op = queues.get(run.workerOf.get(event.actor) ?? -1)?.shift()
    if (op === undefined) problems.push(`event ${index} (${event.type}) matches no change`)
    else if (EVENT_OF[op.kind] !== event.type) problems.push(`event ${index} is ${event.type}, but it is #${op.id}, a ${op.kind}`)
    else matched.push(op)
  })
  return problems.length === 0 ? matched : null
}

/** Created on a free key at version 1, then versions one by one, nothing after a delete but a create. */
const liveness = (history: HistoryEvent[], problems: string[]): boolean[] => {
  const live = [false]
  let version = 0
  history.forEach((event, index) => {
    const wasLive = live[index]
    const expected = event.type === 'SecretCreated' ? 1 : version + 1
    if ((event.type === 'SecretCreated') === wasLive) {
      problems.push(`event ${index} ${event.type} while the key was ${wasLive ? 'live' : 'gone'}`)
    }
    if (event.version !== expected) problems.push(`event ${index} has version ${event.version}, expected ${expected}`)
    version = event.version
    live.push(event.type !== 'SecretDeleted')
  })
  return live
}

/** A change answered before another was sent comes first in the history. */
const checkRealTimeOrder = (matched: Op[], problems: string[]) => {
  matched.forEach((later, j) => {
    const overtaken = matched.slice(0, j).find((earlier) => later.end < earlier.start)
    if (overtaken) problems.push(`#${later.id} was answered before #${overtaken.id} was sent, yet comes after it`)
  })
}

/** A refusal happened at some point of the history within its own time span, in the state it claims. */
const checkRefusals = (ops: Op[], matched: Op[], live: boolean[], problems: string[]): number => {
  let verified = 0
  for (const op of ops.filter((candidate) => candidate.outcome === 'refused')) {
    const claimsLive = op.kind === 'create'
    let low = 0
    let high = matched.length
    matched.forEach((change, index) => {
      if (change.end < op.start) low = Math.max(low, index + 1)
      if (change.start > op.end) high = Math.min(high, index)
    })
    if (live.slice(low, high + 1).includes(claimsLive)) verified++
    else problems.push(`#${op.id} answered ${op.status}, but the key was ${claimsLive ? 'gone' : 'live'} all the while it ran`)
  }
  return verified
}

type Db = pg.Client

// Compares as JSON with sorted keys: fetch's objects come from another realm than the test's.
const canonical = (value: unknown): string => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(value)
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1))
  return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`).join(',')}}`
}
const sameJson = (a: unknown, b: unknown) => canonical(a) === canonical(b)

/** What the checks of one key share: the key, its history and the operations that made it. */
type KeyCheck = Readonly<{
  run: Run
  admin: string
  db: Db
  slot: Slot
  matched: Op[]
  history: HistoryEvent[]
  live: boolean[]
  problems: string[]
}>

/** The read, and the database: incarnations, the live row, and the data key of each incarnation. */
const checkStored = async ({ run, admin, db, slot, matched, history, live, problems }: KeyCheck) => {
  const isLive = live[live.length - 1]
  const read = await fetch(`${run.vault.url}${slot.base}/${slot.key}`, { headers: { authorization: `Bearer ${admin}` } })
  const body = (await read.json().catch(() => undefined)) as { secret?: unknown } | undefined
  const expected = isLive ? matched[matched.length - 1].value : null
  if (!isLive) {
    if (read.status !== 404) problems.push(`read ${read.status} of a key that is gone`)
  } else if (read.status !== 200 || !sameJson(body?.secret, expected)) {
    problems.push(`read ${read.status} ${JSON.stringify(body?.secret)}, expected the value of #${matched[matched.length - 1].id}`)
  } else if (matched[matched.length - 1].outcome === 'acknowledged') {
    run.valuesRead.add(matched[matched.length - 1].id)
  }

  const incarnations = await db.query<{ id: string; held: boolean; version: number | null }>(
    `SELECT i.aggregate_id AS id, s.secret IS NOT NULL AS held, v.version FROM vault.incarnations i
     LEFT JOIN eventstore.secrets s ON s.id = i.aggregate_id LEFT JOIN vault.secrets v ON v.aggregate_id = i.aggregate_id
     WHERE i.organization_id = $1 AND i.key = $2 ORDER BY i.seq`,
    [slot.organizationId, slot.key],
  )
  const rows = incarnations.rows
  const created = history.filter((event) => event.type === 'SecretCreated').length
  if (rows.length !== created) problems.push(`${rows.length} incarnations stored for ${created} SecretCreated events`)
  rows.forEach((row, index) => {
    const current = isLive && index === rows.length - 1
    if (row.held !== current) problems.push(`incarnation ${index} ${row.held ? 'still holds' : 'lost'} its data key`)
    const version = current ? history[history.length - 1].version : null
    if (row.version !== version) problems.push(`incarnation ${index} has read-model version ${row.version}, expected ${version}`)
  })
  if (isLive && rows.length > 0) {
    const first = history.map((event) => event.type).lastIndexOf('SecretCreated')
    await checkStoredValues(run, db, rows[rows.length - 1].id, matched.slice(first), problems)
  }
  let incarnation = -1
  matched.forEach((op, index) => {
    if (history[index].type === 'SecretCreated') incarnation++
    if (op.kind === 'delete' && op.outcome === 'acknowledged' && rows[incarnation]?.held === false) run.deletesShredded.add(op.id)
  })
}

const decrypt = (open: () => string): string | null => {
  try {
    return open()
  } catch {
    return null
  }
}

/**
 * Every value of the live incarnation, decrypted straight from the event store with the
 * master key: each write in it is stored with the value it was sent with.
 */
const checkStoredValues = async (run: Run, db: Db, aggregateId: string, writes: Op[], problems: string[]) => {
  const openDataKey = dataKeyOpener(run.setup)
  const key = await db.query<{ secret: string }>('SELECT secret FROM eventstore.secrets WHERE id = $1', [aggregateId])
  const events = await db.query<{ version: string; payload: { value?: string } | string }>(
    `SELECT "aggregateVersion" AS version, payload FROM eventstore.events
     WHERE "aggregateId" = $1 AND type IN ('SecretCreated', 'SecretUpdated', 'SecretDeleted') ORDER BY "aggregateVersion"`,
    [aggregateId],
  )
  if (key.rows[0]?.secret == null || events.rows.length !== writes.length) {
    const held = key.rows[0]?.secret == null ? 'no' : 'a'
    return void problems.push(`the live incarnation has ${events.rows.length} events and ${held} data key`)
  }
  let cipher: ReturnType<typeof cipherFor>
  try {
    cipher = cipherFor(openDataKey(key.rows[0].secret, aggregateId), aggregateId)
  } catch {
    return void problems.push('the data key of the live incarnation does not unwrap with the master key')
  }
  events.rows.forEach((row, index) => {
    const payload = typeof row.payload === 'string' ? (JSON.parse(row.payload) as { value?: string }) : row.payload
    const stored = decrypt(() => cipher.decrypt(payload.value ?? '', Number(row.version)))
    if (stored === null || !sameJson(JSON.parse(stored), writes[index].value)) {
      problems.push(`version ${row.version} stores ${stored}, #${writes[index].id} wrote it`)
    } else if (writes[index].outcome === 'acknowledged') {
      run.valuesDecrypted.add(writes[index].id)
    }
  })
}

const historyOf = async (url: string, admin: string, slot: Slot): Promise<HistoryEvent[]> => {
  const response = await fetch(`${url}${slot.base}/${slot.key}/history`, { headers: { authorization: `Bearer ${admin}` } })
  const body = (await response.json()) as { events?: HistoryEvent[] }
  if (response.status === 404) return []
  if (response.status !== 200) throw new Error(`seed ${SEED}: history of ${label(slot)}: ${response.status} ${JSON.stringify(body)}`)
  return (body.events ?? []).map(({ type, version, actor }) => ({ type, version, actor }))
}

const verifyKey = async (run: Run, admin: string, db: Db, slot: Slot): Promise<string | null> => {
  const ops = run.ops.filter((op) => op.slot === slot.index)
  const history = await historyOf(run.vault.url, admin, slot)
  const problems: string[] = []
  resolveInFlight(run, ops, history, problems)
  const matched = problems.length === 0 ? matchEvents(run, ops, history, problems) : null
  if (matched !== null) {
    const live = liveness(history, problems)
    checkRealTimeOrder(matched, problems)
    const refusals = checkRefusals(ops, matched, live, problems)
    await checkStored({ run, admin, db, slot, matched, history, live, problems })
    if (problems.length === 0) {
      run.figures.refusalsVerified += refusals
      run.figures.writesVerifiedInHistory += matched.filter((op) => op.kind !== 'delete' && op.outcome === 'acknowledged').length
    }
  }
  if (problems.length === 0) return null
  const events = history.map((event, index) => `${index}:${event.type}@${event.version} by worker ${run.workerOf.get(event.actor)}`)
  const operations = ops.map(describeOp).join('\n                ')
  return `${label(slot)}: ${problems.join('; ')}\n    operations: ${operations}\n    history: ${events.join(', ')}`
}

/** Across the whole store: no intent left, and data keys held by exactly the live secrets. */
const verifyStore = async (db: Db): Promise<string[]> => {
  const ids = async (sql: string) => (await db.query<{ id: string }>(sql)).rows.map((row) => row.id).sort()
  const problems: string[] = []
  const pending = await ids('SELECT aggregate_id AS id FROM vault.pending_operations')
  if (pending.length > 0) problems.push(`intents left after the repair pass: ${pending.join(', ')}`)
  const orphans = await ids(
    'SELECT id FROM eventstore.secrets WHERE secret IS NOT NULL EXCEPT SELECT aggregate_id FROM vault.secrets',
  )
  if (orphans.length > 0) problems.push(`data keys without a live secret: ${orphans.join(', ')}`)
  const missing = await ids(
    'SELECT aggregate_id AS id FROM vault.secrets EXCEPT SELECT id FROM eventstore.secrets WHERE secret IS NOT NULL',
  )
  if (missing.length > 0) problems.push(`live secrets without a data key: ${missing.join(', ')}`)
  const deletedButHeld = await ids(
    `SELECT e."aggregateId" AS id FROM eventstore.events e JOIN eventstore.secrets s ON s.id = e."aggregateId"
     WHERE e.type = 'SecretDeleted' AND s.secret IS NOT NULL`,
  )
  if (deletedButHeld.length > 0) problems.push(`deleted secrets whose data key is still held: ${deletedButHeld.join(', ')}`)
  return problems
}

/** Every check, after a restart; it also resolves the changes the crash left unanswered. */
const verify = async (run: Run, round: number) => {
  const admin = await adminToken(run.vault.url)
  const db = await connectToStore(run.setup)
  run.figures.refusalsVerified = 0
  run.figures.writesVerifiedInHistory = 0
  try {
    const problems: string[] = []
    for (const slot of SLOTS) {
      const problem = await verifyKey(run, admin, db, slot)
      if (problem !== null) problems.push(problem)
    }
    problems.push(...(await verifyStore(db)))
    expect({ seed: SEED, backend: run.backend, round, problems }).toEqual({ seed: SEED, backend: run.backend, round, problems: [] })
  } finally {
    await db.end()
  }
}

// ---------------------------------------------------------------- the runs

const emptyFigures = (backend: string): Figures => ({
  seed: SEED,
  backend,
  roundsSurvived: 0,
  vaultKills: 0,
  postgresKills: 0,
  operationsSent: 0,
  writesAcknowledged: 0,
  writesVerifiedInHistory: 0,
  deletesAcknowledged: 0,
  deletesVerifiedShredded: 0,
  refusalsVerified: 0,
  inFlightAtCrash: 0,
  inFlightFoundApplied: 0,
  serverErrors: 0,
  liveValuesVerified: 0,
  storedValuesDecrypted: 0,
  intentsRecoveredAtStart: 0,
  vaultSurvivedPostgresKill: null,
  writesAcknowledgedAfterPostgresCameBack: null,
  postgresOutageMs: null,
  seconds: 0,
})

/** Starts the vault and registers one client per worker, with a mix of grants. */
const openRun = async (setup: VaultSetup, backend: string, onStart: (run: Run) => void): Promise<Run> => {
  const vault = await startVault(setup)
  const partial = { setup, backend, vault } as Run
  onStart(partial)
  const admin = await adminToken(vault.url)
  const workers: Worker[] = []
  for (let index = 0; index < WORKERS; index++) {
    const grants = GRANTS[index % GRANTS.length]
    const client = await clientWith(vault.url, admin, grants)
    workers.push({ index, clientId: client.clientId, token: client.token, slots: slotsFor(grants) })
  }
  return Object.assign(partial, {
    workers,
    workerOf: new Map(workers.map((worker) => [worker.clientId, worker.index])),
    ops: [],
    counter: 0,
    began: performance.now(),
    random: prng(seedFor(backendNumber(backend))),
    figures: emptyFigures(backend),
    deletesShredded: new Set<number>(),
    valuesRead: new Set<number>(),
    valuesDecrypted: new Set<number>(),
    availabilityProblems: [],
    completed: false,
  })
}

const summarize = (run: Run): Figures => {
  const { ops, figures } = run
  const writes = ops.filter((op) => op.kind !== 'delete' && op.outcome === 'acknowledged')
  const inFlight = ops.filter((op) => op.outcome === 'in-flight')
  return {
    ...figures,
    operationsSent: ops.length,
    writesAcknowledged: writes.length,
    deletesAcknowledged: ops.filter((op) => op.kind === 'delete' && op.outcome === 'acknowledged').length,
    deletesVerifiedShredded: run.deletesShredded.size,
    liveValuesVerified: run.valuesRead.size,
    storedValuesDecrypted: run.valuesDecrypted.size,
    inFlightAtCrash: inFlight.length,
    inFlightFoundApplied: inFlight.filter((op) => op.applied).length,
    seconds: Math.round((performance.now() - run.began) / 100) / 10,
  }
}

const crashRounds = async (setup: VaultSetup, backend: string, own: OwnPostgres | null, track: (run: Run) => void) => {
  const run = await openRun(setup, backend, track)
  for (let round = 1; round <= ROUNDS; round++) {
    if (own !== null && round === POSTGRES_KILL_ROUND) await postgresCrashRound(run, round, own)
    else await vaultCrashRound(run, round)
    await verify(run, round)
    run.figures.roundsSurvived++
    figures[backend] = summarize(run)
  }
  const deletes = run.ops.filter((op) => op.kind === 'delete' && op.outcome === 'acknowledged').length
  expect(run.deletesShredded.size).toBe(deletes)
  run.completed = true
  return run
}

const expectNoAvailabilityProblems = (run: Run | undefined) => {
  const problems = run?.completed ? run.availabilityProblems : ['the crash rounds did not finish']
  expect({ seed: SEED, backend: run?.backend, problems }).toEqual({ seed: SEED, backend: run?.backend, problems: [] })
}

const figures: Record<string, Figures> = {}

/** A database of its own on our own server, for the vault to use through DATABASE_URL. */
const createDatabase = async (serverUrl: string): Promise<string> => {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    await client.query('CREATE DATABASE vault_crash')
  } finally {
    await client.end()
  }
  const url = new URL(serverUrl)
  url.pathname = '/vault_crash'
  return url.toString()
}

/** Stops the last vault (SIGTERM, SIGKILL after 15 s); its data goes once it stopped cleanly. */
const stopAndRemove = async (run: Run | undefined, setup: VaultSetup) => {
  if (run?.vault === undefined) return
  const stopped = run.vault.stop('SIGTERM')
  const timer = setTimeout(() => void run.vault.stop('SIGKILL'), 15_000)
  const code = await stopped.finally(() => clearTimeout(timer))
  if (setup.backend === 'embedded') stopLeftoverPostgres(setup.dataDir)
  if (code === 0) fs.rmSync(path.dirname(setup.dataDir), { recursive: true, force: true })
}

const onServer = hasPostgresServer() || process.env.CI === 'true' ? it : it.skip

describe('a vault killed with SIGKILL in the middle of concurrent writes, round after round', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = []

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await (async () => cleanup())().catch(() => undefined)
    const summary = { seed: SEED, rounds: ROUNDS, workers: WORKERS, keys: SLOTS.length, figures }
    fs.writeFileSync(FIGURES_FILE, `${JSON.stringify(summary, null, 2)}\n`)
    process.stdout.write(`crash test figures (seed ${SEED}): ${FIGURES_FILE}\n`)
  })

  it('keeps every acknowledged change and shreds every deleted key, on the embedded store', async () => {
    const setup = await newVaultSetup('embedded')
    let run: Run | undefined
    cleanups.push(() => stopAndRemove(run, setup))
    await crashRounds(setup, 'embedded', null, (started) => (run = started))
    expectNoAvailabilityProblems(run)
  }, 120_000)

  describe('on a PostgreSQL server (DATABASE_URL), which is itself killed once mid-write', () => {
    let serverRun: Run | undefined

    onServer('keeps every acknowledged change and shreds every deleted key', async () => {
      const own = startOwnPostgres()
      cleanups.push(() => own.dispose())
      const base = await newVaultSetup('embedded', { DATABASE_URL: await createDatabase(own.url) })
      const setup: VaultSetup = { ...base, backend: 'server' }
      cleanups.push(() => stopAndRemove(serverRun, setup))
      await crashRounds(setup, 'server', own, (started) => (serverRun = started))
    }, 120_000)

    onServer('stays up while its database is down, and serves again once it is back', () => {
      expectNoAvailabilityProblems(serverRun)
    })
  })
})
