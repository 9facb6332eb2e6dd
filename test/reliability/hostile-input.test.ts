import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import type pg from 'pg'
import { rawAnswerProblems } from '../helpers/answers'
import { adminToken, clientWith, request } from '../helpers/api'
import { connectToStore, dumpStore } from '../helpers/database'
import { forgeTokens } from '../helpers/forged-tokens'
import { clientAndTokenSpecs } from '../helpers/hostile/client-specs'
import { rawRequestOf } from '../helpers/hostile/requests'
import { bodySpecs, routeSpecs } from '../helpers/hostile/route-specs'
import { countOf, eventCounts, readSeeded, SEEDED_REFS, seededRows } from '../helpers/hostile/seeded-state'
import { seededSpecs } from '../helpers/hostile/seeded-specs'
import { printable, SAFE_METHODS, type Spec } from '../helpers/hostile/spec'
import { FUZZ_KEYS, FUZZ_ORG, GONE, KEPT, MARK, REBORN, SEEDED_NAMESPACES } from '../helpers/hostile/stakes'
import { headerSpecs } from '../helpers/hostile/wire-specs'
import { exchange as exchangeRaw, type Answer } from '../helpers/raw-socket'
import { clip, parseJson } from '../helpers/text'
import { newVaultSetup, startVault, type VaultProcess } from '../helpers/vault-process'

// Hostile input, property-based: thousands of generated requests over every REST route (random
// JSON, deep nesting, huge strings, unicode and control characters, path tricks, duplicate
// attribute names, wrong types, oversized bodies, wrong and missing headers). Whatever arrives:
// never a 5xx, never a crash, an error body is JSON with a `message` and no stack or SQL, and a
// refused request changes nothing stored.
//
// Requests go out on raw sockets, so the method, target, headers and body reach the vault byte
// for byte (node:http and fetch would refuse or normalize many of them first).
//
// Writes may succeed only in the fuzzer's own namespace: every key a generated body may create
// starts with "fz". Every request aimed at a seeded secret that could write (any method but
// GET, HEAD, OPTIONS, TRACE) carries something that must make it refused: no or a bad token, a
// token without the grant, a wrong content type, or a body the contract (or the bad input suite)
// refuses. At the end the seeded secrets, their rows and their events are exactly as they were,
// and every event stored is accounted for by a write the vault answered with success.
//
// A failure names its property and prints fast-check's seed and path; replay it with
// HOSTILE_INPUT_PROPERTY=<property> HOSTILE_INPUT_SEED=<seed> HOSTILE_INPUT_PATH=<path> \
//   npx jest test/reliability/hostile-input.test.ts

/** Cases per property; their sum is the cases of one run (at least 10,000 at scale 1). */
const SCALE = Number(process.env.HOSTILE_INPUT_SCALE ?? '1')
const RUNS = {
  routes: 2500,
  bodies: 3000,
  headers: 1500,
  clientsAndTokens: 1500,
  seeded: 1500,
} as const
const runsOf = (name: keyof typeof RUNS): number => Math.max(1, Math.round(RUNS[name] * SCALE))

/** A replay (HOSTILE_INPUT_SEED, HOSTILE_INPUT_PATH) applies to HOSTILE_INPUT_PROPERTY, or to all. */
const replayOf = (name: keyof typeof RUNS): { seed?: number; path?: string } => {
  const { HOSTILE_INPUT_PROPERTY: only, HOSTILE_INPUT_SEED: seed, HOSTILE_INPUT_PATH: replayPath } = process.env
  if (only !== undefined && only !== name) return {}
  return { ...(seed !== undefined ? { seed: Number(seed) } : {}), ...(replayPath !== undefined ? { path: replayPath } : {}) }
}

// The generators of hostile requests are in test/helpers/hostile/, the raw socket client in
// test/helpers/raw-socket.ts, the answer checks in test/helpers/answers.ts.

let vault: VaultProcess
const tokens: Record<string, string> = {}
let db: pg.Client

// Longer than the server's requestTimeout (30 s, api/http/server.ts): a request that declares a body it
// never sends (Content-Length: 5 and nothing) is answered 408 by Node only then.
const ANSWER_TIMEOUT_MS = 35_000

/** Sends one request on a fresh connection and reads until the server closes it. */
const exchange = (spec: Spec): Promise<{ answer: Answer; headBytes: number }> => exchangeRaw(vault.url, rawRequestOf(spec, tokens), ANSWER_TIMEOUT_MS)

/** What is wrong with an answer: [] when nothing. */
const problemsOf = (spec: Spec, answer: Answer, headBytes: number): string[] =>
  rawAnswerProblems(answer, { method: spec.method, mustRefuse: spec.mustRefuse, headBytes, mark: MARK })

// --------------------------------------------------------------------------- bookkeeping

