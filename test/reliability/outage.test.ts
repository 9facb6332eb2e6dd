import { adminToken, as } from '../helpers/api'
import { crashLines } from '../helpers/logs'
import { hasPostgresServer, startOwnPostgres, type OwnPostgres } from '../helpers/own-postgres'
import { sleep } from '../helpers/sleep'
import { timedRequest as timedRequestTo } from '../helpers/timed-http'
import { newVaultSetup, startVault, type VaultProcess, type VaultSetup } from '../helpers/vault-process'

/**
 * PostgreSQL goes away while requests flow, then comes back. The vault must answer 503 with a
 * message, quickly (no hang, no 500, no crash), say 503 on /health, and serve again once the
 * server is back, without a restart, having lost no acknowledged write.
 *
 * Each test has a PostgreSQL server of its own: stopping the shared one would break other suites.
 */

/** A client gives up on a request after this long: a request that takes it has hung. */
const CLIENT_TIMEOUT_MS = 15_000
/** Upper bound for a 503 while the store is down ("within a few seconds"). */
const MAX_503_MS = 12_000
/** Upper bound for /health to say 503 while the store is down. */
const MAX_HEALTH_MS = 5_000
/**
 * Right after a SIGKILL of the postmaster its backends serve the connections they have for a
 * moment, until they notice: requests started this soon may still succeed.
 */
const ONSET_MS = 1_000
/** How long requests keep flowing against the stopped server. */
const OUTAGE_MS = 6_000
/** How long the vault may take to serve again once the server is back. */
const RECOVERY_MS = 30_000
const LOOPS_PER_KIND = 2
const PAUSE_MS = 40

type Phase = 'before' | 'onset' | 'outage' | 'draining' | 'recovering' | 'after'
type Kind = 'create' | 'read' | 'update'

/** One request and what became of it; status 0 is no answer (hang or connection cut). */
type Outcome = Readonly<{
  kind: Kind | 'health'
  phase: Phase
  key: string
  value: number
  startedAt: number
  ms: number
  status: number
  body: any
  failure?: string
}>

/** What a failed assertion shows of a request (the first few only). */
const summary = (o: Outcome) => ({ kind: o.kind, phase: o.phase, key: o.key, status: o.status, ms: o.ms, failure: o.failure, body: o.body })

/** One request with a client-side timeout, timed, never throwing. */
const timedRequest = (vault: VaultProcess, token: string | undefined, method: string, path: string, body?: unknown) =>
  timedRequestTo(vault.url, CLIENT_TIMEOUT_MS, token, method, path, body)

/** A vault on a PostgreSQL server of the test's own (no embedded server, no shared database). */
const vaultOn = async (own: OwnPostgres): Promise<VaultProcess> => {
  const base = await newVaultSetup('embedded')
  const setup: VaultSetup = { ...base, backend: 'server', env: { ...base.env, DATABASE_URL: own.url } }
  return startVault(setup)
}

/** Requests from a few concurrent loops (creates, reads, updates), each tagged with the phase it started in. */
const traffic = (vault: VaultProcess, token: string, readKeys: string[], updateKeys: string[]) => {
  const outcomes: Outcome[] = []
  let phase: Phase = 'before'
  let running = true
  let inFlight = 0

  const loop = async (kind: Kind, index: number) => {
    let n = 0
    while (running) {
      if (phase === 'draining') {
        await sleep(PAUSE_MS)
        continue
      }
      n++
      const startedIn = phase
      const startedAt = Date.now()
      let key: string
      let reply
      inFlight++
      if (kind === 'create') {
        key = `created-${index}-${n}`
        reply = await timedRequest(vault, token, 'POST', '/secrets', { key, secret: { n } })
      } else if (kind === 'read') {
        key = readKeys[n % readKeys.length]
        reply = await timedRequest(vault, token, 'GET', `/secrets/${key}`)
      } else {
        key = updateKeys[index]
        reply = await timedRequest(vault, token, 'POST', `/secrets/${key}`, { secret: { n } })
      }
      inFlight--
      outcomes.push({ kind, phase: startedIn, key, value: n, startedAt, ...reply })
      await sleep(PAUSE_MS)
    }
  }

  const loops: Promise<void>[] = []
  for (let index = 0; index < LOOPS_PER_KIND; index++) {
    for (const kind of ['create', 'read', 'update'] as const) loops.push(loop(kind, index))
  }
  return {
    outcomes,
    setPhase: (next: Phase) => (phase = next),
    /** Lets requests in flight finish (they are bounded by the client timeout). */
    drain: async () => {
      phase = 'draining'
      // Bounded: every request gives up after the client timeout.
      while (inFlight > 0) await sleep(PAUSE_MS)
    },
    stop: async () => {
      running = false
      await Promise.all(loops)
    },
  }
}

