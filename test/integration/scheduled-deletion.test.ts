import { DATA_KEYS } from '../../store/resolve/tables'
import { recordPending } from '../../store/pending-operations.repository'
import { as, clientWith, tokenFor } from '../helpers/api'
import { startInProcessVault, type InProcessVault } from '../helpers/in-process-vault'

// Scheduled deletion over HTTP, on the vault built in process against the test PostgreSQL
// server, its clock in the test's hands: deadlines pass by moving the clock, never by waiting.
const withServer = process.env.TEST_DATABASE_URL ? describe : describe.skip

const DAY = 86_400_000
const VALUE = 'scheduled-pass-5e1d'

type Client = ReturnType<typeof as>

withServer('scheduled deletion, over HTTP, with the clock in hand', () => {
  let vault: InProcessVault
  let admin: Client
  let adminToken: string
  let now = Date.UTC(2027, 0, 1)
  const clock = () => now
  beforeAll(async () => {
    vault = await startInProcessVault({}, { now: clock })
    adminToken = await tokenFor(vault.url, vault.admin.clientId, vault.admin.clientSecret)
    admin = as(vault.url, adminToken)
  })
  afterAll(async () => {
    await vault?.stop()
  })

  const typesOf = async (path: string) => ((await admin.get(`${path}/history`)).body.events as Array<{ type: string; actor: string }>)
  const dataKeyOf = async (key: string) =>
    (
      await vault.core.pool.query<{ secret: string | null }>(
        `SELECT k.${DATA_KEYS.wrapped} AS secret FROM vault.incarnations i JOIN ${DATA_KEYS.table} k ON k.${DATA_KEYS.id} = i.aggregate_id
         WHERE i.key = $1 ORDER BY i.seq DESC LIMIT 1`,
        [key],
      )
    ).rows[0]?.secret

  it('schedules a delete 30 days ahead by default: the secret then reads as gone, takes no change, and is not listed', async () => {
    await admin.post('/secrets', { key: 'sched', secret: { pwd: VALUE } })
    const scheduled = await admin.post('/secrets/sched/schedule-deletion', {})
    expect(scheduled.status).toBe(200)
    expect(scheduled.body).toEqual({ id: 'sched', ern: 'ern:vault:dev:sched', arn: expect.any(String), deletionDate: new Date(now + 30 * DAY).toISOString() })
    expect((await admin.get('/secrets/sched')).status).toBe(404)
    expect((await admin.post('/secrets/sched', { secret: { pwd: 'other' } })).status).toBe(404)
    expect((await admin.send('PUT', '/secrets/sched/tags', { body: { tags: [{ key: 'a', value: 'b' }] } })).status).toBe(404)
    expect((await admin.post('/secrets/sched/schedule-deletion', {})).status).toBe(404)
    expect((await admin.post('/secrets', { key: 'sched', secret: { pwd: 'other' } })).status).toBe(400)
    expect((await admin.get('/secrets?prefix=sched')).body.secrets).toEqual([])
    expect((await typesOf('/secrets/sched')).map((event) => event.type)).toEqual(['SecretCreated', 'SecretDeletionScheduled'])
  })

  it('restores a scheduled secret before its date: the same value reads again; restoring twice is 400', async () => {
    const restored = await admin.post('/secrets/sched/restore', {})
    expect(restored.status).toBe(200)
    expect(restored.body).toMatchObject({ id: 'sched', ern: 'ern:vault:dev:sched' })
    expect((await admin.get('/secrets/sched')).body.secret).toEqual({ pwd: VALUE })
    expect((await admin.post('/secrets/sched/restore', {})).status).toBe(400)
    const history = await typesOf('/secrets/sched')
    expect(history.map((event) => event.type)).toEqual(['SecretCreated', 'SecretDeletionScheduled', 'SecretDeletionCancelled'])
    expect(JSON.stringify(history)).not.toContain(VALUE)
  })

  it.each([
    ['6 days', { recoveryWindowInDays: 6 }],
    ['31 days', { recoveryWindowInDays: 31 }],
    ['a fraction of a day', { recoveryWindowInDays: 7.5 }],
    ['days as text', { recoveryWindowInDays: '7' }],
    ['an unknown field', { days: 7 }],
  ])('refuses a recovery window of %s with 400 and changes nothing', async (_label, body) => {
    const reply = await admin.post('/secrets/sched/schedule-deletion', body)
    expect(reply.status).toBe(400)
    expect(reply.body).toEqual({ message: expect.any(String) })
    expect((await admin.get('/secrets/sched')).body.secret).toEqual({ pwd: VALUE })
  })

  it('deletes and shreds at the date, not a millisecond before, exactly as an immediate delete', async () => {
    await admin.post('/secrets', { key: 'due', secret: { pwd: VALUE } })
    await admin.post('/secrets/due/schedule-deletion', { recoveryWindowInDays: 7 })
    now += 7 * DAY - 1
    expect(await vault.core.deletion.sweep()).toBe(0)
    expect((await admin.post('/secrets/due/restore', {})).status).toBe(200)
    await admin.post('/secrets/due/schedule-deletion', { recoveryWindowInDays: 7 })
    now += 7 * DAY
    expect(await vault.core.deletion.sweep()).toBe(1)
    expect((await admin.get('/secrets/due')).status).toBe(404)
    expect((await admin.post('/secrets/due/restore', {})).status).toBe(404)
    expect(await dataKeyOf('due')).toBeNull()
    const history = await typesOf('/secrets/due')
    expect(history.map((event) => event.type)).toEqual([
      'SecretCreated',
      'SecretDeletionScheduled',
      'SecretDeletionCancelled',
      'SecretDeletionScheduled',
      'SecretDeleted',
    ])
    expect(history[4].actor).toBe('event-vault:scheduled-deletion')
    // The key can be created again: a new incarnation with a new data key.
    expect((await admin.post('/secrets', { key: 'due', secret: { pwd: 'reborn' } })).status).toBe(200)
  })

  it('deletes each due secret once when sweeps run at the same time', async () => {
    const keys = Array.from({ length: 6 }, (_, i) => `race-${i}`)
    for (const key of keys) {
      await admin.post('/secrets', { key, secret: { pwd: VALUE } })
      await admin.post(`/secrets/${key}/schedule-deletion`, { recoveryWindowInDays: 7 })
    }
    now += 8 * DAY
    const swept = await Promise.all([vault.core.deletion.sweep(), vault.core.deletion.sweep(), vault.core.deletion.sweep()])
    expect(swept.reduce((a, b) => a + b, 0)).toBe(keys.length)
    for (const key of keys) {
      expect((await typesOf(`/secrets/${key}`)).filter((event) => event.type === 'SecretDeleted')).toHaveLength(1)
    }
  })

  it('keeps the grants: a client without the namespace grant is 403 on schedule and restore', async () => {
    const acme = as(vault.url, (await clientWith(vault.url, adminToken, { organizations: ['acme'] })).token)
    expect((await acme.post('/secrets/sched/schedule-deletion', {})).status).toBe(403)
    expect((await acme.post('/secrets/sched/restore', {})).status).toBe(403)
    expect((await admin.get('/secrets/sched')).status).toBe(200)
  })

  it('survives restarts and a crash between the sweep steps: the next start finishes the delete it left', async () => {
    await admin.post('/secrets', { key: 'restart', secret: { pwd: VALUE } })
    await admin.post('/secrets', { key: 'cut-short', secret: { pwd: VALUE } })
    for (const key of ['restart', 'cut-short']) await admin.post(`/secrets/${key}/schedule-deletion`, { recoveryWindowInDays: 7 })
    now += 8 * DAY
    // What a sweep that died after recording its intent leaves behind.
    const row = await vault.core.pool.query<{ aggregate_id: string }>("SELECT aggregate_id FROM vault.secrets WHERE organization_id = '' AND key = 'cut-short'")
    await recordPending(vault.core.pool, { organizationId: null, key: 'cut-short', aggregateId: row.rows[0].aggregate_id, operation: 'delete', actor: 'event-vault:scheduled-deletion' })
    await vault.stop()
    vault = await startInProcessVault({}, { now: clock, store: vault.store })
    admin = as(vault.url, await tokenFor(vault.url, vault.admin.clientId, vault.admin.clientSecret))
    expect(vault.core.recovered).toBe(1)
    expect(await dataKeyOf('cut-short')).toBeNull()
    expect((await admin.get('/secrets/cut-short')).status).toBe(404)
    // The deadline was kept in the store: the restarted vault's sweep deletes the other.
    expect((await admin.get('/secrets/restart')).status).toBe(404)
    expect(await vault.core.deletion.sweep()).toBe(1)
    expect(await dataKeyOf('restart')).toBeNull()
    expect((await typesOf('/secrets/restart')).map((event) => event.type).slice(-1)).toEqual(['SecretDeleted'])
  })
})