const stats = {
  cases: {} as Record<string, number>,
  requests: 0,
  statuses: {} as Record<string, number>,
  /** Answers by family and by kind of body, to see what the generators reach. */
  byFamily: {} as Record<string, Record<string, number>>,
  byBody: {} as Record<string, Record<string, number>>,
  closedOverLimits: 0,
  /** POST answered 200 with an ARN: a create or an update, one event each. */
  secretWrites: 0,
  /** DELETE answered 204: a deleted secret, one SecretDeleted event. */
  secretDeletes: 0,
  /** POST /clients answered 201. */
  clientsCreated: 0,
  startedAt: Date.now(),
}
/** "organizationId\u0000key" of every secret a generated request wrote with success. */
const writtenByFuzz = new Set<string>(FUZZ_KEYS.map((key) => `\u0000${key}`))

const bump = (counts: Record<string, number>, name: string | number) => (counts[name] = (counts[name] ?? 0) + 1)

const tally = (spec: Spec, answer: Answer) => {
  stats.requests++
  const outcome = answer.kind === 'none' ? 'closed' : answer.status
  bump((stats.byFamily[spec.family] ??= {}), outcome)
  if (spec.body !== undefined) bump((stats.byBody[spec.body.note] ??= {}), outcome)
  if (answer.kind === 'none') {
    stats.closedOverLimits++
    return
  }
  bump(stats.statuses, answer.status)
  const body = parseJson(answer.text) as Record<string, unknown> | undefined
  // The HTTP parser reads "DELETE " as DELETE.
  const method = spec.method.trim().toUpperCase()
  if (method === 'POST' && answer.status === 200 && typeof body?.arn === 'string') {
    stats.secretWrites++
    writtenByFuzz.add(`${typeof body.organizationId === 'string' ? body.organizationId : ''}\u0000${String(body.id)}`)
  }
  if (method === 'DELETE' && answer.status === 204) stats.secretDeletes++
  if (method === 'POST' && answer.status === 201 && typeof body?.clientId === 'string') stats.clientsCreated++
}

/** One property: every generated request answered without a problem. */
const hold = async (name: keyof typeof RUNS, specs: fc.Arbitrary<Spec>) => {
  const replay = replayOf(name)
  stats.cases[name] = 0
  await fc.assert(
    fc.asyncProperty(specs.map(printable), async (spec) => {
      stats.cases[name]++
      if (spec.seeded && !SAFE_METHODS.has(spec.method) && !spec.mustRefuse) {
        throw new Error('test bug: a write aimed at a seeded secret that nothing refuses')
      }
      const { answer, headBytes } = await exchange(spec)
      tally(spec, answer)
      const problems = problemsOf(spec, answer, headBytes)
      if (problems.length > 0) {
        const shown = answer.kind === 'reply' ? `${answer.status} ${clip(answer.text, 300)}` : answer.reason
        throw new Error(`[property ${name}] ${problems.join('; ')}\n  answer: ${shown}`)
      }
    }),
    { numRuns: runsOf(name), ...replay },
  )
  if (replay.path === undefined) expect(stats.cases[name]).toBeGreaterThanOrEqual(runsOf(name))
}

// ------------------------------------------------------------------------ state snapshots

let seededBefore: Awaited<ReturnType<typeof readSeeded>>
let rowsBefore: Awaited<ReturnType<typeof seededRows>>
let eventsBefore: Record<string, number>
let clientsBefore: number

// ----------------------------------------------------------------------------------- suite

jest.setTimeout(180_000)

