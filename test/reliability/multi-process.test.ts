import { adminToken, as, clientWith, type Reply } from '../helpers/api'
import { makeDataDir, newVaultSetup, startVault, type VaultProcess } from '../helpers/vault-process'

/**
 * Two vault processes on one PostgreSQL database (same master key, same bootstrap admin, each
 * its own data directory). Nothing may rely on in-process state: keys stay unique, no update is
 * lost, a delete racing an update and a re-create ends as some serial order would, and a write
 * answered by one process is read back by the other.
 */

type Api = ReturnType<typeof as>
type HistoryEvent = { type: string; version: number; actor: string; description?: string }

const historyOf = async (api: Api, key: string): Promise<HistoryEvent[]> => {
  const reply = await api.get(`/secrets/${key}/history`)
  expect(reply.status).toBe(200)
  return reply.body.events as HistoryEvent[]
}

const hasMessage = (reply: Reply) => typeof reply.body?.message === 'string' && reply.body.message !== ''

/** What one request of a race may observe, and what a serial run of the requests would give. */
type Operation = 'update' | 'delete' | 'create'
type Observed = Readonly<{
  statuses: Record<Operation, number>
  final: Readonly<{ status: number; secret?: unknown }>
  events: ReadonlyArray<Readonly<{ type: string; description?: string }>>
}>

const UPDATED = { v: 'updated' }
const RECREATED = { v: 'recreated' }
const ORIGINAL = { v: 'original' }

/** Runs the three operations one after another on a key that exists with ORIGINAL. */
const serially = (order: readonly Operation[]): Observed => {
  let value: unknown = ORIGINAL
  let exists = true
  const statuses = {} as Record<Operation, number>
  const events: Array<{ type: string; description?: string }> = []
  for (const operation of order) {
    if (operation === 'update') {
      statuses.update = exists ? 200 : 404
      if (exists) {
        value = UPDATED
        events.push({ type: 'SecretUpdated', description: 'update' })
      }
    } else if (operation === 'delete') {
      statuses.delete = exists ? 204 : 205
      if (exists) events.push({ type: 'SecretDeleted' })
      exists = false
    } else {
      statuses.create = exists ? 400 : 200
      if (!exists) {
        value = RECREATED
        exists = true
        events.push({ type: 'SecretCreated', description: 'create' })
      }
    }
  }
  return { statuses, final: exists ? { status: 200, secret: value } : { status: 404 }, events }
}

const permutations = <T>(items: readonly T[]): T[][] =>
  items.length <= 1
    ? [[...items]]
    : items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]))

const SERIAL_OUTCOMES = permutations<Operation>(['update', 'delete', 'create']).map(serially)

const describeWithServer = process.env.TEST_DATABASE_URL ? describe : describe.skip

