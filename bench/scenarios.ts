import type { Request } from 'autocannon'
import { loadHttp } from './load'
import type { Plan } from './options'
import { createRequest, deleteRequest, readRequest, tokenRequest, updateRequest } from './requests'
import { measurement, type Measurement } from './stats'

export type Operation = 'read' | 'create' | 'update' | 'delete' | 'token'

export type VaultRun = Readonly<{ operation: Operation; measurement: Measurement }>

export type VaultTarget = Readonly<{
  url: string
  token: string
  clientId: string
  clientSecret: string
  /** Keys stored beforehand: read and updated at random. */
  seeded: readonly string[]
  /** Makes the keys of this run's creates unique. */
  runId: string
}>

const WARMUP_CONNECTIONS = 8

/**
 * Each operation under load at each concurrency of the plan, after an unmeasured warm-up.
 * Deletes delete what the creates at the same concurrency created (each key once, a fixed
 * number of requests), so every delete finds a live secret.
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

  await timed(WARMUP_CONNECTIONS, plan.warmupSeconds, readRequest(token, seeded), 200)
  for (const c of plan.connections) record('read', await timed(c, plan.seconds, readRequest(token, seeded), 200))

  const warmCreated: string[] = []
  await timed(WARMUP_CONNECTIONS, plan.warmupSeconds, createRequest(token, `${runId}-w`, warmCreated), 200)
  const created = new Map<number, string[]>()
  for (const c of plan.connections) {
    const keys: string[] = []
    created.set(c, keys)
    record('create', await timed(c, plan.seconds, createRequest(token, `${runId}-c${c}`, keys), 200))
  }

  await timed(WARMUP_CONNECTIONS, plan.warmupSeconds, updateRequest(token, seeded), 200)
  for (const c of plan.connections) record('update', await timed(c, plan.seconds, updateRequest(token, seeded), 200))

  await deleteAll(url, token, WARMUP_CONNECTIONS, warmCreated)
  for (const c of plan.connections) record('delete', await deleteAll(url, token, c, created.get(c) ?? []))

  const grant = tokenRequest(target.clientId, target.clientSecret)
  await timed(WARMUP_CONNECTIONS, plan.warmupSeconds, grant, 200)
  for (const c of plan.connections) record('token', await timed(c, plan.seconds, grant, 200))
  return runs
}

/** Deletes each key once; a run without keys to delete is reported as one that failed. */
const deleteAll = async (url: string, token: string, connections: number, keys: readonly string[]): Promise<Measurement> => {
  if (keys.length < connections) return measurement(connections, [], 0, { 'no keys to delete': 1 }, 0)
  return loadHttp({ url, connections, amount: keys.length, requests: [deleteRequest(token, keys)], expect: 204 })
}