describe('hostile input, property-based, on every route', () => {
  beforeAll(async () => {
    const setup = await newVaultSetup('embedded')
    vault = await startVault(setup)
    tokens.admin = await adminToken(vault.url)
    tokens.limited = (await clientWith(vault.url, tokens.admin, { organizations: [FUZZ_ORG] })).token
    tokens.ungranted = (await clientWith(vault.url, tokens.admin, {})).token
    forgeTokens(tokens, tokens.admin, setup.env.VAULT_MASTER_KEY)

    const post = (p: string, body: unknown) => request(vault.url, 'POST', p, { token: tokens.admin, body })
    const remove = (p: string) => request(vault.url, 'DELETE', p, { token: tokens.admin })
    const seeded: number[] = []
    for (const ns of SEEDED_NAMESPACES) {
      seeded.push(
        (await post(ns, { key: KEPT, secret: { user: 'first', pwd: 'one' }, description: 'kept secret' })).status,
        (await post(`${ns}/${KEPT}`, { secret: { user: 'first', pwd: 'two' }, description: 'kept, updated' })).status,
        (await post(ns, { key: REBORN, secret: { token: 'first life' } })).status,
        (await remove(`${ns}/${REBORN}`)).status,
        (await post(ns, { key: REBORN, secret: { token: 'second life' } })).status,
        (await post(ns, { key: GONE, secret: { token: 'shredded' }, description: 'gone' })).status,
        (await remove(`${ns}/${GONE}`)).status,
      )
    }
    for (const key of FUZZ_KEYS) seeded.push((await post('/secrets', { key, secret: { pwd: 'fuzz target' } })).status)
    expect(seeded).toEqual([...[200, 200, 200, 204, 200, 200, 204, 200, 200, 200, 204, 200, 200, 204], 200, 200, 200])

    db = await connectToStore(setup)
    seededBefore = await readSeeded(vault.url, tokens.admin)
    rowsBefore = await seededRows(db, vault.setup)
    eventsBefore = await eventCounts(db)
    clientsBefore = await countOf(db, 'vault.clients')
    stats.startedAt = Date.now()
  })

  afterAll(async () => {
    await db?.end()
    await vault?.stop()
    const file = path.join(os.tmpdir(), 'event-vault-hostile-input.json')
    const cases = Object.values(stats.cases).reduce((sum, n) => sum + n, 0)
    fs.writeFileSync(file, `${JSON.stringify({ ...stats, totalCases: cases, seconds: (Date.now() - stats.startedAt) / 1000, scale: SCALE }, null, 2)}\n`)
    process.stdout.write(`\n[hostile-input] ${cases} cases, ${stats.requests} requests; details in ${file}\n`)
  })

  it('plans at least 10,000 cases a run', () => {
    const planned = (Object.keys(RUNS) as Array<keyof typeof RUNS>).reduce((sum, name) => sum + runsOf(name), 0)
    if (SCALE >= 1) expect(planned).toBeGreaterThanOrEqual(10_000)
  })

  it('starts from seeded secrets with their history', () => {
    expect(seededBefore.map(({ path: p, status, history, events }) => ({ p, status, history, types: (events as { events?: Array<{ type: string }> })?.events?.map((e) => e.type) }))).toEqual(
      SEEDED_REFS.map(({ ns, key }) => ({
        p: `${ns}/${key}`,
        status: key === GONE ? 404 : 200,
        history: 200,
        types: {
          [KEPT]: ['SecretCreated', 'SecretUpdated'],
          [REBORN]: ['SecretCreated', 'SecretDeleted', 'SecretCreated'],
          [GONE]: ['SecretCreated', 'SecretDeleted'],
        }[key],
      })),
    )
  })

  it('answers any method on any route and path, with any credentials and body, without a 5xx', async () => {
    await hold('routes', routeSpecs)
  })

  it('answers hostile create and update bodies with a 4xx and a message, and refuses what the contract refuses', async () => {
    await hold('bodies', bodySpecs)
  })

  it('answers hostile headers, encodings and framing without a 5xx', async () => {
    await hold('headers', headerSpecs)
  })

  it('answers hostile client registrations and token requests without a 5xx', async () => {
    await hold('clientsAndTokens', clientAndTokenSpecs)
  })

  it('refuses every write aimed at a seeded secret, however its path is spelled', async () => {
    await hold('seeded', seededSpecs)
  })

  describe('after all of it', () => {
    it('still holds every seeded secret with the same value, description, history, rows and events', async () => {
      expect(await readSeeded(vault.url, tokens.admin)).toEqual(seededBefore)
      expect(await seededRows(db, vault.setup)).toEqual(rowsBefore)
    })

    it('stored only what it answered with success, and only in the fuzzer namespace', async () => {
      const now = await eventCounts(db)
      const added = (type: string) => (now[type] ?? 0) - (eventsBefore[type] ?? 0)
      expect({
        writes: added('SecretCreated') + added('SecretUpdated'),
        deletes: added('SecretDeleted'),
        dataKeysSet: added('RESOLVE_SET_SECRET'),
        dataKeysDeleted: added('RESOLVE_DELETE_SECRET'),
        otherTypes: Object.keys(now).filter((type) => !['SecretCreated', 'SecretUpdated', 'SecretDeleted', 'RESOLVE_SET_SECRET', 'RESOLVE_DELETE_SECRET'].includes(type)),
      }).toEqual({
        writes: stats.secretWrites,
        deletes: stats.secretDeletes,
        dataKeysSet: added('SecretCreated'),
        dataKeysDeleted: added('SecretDeleted'),
        otherTypes: [],
      })
      expect(await countOf(db, 'vault.clients')).toBe(clientsBefore + stats.clientsCreated)
      expect(await countOf(db, 'vault.pending_operations')).toBe(0)
      const seededIds = new Set(SEEDED_REFS.map((ref) => `${ref.organizationId}\u0000${ref.key}`))
      const incarnations = await db.query<{ organization_id: string; key: string }>('SELECT organization_id, key FROM vault.incarnations')
      const others = incarnations.rows.map((row) => `${row.organization_id}\u0000${row.key}`).filter((id) => !seededIds.has(id))
      expect(others.filter((id) => !writtenByFuzz.has(id) || !id.split('\u0000')[1].startsWith('fz'))).toEqual([])
      const atRest = (await dumpStore(db)).split('\n').filter((line) => line.includes(MARK))
      expect(atRest.map((line) => clip(line.slice(Math.max(0, line.indexOf(MARK) - 300)), 400))).toEqual([])
    })

    it('is alive and healthy, logged no internal error and no secret value, and stops cleanly', async () => {
      expect((await request(vault.url, 'GET', '/health')).status).toBe(200)
      const output = vault.output()
      const errors = output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .filter((line) => (parseJson(line) as { level?: string } | undefined)?.level === 'error')
      expect(errors).toEqual([])
      expect(output.includes(MARK)).toBe(false)
      await db.end()
      db = undefined as unknown as pg.Client
      expect(await vault.stop('SIGTERM')).toBe(0)
    })
  })
})