describeWithServer('two vault processes on one PostgreSQL', () => {
  let first: VaultProcess
  let second: VaultProcess
  /** The bootstrap admin through each process, with the token minted by the other one. */
  let a: Api
  let b: Api
  /** A non-admin client with the standard-secrets grant, registered on one and used on the other. */
  let userOnA: Api
  let userOnB: Api
  let both: Api[]

  beforeAll(async () => {
    const setup = await newVaultSetup('server')
    first = await startVault(setup)
    second = await startVault({ ...setup, dataDir: makeDataDir() })
    a = as(first.url, await adminToken(second.url))
    b = as(second.url, await adminToken(first.url))
    const user = await clientWith(first.url, await adminToken(first.url), { secrets: true })
    userOnA = as(first.url, user.token)
    userOnB = as(second.url, user.token)
    both = [a, userOnB, userOnA, b]
  }, 120_000)

  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()])
  })

  it('accepts on each process the tokens the other one minted', async () => {
    expect((await userOnB.post('/secrets', { key: 'minted-elsewhere', secret: { a: 1 } })).status).toBe(200)
    expect((await userOnA.get('/secrets/minted-elsewhere')).body.secret).toEqual({ a: 1 })
  })

  it('creates each key exactly once when many clients create the same keys through both processes at once', async () => {
    const keys = Array.from({ length: 10 }, (_, k) => `contended-${k}`)
    const attempts = keys.flatMap((key) =>
      Array.from({ length: 20 }, (_, attempt) => ({ key, attempt, api: both[attempt % both.length] })),
    )
    const replies = await Promise.all(
      attempts.map(async ({ key, attempt, api }) => ({
        key,
        attempt,
        reply: await api.post('/secrets', { key, secret: { key, attempt }, description: `attempt ${attempt}` }),
      })),
    )

    for (const key of keys) {
      const mine = replies.filter((r) => r.key === key)
      const winners = mine.filter((r) => r.reply.status === 200)
      expect(winners).toHaveLength(1)
      const losers = mine.filter((r) => r.reply.status !== 200)
      expect(losers.map((r) => r.reply.status)).toEqual(Array(19).fill(400))
      expect(losers.filter((r) => !hasMessage(r.reply))).toEqual([])

      // The value stored is the one the 200 sent, as both processes read it.
      const expected = { key, attempt: winners[0].attempt }
      expect((await a.get(`/secrets/${key}`)).body.secret).toEqual(expected)
      expect((await b.get(`/secrets/${key}`)).body.secret).toEqual(expected)
      const history = await historyOf(a, key)
      expect(history.map((e) => [e.type, e.description])).toEqual([['SecretCreated', `attempt ${winners[0].attempt}`]])
    }
  })

  it('loses no concurrent update of one secret, and reads the last one in history from both processes', async () => {
    const key = 'contended-updates'
    expect((await a.post('/secrets', { key, secret: { index: -1 }, description: 'initial' })).status).toBe(200)

    const count = 40
    const replies = await Promise.all(
      Array.from({ length: count }, (_, index) =>
        both[index % both.length].post(`/secrets/${key}`, { secret: { index }, description: `update ${index}` }),
      ),
    )
    const statuses = replies.map((r) => r.status)
    expect(statuses.filter((s) => s !== 200 && s !== 409)).toEqual([])
    expect(replies.filter((r) => r.status === 409 && !hasMessage(r))).toEqual([])
    const acknowledged = replies.flatMap((r, index) => (r.status === 200 ? [`update ${index}`] : []))
    expect(acknowledged.length).toBeGreaterThan(0)

    // Exactly one SecretUpdated per 200: none lost, none extra, none from a 409.
    const history = await historyOf(b, key)
    expect(history[0]).toMatchObject({ type: 'SecretCreated', description: 'initial' })
    const updates = history.slice(1)
    expect(updates.every((e) => e.type === 'SecretUpdated')).toBe(true)
    expect(updates.map((e) => e.description).sort()).toEqual([...acknowledged].sort())
    expect(updates.map((e) => e.version)).toEqual(updates.map((_, i) => i + 2))

    // The value read afterwards, through either process, is the last update in history.
    const last = Number((updates[updates.length - 1].description as string).replace('update ', ''))
    expect((await a.get(`/secrets/${key}`)).body.secret).toEqual({ index: last })
    expect((await b.get(`/secrets/${key}`)).body.secret).toEqual({ index: last })
  })

  it('ends a delete racing an update and a re-create as one of their serial orders', async () => {
    const trials = 30
    const observedOrders = new Map<string, number>()
    for (let trial = 0; trial < trials; trial++) {
      const key = `race-${trial}`
      expect((await a.post('/secrets', { key, secret: ORIGINAL, description: 'original' })).status).toBe(200)

      // Each operation through a process chosen by the trial's bits, so every mix is tried.
      const through = (bit: number) => (trial & (1 << bit) ? a : b)
      const [update, remove, create] = await Promise.all([
        through(0).post(`/secrets/${key}`, { secret: UPDATED, description: 'update' }),
        through(1).delete(`/secrets/${key}`),
        through(2).post('/secrets', { key, secret: RECREATED, description: 'create' }),
      ])
      const finalOnA = await a.get(`/secrets/${key}`)
      const finalOnB = await b.get(`/secrets/${key}`)
      expect({ status: finalOnB.status, secret: finalOnB.body.secret }).toEqual({
        status: finalOnA.status,
        secret: finalOnA.body.secret,
      })
      const history = await historyOf(b, key)
      expect(history[0]).toMatchObject({ type: 'SecretCreated', description: 'original' })

      const observed: Observed = {
        statuses: { update: update.status, delete: remove.status, create: create.status },
        final: finalOnA.status === 200 ? { status: 200, secret: finalOnA.body.secret } : { status: finalOnA.status },
        events: history.slice(1).map((e) => (e.description === undefined ? { type: e.type } : { type: e.type, description: e.description })),
      }
      expect(SERIAL_OUTCOMES).toContainEqual(observed)
      const label = JSON.stringify([observed.statuses, observed.events.map((e) => e.type)])
      observedOrders.set(label, (observedOrders.get(label) ?? 0) + 1)
      // Errors always say why.
      for (const reply of [update, create]) if (reply.status >= 400) expect(hasMessage(reply)).toBe(true)
    }
    // The races really race: more than one serial order shows up over the trials.
    expect(observedOrders.size).toBeGreaterThan(1)
  })

  it('reads through one process every write the other one has just answered', async () => {
    for (let i = 0; i < 50; i++) {
      const [writer, reader] = i % 2 === 0 ? [a, userOnB] : [userOnB, a]
      const key = `ryw-${i % 5}`
      const write = i < 5 ? await writer.post('/secrets', { key, secret: { i } }) : await writer.post(`/secrets/${key}`, { secret: { i } })
      expect(write.status).toBe(200)
      const read = await reader.get(`/secrets/${key}`)
      expect({ i, status: read.status, secret: read.body.secret }).toEqual({ i, status: 200, secret: { i } })
    }
    // A delete answered by one process is a 404 on the other at once.
    expect((await a.delete('/secrets/ryw-0')).status).toBe(204)
    expect((await userOnB.get('/secrets/ryw-0')).status).toBe(404)
  })

  it('reads a secret as gone on a process that has just read it many times, once the other deletes it, then reads its new incarnation', async () => {
    const key = 'read-then-shredded-elsewhere'
    expect((await a.post('/secrets', { key, secret: { v: 'first' } })).status).toBe(200)
    // Repeated reads through b: its data key is cached there (app/keys/data-key-cache.ts).
    for (let i = 0; i < 5; i++) expect((await b.get(`/secrets/${key}`)).body.secret).toEqual({ v: 'first' })
    expect((await a.delete(`/secrets/${key}`)).status).toBe(204)
    const afterDelete = await Promise.all(Array.from({ length: 5 }, () => b.get(`/secrets/${key}`)))
    expect(afterDelete.map((r) => r.status)).toEqual([404, 404, 404, 404, 404])
    expect((await a.post('/secrets', { key, secret: { v: 'second' } })).status).toBe(200)
    expect((await b.get(`/secrets/${key}`)).body.secret).toEqual({ v: 'second' })
    expect((await a.post(`/secrets/${key}`, { secret: { v: 'third' } })).status).toBe(200)
    expect((await b.get(`/secrets/${key}`)).body.secret).toEqual({ v: 'third' })
  })

  it('keeps both processes free of internal errors and stack traces', () => {
    for (const vault of [first, second]) {
      expect(vault.output()).not.toMatch(/"level":"error"/)
      expect(vault.output()).not.toMatch(/^\s+at\s+\S.*:\d+:\d+\)?\s*$/m)
    }
  })
})
