import crypto from 'node:crypto'
import { adminToken, as, clientWith } from '../helpers/api'
import { backends } from '../helpers/backends'
import { connectToStore, dumpStore } from '../helpers/database'
import { newVaultSetup, startVault, type VaultProcess } from '../helpers/vault-process'

type HistoryEvent = { type: string; version: number; timestamp: string; actor: string; description?: string }

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

/** A value no vault would ever produce by itself, to look for in answers. */
const marker = (label: string): string => `${label}-${crypto.randomBytes(12).toString('hex')}`

/** The ways a value could leak in text: as is, and in the encodings a careless answer might use. */
const encodingsOf = (value: string): string[] => [
  value,
  Buffer.from(value).toString('base64'),
  Buffer.from(value).toString('base64url'),
  Buffer.from(value).toString('hex'),
]

/** Every long run of base64, base64url or hex characters in a text: ciphertexts, IVs, wrapped keys. */
const opaqueTokensOf = (text: string): Set<string> => new Set(text.match(/[A-Za-z0-9+/_=-]{32,}/g) ?? [])

/** Events of one incarnation as the history should show them (timestamps checked apart). */
const withAnyTimestamp = (events: Array<Omit<HistoryEvent, 'timestamp'>>) =>
  events.map((event) => ({ ...event, timestamp: expect.stringMatching(ISO_TIMESTAMP) }))

const expectTimestampsInOrderWithin = (events: HistoryEvent[], since: number, until: number) => {
  const times = events.map((event) => {
    const time = Date.parse(event.timestamp)
    expect(Number.isNaN(time)).toBe(false)
    return time
  })
  for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1])
  // The vault and the tests share a clock; a second of slack for rounding.
  expect(times[0]).toBeGreaterThanOrEqual(since - 1000)
  expect(times[times.length - 1]).toBeLessThanOrEqual(until + 1000)
}

