import { performance } from 'node:perf_hooks'
import type { SecretsService } from '../app/secrets/secrets.service'
import type { CreateSecretInput } from '../app/secrets/secret-input'
import { openVaultCore } from '../compose'
import { createLogger } from '../lib/logger'
import { STANDARD, type ClientId, type Principal, type SecretKey } from '../common/types'
import type { ConnectionSettings } from '../store/connection'
import { secretValue } from './requests'

/** Keys the scale benchmark stores: `scale-0` .. `scale-{n-1}`; `scale-0` gets the long history. */
export const scaleKey = (n: number): string => `scale-${n}`
export const HOT_KEY = scaleKey(0)

export type SeedPlan = Readonly<{ secrets: number; hotUpdates: number; events: number; seconds: number; concurrency: number }>

export type SeedResult = Readonly<{ creates: number; updates: number; seconds: number; stoppedByTime: boolean }>

const progress = (text: string) => process.stderr.write(`[scale] ${text}\n`)

// The seeding client: an admin, as the bootstrap client is.
const SEEDER: Principal = Object.freeze({ clientId: 'bench-seeder' as ClientId, admin: true, secrets: true, organizations: [] })

/**
 * Stores the data set through the vault's own service layer, in this process, on the vault's
 * PostgreSQL (a second vault process on one store is a supported set-up). WHY not over HTTP:
 * on a 2-core machine the HTTP, JWT and JSON work of a million requests would take CPU from the
 * store and cost many minutes more, while these are the same writes, with the same intents,
 * locks, data keys, reSolve commands and events as the API's, so the vault reads them as its own.
 */
export const seedScale = async (
  connection: ConnectionSettings,
  master: Readonly<{ key: Buffer; keyStoreDir: string }>,
  plan: SeedPlan,
): Promise<SeedResult> => {
  const store = await openVaultCore(
    {
      connection,
      masterKey: master.key,
      previousMasterKeys: [],
      keyStore: { kind: 'files', dir: master.keyStoreDir },
      shredHorizonSeconds: 60,
      // It only writes: no read would use a cached key.
      dataKeyCacheSize: 0,
      readCacheSize: 0,
      tokenTtlSeconds: 3600,
      naming: { env: 'dev', aws: { region: 'us-east-1', accountId: '000000000000' } },
      runShredder: false,
    },
    createLogger('warn'),
  )
  const { secrets } = store
  const started = performance.now()
  const deadline = started + plan.seconds * 1000
  let creates = 0
  let updates = 0
  try {
    creates = await inParallel(plan.concurrency, plan.secrets, deadline, (n) => create(secrets, n))
    progress(`${creates.toLocaleString('en-US')} secrets created in ${((performance.now() - started) / 1000).toFixed(0)} s`)
    // Updates of one key are serialized by its lock anyway: one loop.
    for (; updates < plan.hotUpdates && performance.now() < deadline; updates++) await update(secrets, HOT_KEY, updates)
    // Each create stores two events (SecretCreated and the secrets manager's key event); each update one.
    // Round robin over every key but the hot one and the last, which stays a one-event secret.
    const more = Math.max(0, plan.events - 2 * creates - updates)
    const spread = Math.max(1, creates - 2)
    updates += await inParallel(plan.concurrency, more, deadline, (n) => update(secrets, scaleKey(1 + (n % spread)), n))
  } finally {
    await store.close()
  }
  const seconds = (performance.now() - started) / 1000
  return { creates, updates, seconds, stoppedByTime: performance.now() >= deadline }
}

const create = (secrets: SecretsService, n: number) =>
  secrets.create(SEEDER.clientId, STANDARD, { key: scaleKey(n) as SecretKey, secret: secretValue('c', n), description: 'scale' } as CreateSecretInput)

const update = (secrets: SecretsService, key: string, n: number) =>
  secrets.update(SEEDER.clientId, STANDARD, key as SecretKey, { secret: secretValue('u', n) })

/** Runs work(0..count-1), `concurrency` at a time, until done or past the deadline; answers how many ran. */
const inParallel = async (concurrency: number, count: number, deadline: number, work: (n: number) => Promise<unknown>) => {
  let next = 0
  let done = 0
  const loop = async () => {
    while (next < count && performance.now() < deadline) {
      await work(next++)
      if (++done % 20_000 === 0) progress(`${done.toLocaleString('en-US')} / ${count.toLocaleString('en-US')}`)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, loop))
  return done
}
