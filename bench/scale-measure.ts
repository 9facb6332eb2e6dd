import fs from 'node:fs'
import { performance } from 'node:perf_hooks'
import { loadHttp } from './load'
import { readRequest } from './requests'
import type { Measurement } from './stats'

/** Resident set size of a process in MiB, from /proc (Linux). */
export const rssMiB = (pid: number): number => {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN)
  return kb / 1024
}

/** A read load over random keys, sampling the vault's RSS meanwhile; answers the load and the peak RSS. */
export const readLoadWithRss = async (url: string, token: string, keys: readonly string[], pid: number, seconds: number) => {
  let peak = rssMiB(pid)
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMiB(pid))
  }, 250)
  try {
    const load = await loadHttp({ url, connections: 32, seconds, requests: [readRequest(token, keys)], expect: 200 })
    return { load, peakRssMiB: Math.max(peak, rssMiB(pid)) }
  } finally {
    clearInterval(timer)
  }
}

/** Reads of one key, one connection, `seconds` long: its latency as a caller sees it alone. */
export const readOneKey = (url: string, token: string, key: string, seconds: number): Promise<Measurement> =>
  loadHttp({ url, connections: 1, seconds, requests: [readRequest(token, [key])], expect: 200 })

export type Replay = Readonly<{ events: number; timesMs: number[] }>

/** GET .../history of a key, `times` times in a row: the full replay of its events. */
export const timeHistory = async (url: string, token: string, key: string, times: number): Promise<Replay> => {
  const timesMs: number[] = []
  let events = 0
  for (let i = 0; i < times; i++) {
    const started = performance.now()
    const response = await fetch(`${url}/secrets/${key}/history`, { headers: { authorization: `Bearer ${token}` } })
    const body = (await response.json()) as { events?: unknown[] }
    timesMs.push(performance.now() - started)
    if (response.status !== 200 || !Array.isArray(body.events)) throw new Error(`history of ${key} answered ${response.status}`)
    events = body.events.length
  }
  return { events, timesMs }
}
