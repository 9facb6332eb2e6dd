import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { loadHttp } from './load'
import { readRequest, updateRequest, createRequest } from './requests'
import { renderSummary, summarizeProfile } from './profile-summary'
import { fetchToken, seedSecrets } from './seed'
import { ADMIN_ID, startVault } from './vault'

/**
 * Where the vault's time goes: `node dist/bench/profile.js read|update|create [seconds]` runs the
 * vault under `node --cpu-prof`, loads it at 32 connections, stops it (the profile is written on
 * exit) and prints the top self-time entries. Not part of `npm run bench`: profiling slows the vault.
 */
const OPERATIONS = ['read', 'update', 'create'] as const
type ProfiledOperation = (typeof OPERATIONS)[number]

const CONNECTIONS = 32
const SEEDED = 2_000

const main = async (): Promise<void> => {
  const operation = process.argv[2] as ProfiledOperation
  const seconds = Number(process.argv[3] ?? 10)
  if (!OPERATIONS.includes(operation) || !(seconds > 0)) {
    throw new Error('usage: node dist/bench/profile.js read|update|create [seconds]')
  }
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-profile-'))
  const vault = await startVault(process.env.DATABASE_URL?.trim() || null, {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
  })
  try {
    const token = await fetchToken(vault.url, ADMIN_ID, vault.adminSecret)
    const { keys } = await seedSecrets(vault.url, token, 'profile-s', SEEDED, 16)
    const request =
      operation === 'read' ? readRequest(token, keys) : operation === 'update' ? updateRequest(token, keys) : createRequest(token, 'profile-c', [])
    const m = await loadHttp({ url: vault.url, connections: CONNECTIONS, seconds, requests: [request], expect: 200 })
    process.stderr.write(`[profile] ${operation} c=${CONNECTIONS}: ${Math.round(m.perSecond)}/s, p99 ${m.p99Ms.toFixed(2)} ms (under the profiler)\n`)
  } finally {
    await vault.stop()
  }
  const file = fs.readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'))
  if (file === undefined) throw new Error(`no profile written in ${profileDir}`)
  const kept = path.join(profileDir, file)
  // The whole run is profiled, seeding included; seeding is short next to the measured load.
  process.stdout.write(`${renderSummary(`${operation} at ${CONNECTIONS} connections, ${seconds} s`, summarizeProfile(kept, 25))}\n`)
  process.stderr.write(`[profile] the full profile is ${kept} (open it in Chrome DevTools)\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`[profile] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