describe.each(backends())('secret history on the %s store', (backend) => {
  let vault: VaultProcess
  let admin: ReturnType<typeof as>
  let alice: { clientId: string; api: ReturnType<typeof as> }
  let bob: { clientId: string; api: ReturnType<typeof as> }

  beforeAll(async () => {
    vault = await startVault(await newVaultSetup(backend))
    const token = await adminToken(vault.url)
    admin = as(vault.url, token)
    const grants = { secrets: true, organizations: ['acme', 'globex'] }
    const a = await clientWith(vault.url, token, grants)
    const b = await clientWith(vault.url, token, grants)
    alice = { clientId: a.clientId, api: as(vault.url, a.token) }
    bob = { clientId: b.clientId, api: as(vault.url, b.token) }
  })
  afterAll(() => vault.stop())

  it('records every change of a key across its incarnations, oldest first, with the client that made it', async () => {
    const since = Date.now()
    expect((await alice.api.post('/secrets', { key: 'audited', secret: { v: 1 }, description: 'first' })).status).toBe(200)
    expect((await bob.api.post('/secrets/audited', { secret: { v: 2 }, description: 'second' })).status).toBe(200)
    expect((await alice.api.post('/secrets/audited', { secret: { v: 3 } })).status).toBe(200)
    expect((await bob.api.delete('/secrets/audited')).status).toBe(204)
    expect((await alice.api.post('/secrets', { key: 'audited', secret: { v: 4 }, description: 'reborn' })).status).toBe(200)
    expect((await bob.api.post('/secrets/audited', { secret: { v: 5 } })).status).toBe(200)
    expect((await alice.api.post('/secrets/audited', { secret: { v: 6 }, description: 'renewed' })).status).toBe(200)
    const until = Date.now()

    const history = await admin.get('/secrets/audited/history')
    expect(history.status).toBe(200)
    expect(Object.keys(history.body)).toEqual(['events'])
    expect(history.body.events).toEqual(
      withAnyTimestamp([
        { type: 'SecretCreated', version: 1, actor: alice.clientId, description: 'first' },
        { type: 'SecretUpdated', version: 2, actor: bob.clientId, description: 'second' },
        { type: 'SecretUpdated', version: 3, actor: alice.clientId },
        { type: 'SecretDeleted', version: 4, actor: bob.clientId },
        { type: 'SecretCreated', version: 1, actor: alice.clientId, description: 'reborn' },
        { type: 'SecretUpdated', version: 2, actor: bob.clientId },
        { type: 'SecretUpdated', version: 3, actor: alice.clientId, description: 'renewed' },
      ]),
    )
    expectTimestampsInOrderWithin(history.body.events, since, until)
  })

  it('shows a description only on the events that set one', async () => {
    await alice.api.post('/secrets', { key: 'described', secret: { v: 1 } })
    await alice.api.post('/secrets/described', { secret: { v: 2 }, description: 'set later' })
    await alice.api.post('/secrets/described', { secret: { v: 3 } })
    const events: HistoryEvent[] = (await admin.get('/secrets/described/history')).body.events
    expect(events.map((event) => 'description' in event)).toEqual([false, true, false])
    expect(events[1].description).toBe('set later')
  })

  it('answers every event with only its type, version, timestamp, actor and description', async () => {
    await alice.api.post('/secrets', { key: 'fields', secret: { v: 1 }, description: 'd' })
    await bob.api.post('/secrets/fields', { secret: { v: 2 } })
    await bob.api.delete('/secrets/fields')
    const events: HistoryEvent[] = (await admin.get('/secrets/fields/history')).body.events
    expect(events).toHaveLength(3)
    for (const event of events) {
      expect(Object.keys(event).every((field) => ['type', 'version', 'timestamp', 'actor', 'description'].includes(field))).toBe(true)
    }
  })

  it('never shows a value, a ciphertext or key material in the history', async () => {
    const values = [marker('created-value'), marker('updated-value'), marker('recreated-value')]
    await alice.api.post('/secrets', { key: 'no-leaks', secret: { password: values[0] }, description: 'leak check' })
    await bob.api.post('/secrets/no-leaks', { secret: { password: values[1] } })
    await bob.api.delete('/secrets/no-leaks')
    await alice.api.post('/secrets', { key: 'no-leaks', secret: { password: values[2] } })
    await alice.api.post('/organizations/acme', { key: 'no-leaks', secret: { password: values[0] } })

    const histories = [await admin.get('/secrets/no-leaks/history'), await admin.get('/organizations/acme/no-leaks/history')]
    for (const history of histories) {
      expect(history.status).toBe(200)
      for (const value of values) {
        for (const encoded of encodingsOf(value)) expect(history.text).not.toContain(encoded)
      }
    }

    // What the store holds at rest (ciphertexts, IVs, wrapped data keys) never shows either.
    const store = await connectToStore(vault.setup)
    try {
      const atRest = opaqueTokensOf(await dumpStore(store))
      expect(atRest.size).toBeGreaterThan(0)
      for (const history of histories) {
        const leaked = [...atRest].filter((token) => history.text.includes(token))
        expect(leaked).toEqual([])
      }
    } finally {
      await store.end()
    }
  })

  it('keeps the history of a key that is deleted now', async () => {
    await alice.api.post('/secrets', { key: 'gone', secret: { v: 1 } })
    await bob.api.delete('/secrets/gone')
    expect((await admin.get('/secrets/gone')).status).toBe(404)
    const history = await admin.get('/secrets/gone/history')
    expect(history.status).toBe(200)
    expect(history.body.events).toEqual(
      withAnyTimestamp([
        { type: 'SecretCreated', version: 1, actor: alice.clientId },
        { type: 'SecretDeleted', version: 2, actor: bob.clientId },
      ]),
    )
  })

  it('answers 404 for the history of a key that never existed', async () => {
    const history = await admin.get('/secrets/never-existed/history')
    expect(history.status).toBe(404)
    expect(history.body.message).toEqual(expect.any(String))
  })

  it('adds nothing to the history when a change is refused', async () => {
    await alice.api.post('/secrets', { key: 'refusals', secret: { v: 1 } })
    expect((await bob.api.post('/secrets', { key: 'refusals', secret: { v: 2 } })).status).toBe(400)
    expect((await bob.api.post('/secrets/refusals', { description: 'alone' })).status).toBe(400)
    expect((await bob.api.post('/secrets/refusals', { secret: 'not an object' })).status).toBe(400)
    const history = await admin.get('/secrets/refusals/history')
    expect(history.body.events).toEqual(withAnyTimestamp([{ type: 'SecretCreated', version: 1, actor: alice.clientId }]))
  })

  it('records the history of an organization secret with the client that made each change', async () => {
    const since = Date.now()
    await alice.api.post('/organizations/acme', { key: 'org-audited', secret: { v: 1 }, description: 'first' })
    await bob.api.post('/organizations/acme/org-audited', { secret: { v: 2 } })
    await alice.api.delete('/organizations/acme/org-audited')
    await bob.api.post('/organizations/acme', { key: 'org-audited', secret: { v: 3 }, description: 'again' })
    const until = Date.now()

    expect((await admin.get('/organizations/acme/org-audited')).body.secret).toEqual({ v: 3 })
    const history = await alice.api.get('/organizations/acme/org-audited/history')
    expect(history.status).toBe(200)
    expect(history.body.events).toEqual(
      withAnyTimestamp([
        { type: 'SecretCreated', version: 1, actor: alice.clientId, description: 'first' },
        { type: 'SecretUpdated', version: 2, actor: bob.clientId },
        { type: 'SecretDeleted', version: 3, actor: alice.clientId },
        { type: 'SecretCreated', version: 1, actor: bob.clientId, description: 'again' },
      ]),
    )
    expectTimestampsInOrderWithin(history.body.events, since, until)
  })

  it('keeps the history of a deleted organization secret and answers 404 for one that never existed', async () => {
    await alice.api.post('/organizations/acme', { key: 'org-gone', secret: { v: 1 } })
    await alice.api.delete('/organizations/acme/org-gone')
    const kept = await admin.get('/organizations/acme/org-gone/history')
    expect(kept.status).toBe(200)
    expect(kept.body.events.map((event: HistoryEvent) => event.type)).toEqual(['SecretCreated', 'SecretDeleted'])

    const never = await admin.get('/organizations/acme/org-never-existed/history')
    expect(never.status).toBe(404)
    expect(never.body.message).toEqual(expect.any(String))
    expect((await admin.get('/organizations/no-such-org/org-gone/history')).status).toBe(404)
  })

  it('keeps the history of each namespace apart for the same key', async () => {
    await alice.api.post('/secrets', { key: 'same-key', secret: { v: 'standard' }, description: 'standard' })

    await bob.api.post('/organizations/acme', { key: 'same-key', secret: { v: 'acme' }, description: 'acme' })
    await bob.api.post('/organizations/acme/same-key', { secret: { v: 'acme-2' } })

    await alice.api.post('/organizations/globex', { key: 'same-key', secret: { v: 'globex' }, description: 'globex' })
    await alice.api.post('/organizations/globex/same-key', { secret: { v: 'globex-2' } })
    await bob.api.delete('/organizations/globex/same-key')

    const standard = await admin.get('/secrets/same-key/history')
    expect(standard.body.events).toEqual(
      withAnyTimestamp([{ type: 'SecretCreated', version: 1, actor: alice.clientId, description: 'standard' }]),
    )
    const acme = await admin.get('/organizations/acme/same-key/history')
    expect(acme.body.events).toEqual(
      withAnyTimestamp([
        { type: 'SecretCreated', version: 1, actor: bob.clientId, description: 'acme' },
        { type: 'SecretUpdated', version: 2, actor: bob.clientId },
      ]),
    )
    const globex = await admin.get('/organizations/globex/same-key/history')
    expect(globex.body.events).toEqual(
      withAnyTimestamp([
        { type: 'SecretCreated', version: 1, actor: alice.clientId, description: 'globex' },
        { type: 'SecretUpdated', version: 2, actor: alice.clientId },
        { type: 'SecretDeleted', version: 3, actor: bob.clientId },
      ]),
    )
  })

  it('answers 404 for the history of a key that exists only in another namespace', async () => {
    await alice.api.post('/organizations/acme', { key: 'acme-only', secret: { v: 1 } })
    await alice.api.post('/secrets', { key: 'standard-only', secret: { v: 1 } })
    expect((await admin.get('/organizations/globex/acme-only/history')).status).toBe(404)
    expect((await admin.get('/secrets/acme-only/history')).status).toBe(404)
    expect((await admin.get('/organizations/acme/standard-only/history')).status).toBe(404)
  })
})