const describeWithServer = hasPostgresServer() ? describe : describe.skip

describeWithServer('the vault through a PostgreSQL outage', () => {
  const outages: Array<[string, (own: OwnPostgres) => void]> = [
    ['a clean shutdown of PostgreSQL', (own) => own.stop()],
    ['a crash of PostgreSQL (SIGKILL of the postmaster)', (own) => own.kill()],
  ]

  it.each(outages)('answers 503 quickly during %s and serves again once it is back, without a restart', async (_name, cause) => {
    const own = startOwnPostgres()
    let vault: VaultProcess | undefined
    let load: ReturnType<typeof traffic> | undefined
    try {
      vault = await vaultOn(own)
      const running = vault
      const token = await adminToken(running.url)
      const api = as(running.url, token)
      const readKeys = ['read-0', 'read-1', 'read-2']
      const updateKeys = Array.from({ length: LOOPS_PER_KIND }, (_, i) => `updated-${i}`)
      for (const key of [...readKeys, ...updateKeys]) {
        expect((await api.post('/secrets', { key, secret: { n: 0, key } })).status).toBe(200)
      }

      load = traffic(running, token, readKeys, updateKeys)
      await sleep(1_500)

      // The outage. (The helper blocks this process while PostgreSQL goes down.)
      cause(own)
      const outageAt = Date.now()
      load.setPhase('onset')
      await sleep(ONSET_MS)
      load.setPhase('outage')
      const healthDuringOutage: Outcome[] = []
      while (Date.now() - outageAt < OUTAGE_MS) {
        const startedAt = Date.now()
        const reply = await timedRequest(running, undefined, 'GET', '/health')
        healthDuringOutage.push({ kind: 'health', phase: 'outage', key: '', value: 0, startedAt, ...reply })
        await sleep(500)
      }
      await load.drain()

      // PostgreSQL is back: the same vault process must serve again, within a bounded time.
      own.resume()
      const resumedAt = Date.now()
      load.setPhase('recovering')
      let probe = await timedRequest(running, undefined, 'GET', '/health')
      // A refused connection (not a timeout) means the vault is gone: no point in waiting.
      const gone = () => probe.status === 0 && probe.failure !== 'TimeoutError'
      while (probe.status !== 200 && !gone() && Date.now() - resumedAt < RECOVERY_MS) {
        await sleep(250)
        probe = await timedRequest(running, undefined, 'GET', '/health')
      }
      expect(crashLines(running.output())).toEqual([])
      expect({ status: probe.status, failure: probe.failure }).toEqual({ status: 200, failure: undefined })
      load.setPhase('after')
      await sleep(2_000)
      await load.stop()
      const outcomes = load.outcomes

      // Never a 500, never a hang, never anything but success or a 503 with a message.
      const unexpected = outcomes.filter(
        (o) => !(o.status === 200 || (o.status === 503 && typeof o.body?.message === 'string' && o.body.message !== '')),
      )
      expect(unexpected.slice(0, 10).map(summary)).toEqual([])

      // Requests before the outage (or at its very start) succeed, unless it caught them in flight.
      expect(outcomes.filter((o) => o.phase === 'before' && o.status === 200).length).toBeGreaterThan(0)

      // During the outage: only 503s, each within a few seconds.
      const during = outcomes.filter((o) => o.phase === 'outage')
      for (const kind of ['create', 'read', 'update'] as const) {
        expect(during.filter((o) => o.kind === kind).length).toBeGreaterThan(0)
      }
      expect(during.filter((o) => o.status !== 503).slice(0, 10).map(summary)).toEqual([])
      expect(during.filter((o) => o.ms > MAX_503_MS).slice(0, 10).map(summary)).toEqual([])

      // /health says 503, with a message, quickly, for as long as the store is down.
      expect(healthDuringOutage.length).toBeGreaterThanOrEqual(2)
      for (const health of healthDuringOutage) {
        expect(health.status).toBe(503)
        expect(health.body.message).toEqual(expect.any(String))
        expect(health.ms).toBeLessThanOrEqual(MAX_HEALTH_MS)
      }

      // Once /health says 200 again, every request succeeds.
      const after = outcomes.filter((o) => o.phase === 'after')
      for (const kind of ['create', 'read', 'update'] as const) {
        expect(after.filter((o) => o.kind === kind).length).toBeGreaterThan(0)
      }
      expect(after.filter((o) => o.status !== 200).slice(0, 10).map(summary)).toEqual([])

      // Reads only ever answered the stored value.
      for (const read of outcomes.filter((o) => o.kind === 'read' && o.status === 200)) {
        expect(read.body.secret).toEqual({ n: 0, key: read.key })
      }

      // Every acknowledged create is still there, with its value.
      for (const create of outcomes.filter((o) => o.kind === 'create')) {
        const read = await api.get(`/secrets/${create.key}`)
        if (create.status === 200) {
          expect({ key: create.key, status: read.status, secret: read.body.secret }).toEqual({
            key: create.key,
            status: 200,
            secret: { n: create.value },
          })
        } else {
          // Not acknowledged: it may or may not have happened, but never with another value.
          expect([200, 404]).toContain(read.status)
          if (read.status === 200) expect(read.body.secret).toEqual({ n: create.value })
        }
      }
      // Every updated key holds its last acknowledged value (or a later attempt that was not acknowledged).
      for (const key of updateKeys) {
        const attempts = outcomes.filter((o) => o.kind === 'update' && o.key === key)
        const lastAcknowledged = attempts.reduce((last, o, i) => (o.status === 200 ? i : last), -1)
        expect(lastAcknowledged).toBeGreaterThanOrEqual(0)
        const allowed = attempts.slice(lastAcknowledged).filter((o, i) => i === 0 || o.status !== 200)
        const read = await api.get(`/secrets/${key}`)
        expect(read.status).toBe(200)
        expect(allowed.map((o) => ({ n: o.value }))).toContainEqual(read.body.secret)
      }

      // The whole lifecycle works again on the same process.
      expect((await api.post('/secrets', { key: 'after-outage', secret: { v: 1 } })).status).toBe(200)
      expect((await api.get('/secrets/after-outage')).body.secret).toEqual({ v: 1 })
      expect((await api.post('/secrets/after-outage', { secret: { v: 2 } })).status).toBe(200)
      expect((await api.get('/secrets/after-outage')).body.secret).toEqual({ v: 2 })
      expect((await api.delete('/secrets/after-outage')).status).toBe(204)
      expect((await api.get('/secrets/after-outage')).status).toBe(404)
      const history = await api.get('/secrets/after-outage/history')
      expect(history.body.events.map((e: { type: string }) => e.type)).toEqual(['SecretCreated', 'SecretUpdated', 'SecretDeleted'])

      // No crash, no stack trace, no internal error in the logs; and a clean exit on SIGTERM.
      const output = running.output()
      expect(crashLines(output)).toEqual([])
      expect(output).not.toMatch(/"level":"error"/)
      expect(output).not.toMatch(/"msg":"stopping"/)
      vault = undefined
      expect(await running.stop('SIGTERM')).toBe(0)
    } finally {
      await load?.stop()
      await vault?.stop('SIGKILL')
      own.dispose()
    }
  }, 120_000)
})
