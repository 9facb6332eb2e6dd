import { adminToken, as } from '../helpers/api'
import { backends } from '../helpers/backends'
import { newVaultSetup, startVault, type VaultProcess } from '../helpers/vault-process'

const ARN = /^arn:aws:secretsmanager:us-east-1:000000000000:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/

describe.each(backends())('standard secrets on the %s store', (backend) => {
  let vault: VaultProcess
  let api: ReturnType<typeof as>

  beforeAll(async () => {
    vault = await startVault(await newVaultSetup(backend))
    api = as(vault.url, await adminToken(vault.url))
  })
  afterAll(() => vault.stop())

  it('creates a secret and answers its metadata without the value', async () => {
    const created = await api.post('/secrets', {
      key: 'billing-db',
      secret: { user: 'me@mycompany.com', pwd: 'a-password' },
      description: 'Credentials for my service.',
    })
    expect(created.status).toBe(200)
    expect(created.body).toEqual({
      id: 'billing-db',
      description: 'Credentials for my service.',
      ern: 'ern:vault:dev:billing-db',
      arn: expect.stringMatching(ARN),
    })
    expect(created.text).not.toContain('a-password')
  })

  it('reads the secret back with camelCase attribute names', async () => {
    await api.post('/secrets', { key: 'camel', secret: { User_Name: 'u', 'pass-word': 'p', PWD: 'x', clientID: 'c' } })
    const read = await api.get('/secrets/camel')
    expect(read.status).toBe(200)
    expect(read.body).toEqual({
      id: 'camel',
      ern: 'ern:vault:dev:camel',
      arn: expect.stringMatching(ARN),
      secret: { userName: 'u', passWord: 'p', pwd: 'x', clientId: 'c' },
    })
    expect(read.headers.get('cache-control')).toBe('no-store')
  })

  it('refuses a duplicate key with 400 and keeps the first value', async () => {
    await api.post('/secrets', { key: 'dup', secret: { v: 'first' } })
    const again = await api.post('/secrets', { key: 'dup', secret: { v: 'second' } })
    expect(again.status).toBe(400)
    expect(again.body.message).toEqual(expect.any(String))
    expect((await api.get('/secrets/dup')).body.secret).toEqual({ v: 'first' })
  })

  it('answers 404 for a key that does not exist', async () => {
    const read = await api.get('/secrets/never-created')
    expect(read.status).toBe(404)
    expect(read.body.message).toEqual(expect.any(String))
  })

  it('updates the value and the description, keeping the ARN', async () => {
    const created = await api.post('/secrets', { key: 'rotating', secret: { pwd: 'one' }, description: 'v1' })
    const updated = await api.post('/secrets/rotating', { secret: { pwd: 'two' }, description: 'v2' })
    expect(updated.status).toBe(200)
    expect(updated.body).toEqual({ ...created.body, description: 'v2' })
    expect((await api.get('/secrets/rotating')).body.secret).toEqual({ pwd: 'two' })
  })

  it('keeps the description when an update does not name one', async () => {
    await api.post('/secrets', { key: 'keeps-description', secret: { a: 1 }, description: 'stays' })
    const updated = await api.post('/secrets/keeps-description', { secret: { a: 2 } })
    expect(updated.body.description).toBe('stays')
  })

  it('refuses an update of the description alone with 400 and changes nothing', async () => {
    await api.post('/secrets', { key: 'desc-only', secret: { a: 1 }, description: 'before' })
    const refused = await api.post('/secrets/desc-only', { description: 'after' })
    expect(refused.status).toBe(400)
    const history = await api.get('/secrets/desc-only/history')
    expect(history.body.events.map((e: { type: string }) => e.type)).toEqual(['SecretCreated'])
  })

  it('answers 404 to an update of a key that does not exist', async () => {
    expect((await api.post('/secrets/no-such-key', { secret: { a: 1 } })).status).toBe(404)
  })

  it('deletes with 204, then 205 when there is nothing left to delete', async () => {
    await api.post('/secrets', { key: 'to-delete', secret: { a: 1 } })
    const first = await api.delete('/secrets/to-delete')
    expect(first.status).toBe(204)
    expect(first.text).toBe('')
    expect((await api.get('/secrets/to-delete')).status).toBe(404)
    expect((await api.delete('/secrets/to-delete')).status).toBe(205)
    expect((await api.delete('/secrets/never-existed')).status).toBe(205)
  })

  it('re-creates a deleted key as a new secret with a new ARN and none of the old values', async () => {
    const first = await api.post('/secrets', { key: 'phoenix', secret: { old: 'value' } })
    await api.delete('/secrets/phoenix')
    const second = await api.post('/secrets', { key: 'phoenix', secret: { fresh: 'value' } })
    expect(second.status).toBe(200)
    expect(second.body.arn).not.toBe(first.body.arn)
    expect((await api.get('/secrets/phoenix')).body.secret).toEqual({ fresh: 'value' })
  })

  it('accepts every allowed key character and the full key length', async () => {
    for (const key of ['a', 'A1_+=.@-z', `k${'x'.repeat(255)}`]) {
      expect((await api.post('/secrets', { key, secret: { a: 1 } })).status).toBe(200)
      expect((await api.get(`/secrets/${encodeURIComponent(key)}`)).body.id).toBe(key)
    }
  })
})
