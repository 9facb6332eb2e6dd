import type { Request } from 'autocannon'
import { measureListing } from './listing'
import { loadHttp } from './load'
import type { Plan } from './options'
import { createRequest, deleteRequest, readRequest, tokenRequest, updateRequest } from './requests'
import { measurement, type Measurement } from './stats'

export type Operation = 'read' | 'list' | 'create' | 'update' | 'delete' | 'token'

export type VaultRun = Readonly<{ operation: Operation; measurement: Measurement }>

export type VaultTarget = Readonly<{
  url: string
  token: string
  clientId: string
  clientSecret: string
  /** Keys stored beforehand: read and updated at random. */
  seeded: readonly string[]
  /** The prefix every seeded key starts with (the listing row lists them). */
  seededPrefix: string
  /** Makes the keys of this run's creates unique. */
  runId: string
}>

// Deletes are a fixed number of requests, not a timed run: they warm up once, on the keys the
// creates' warm-ups made, at this many connections.
const DELETE_WARMUP_CONNECTIONS = 8

/**
 * Each operation under load at each concurrency of the plan, each measured run after an
 * unmeasured one at the same concurrency. Deletes delete what the creates at the same
 * concurrency created (each key once, a fixed number of requests), so every delete finds a
 * live secret.
 */
export const measureVault = async (
  target: VaultTarget,
  plan: Plan,
  onRun: (run: VaultRun) => void,
): Promise<VaultRun[]> => {
  const runs: VaultRun[] = []
  const record = (operation: Operation, m: Measurement) => {
    const run = { operation, measurement: m }
    runs.push(run)
    onRun(run)
  }
  const { url, token, seeded, runId } = target
  const timed = (connections: number, seconds: number, request: Request, expect: number) =>
    loadHttp({ url, connections, seconds, requests: [request], expect })
  // Each run is preceded by an unmeasured one at its own concurrency: the first second or two at
  // a new concurrency (fresh connections, code re-optimized for bigger batches) runs 5-10% below
  // the steady state that the run is meant to measure; the HTTP ceiling is warmed the same way.
  const measured = async (connections: number, request: () => Request, expect: number) => {
    await timed(connections, plan.warmupSeconds, request(), expect)
    return timed(connections, plan.seconds, request(), expect)
  }

  for (const c of plan.connections) record('read', await measured(c, () => readRequest(token, seeded), 200))
  record('list', await measureListing(url, token, target.seededPrefix, seeded.length, plan.seconds))

  // Creates warm up on keys of their own, so each concurrency's deletes find exactly the keys
  // its measured creates made.
  const warmCreated: string[] = []
  const created = new Map<number, string[]>()
  for (const c of plan.connections) {
    const keys: string[] = []
    created.set(c, keys)
    await timed(c, plan.warmupSeconds, createRequest(token, `${runId}-w${c}`, warmCreated), 200)
    record('create', await timed(c, plan.seconds, createRequest(token, `${runId}-c${c}`, keys), 200))
  }

  for (const c of plan.connections) record('update', await measured(c, () => updateRequest(token, seeded), 200))

  await deleteAll(url, token, DELETE_WARMUP_CONNECTIONS, warmCreated)
  for (const c of plan.connections) record('delete', await deleteAll(url, token, c, created.get(c) ?? []))

  const grant = () => tokenRequest(target.clientId, target.clientSecret)
  for (const c of plan.connections) record('token', await measured(c, grant, 200))
  return runs
}

/** Deletes each key once; a run without keys to delete is reported as one that failed. */
const deleteAll = async (url: string, token: string, connections: number, keys: readonly string[]): Promise<Measurement> => {
  if (keys.length < connections) return measurement(connections, [], 0, { 'no keys to delete': 1 }, 0)
  return loadHttp({ url, connections, amount: keys.length, requests: [deleteRequest(token, keys)], expect: 204 })
}
