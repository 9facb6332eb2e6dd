import { adminToken, as } from '../helpers/api'
import { backends } from '../helpers/backends'
import { newVaultSetup, startVault, type VaultProcess } from '../helpers/vault-process'

/** The AWS Secrets Manager ARN of an organization secret: its name part is `{org}/{key}`. */
const arnOf = (organizationId: string, key: string): RegExp =>
  new RegExp(`^arn:aws:secretsmanager:us-east-1:000000000000:secret:${escape(`${organizationId}/${key}`)}-[A-Za-z0-9]{6}$`)

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

describe.each(backends())('organization secrets on the %s store', (backend) => {
  let vault: VaultProcess
  let api: ReturnType<typeof as>

  beforeAll(async () => {
    vault = await startVault(await newVaultSetup(backend))
    api = as(vault.url, await adminToken(vault.url))
  })
  afterAll(() => vault.stop())

  it('creates an organization secret and answers its metadata with the organization id, without the value', async () => {
    const created = await api.post('/organizations/acme', {
      key: 'billing-db',
      secret: { user: 'me@mycompany.com', pwd: 'org-created-password' },
      description: 'Credentials for my service.',
    })
    expect(created.status).toBe(200)
    expect(created.body).toEqual({
      id: 'billing-db',
      description: 'Credentials for my service.',
      organizationId: 'acme',
      ern: 'ern:vault:dev:acme:billing-db',
      arn: expect.stringMatching(arnOf('acme', 'billing-db')),
    })
    expect(created.text).not.toContain('org-created-password')
  })

  it('reads an organization secret back with its organization id and camelCase attribute names', async () => {
    const created = await api.post('/organizations/acme', { key: 'read-back', secret: { User_Name: 'u', 'pass-word': 'p' } })
    const read = await api.get('/organizations/acme/read-back')
    expect(read.status).toBe(200)
    expect(read.body).toEqual({
      id: 'read-back',
      organizationId: 'acme',
      ern: 'ern:vault:dev:acme:read-back',
      arn: created.body.arn,
      secret: { userName: 'u', passWord: 'p' },
    })
  })

  it('updates the value and the description of an organization secret, keeping its ARN', async () => {
    const created = await api.post('/organizations/acme', { key: 'rotating', secret: { pwd: 'one' }, description: 'v1' })
    const updated = await api.post('/organizations/acme/rotating', { secret: { pwd: 'rotated-password-two' }, description: 'v2' })
    expect(updated.status).toBe(200)
    expect(updated.body).toEqual({ ...created.body, description: 'v2' })
    expect(updated.body.organizationId).toBe('acme')
    expect(updated.text).not.toContain('rotated-password-two')
    expect((await api.get('/organizations/acme/rotating')).body.secret).toEqual({ pwd: 'rotated-password-two' })
  })

  it('refuses an update of an organization secret without a new secret with 400', async () => {
    await api.post('/organizations/acme', { key: 'no-secret-update', secret: { a: 1 }, description: 'before' })
    const refused = await api.post('/organizations/acme/no-secret-update', { description: 'after' })
    expect(refused.status).toBe(400)
    expect(refused.body.message).toEqual(expect.any(String))
    expect((await api.get('/organizations/acme/no-secret-update')).body.secret).toEqual({ a: 1 })
  })

  it('deletes an organization secret with 204, then 205 when there is nothing left to delete', async () => {
    await api.post('/organizations/acme', { key: 'to-delete', secret: { a: 1 } })
    const first = await api.delete('/organizations/acme/to-delete')
    expect(first.status).toBe(204)
    expect(first.text).toBe('')
    expect((await api.get('/organizations/acme/to-delete')).status).toBe(404)
    expect((await api.delete('/organizations/acme/to-delete')).status).toBe(205)
    expect((await api.delete('/organizations/acme/never-existed')).status).toBe(205)
    expect((await api.delete('/organizations/no-such-org/never-existed')).status).toBe(205)
  })

  it('re-creates a deleted organization key as a new secret with a new ARN and none of the old values', async () => {
    const first = await api.post('/organizations/acme', { key: 'phoenix', secret: { old: 'value' } })
    expect((await api.delete('/organizations/acme/phoenix')).status).toBe(204)
    const second = await api.post('/organizations/acme', { key: 'phoenix', secret: { fresh: 'value' } })
    expect(second.status).toBe(200)
    expect(second.body.arn).toMatch(arnOf('acme', 'phoenix'))
    expect(second.body.arn).not.toBe(first.body.arn)
    const read = await api.get('/organizations/acme/phoenix')
    expect(read.body.arn).toBe(second.body.arn)
    expect(read.body.secret).toEqual({ fresh: 'value' })
  })

  it('refuses a duplicate key within one organization with 400 and keeps the first value', async () => {
    await api.post('/organizations/acme', { key: 'dup', secret: { v: 'first' } })
    const again = await api.post('/organizations/acme', { key: 'dup', secret: { v: 'second' } })
    expect(again.status).toBe(400)
    expect(again.body.message).toEqual(expect.any(String))
    expect((await api.get('/organizations/acme/dup')).body.secret).toEqual({ v: 'first' })
  })

  it('keeps the same key in two organizations and as a standard secret as three different secrets', async () => {
    const inAcme = await api.post('/organizations/acme', { key: 'shared', secret: { owner: 'acme' }, description: 'acme' })
    const inGlobex = await api.post('/organizations/globex', { key: 'shared', secret: { owner: 'globex' }, description: 'globex' })
    const standard = await api.post('/secrets', { key: 'shared', secret: { owner: 'standard' }, description: 'standard' })
    expect([inAcme.status, inGlobex.status, standard.status]).toEqual([200, 200, 200])
    expect(inAcme.body.ern).toBe('ern:vault:dev:acme:shared')
    expect(inGlobex.body.ern).toBe('ern:vault:dev:globex:shared')
    expect(standard.body.ern).toBe('ern:vault:dev:shared')
    expect(standard.body).not.toHaveProperty('organizationId')
    expect(new Set([inAcme.body.arn, inGlobex.body.arn, standard.body.arn]).size).toBe(3)

    expect((await api.get('/organizations/acme/shared')).body.secret).toEqual({ owner: 'acme' })
    expect((await api.get('/organizations/globex/shared')).body.secret).toEqual({ owner: 'globex' })
    expect((await api.get('/secrets/shared')).body.secret).toEqual({ owner: 'standard' })
  })

  it('changes only the addressed secret when the same key lives in several namespaces', async () => {
    await api.post('/organizations/acme', { key: 'apart', secret: { v: 'acme-1' } })
    await api.post('/organizations/globex', { key: 'apart', secret: { v: 'globex-1' } })
    await api.post('/secrets', { key: 'apart', secret: { v: 'standard-1' } })

    expect((await api.post('/organizations/acme/apart', { secret: { v: 'acme-2' } })).status).toBe(200)
    expect((await api.delete('/organizations/globex/apart')).status).toBe(204)

    expect((await api.get('/organizations/acme/apart')).body.secret).toEqual({ v: 'acme-2' })
    expect((await api.get('/organizations/globex/apart')).status).toBe(404)
    expect((await api.get('/secrets/apart')).body.secret).toEqual({ v: 'standard-1' })
  })

  it('answers 404 for an organization that has no secrets', async () => {
    const read = await api.get('/organizations/nobody-here/billing-db')
    expect(read.status).toBe(404)
    expect(read.body.message).toEqual(expect.any(String))
  })

  it('answers 404 for a key that does not exist in a known organization', async () => {
    await api.post('/organizations/known-org', { key: 'present', secret: { a: 1 } })
    const read = await api.get('/organizations/known-org/absent')
    expect(read.status).toBe(404)
    expect(read.body.message).toEqual(expect.any(String))
  })

  it('answers 404 for a key that exists only in another organization or only as a standard secret', async () => {
    await api.post('/organizations/acme', { key: 'only-in-acme', secret: { a: 1 } })
    await api.post('/secrets', { key: 'only-standard', secret: { a: 1 } })
    expect((await api.get('/organizations/globex/only-in-acme')).status).toBe(404)
    expect((await api.get('/organizations/acme/only-standard')).status).toBe(404)
    expect((await api.get('/secrets/only-in-acme')).status).toBe(404)
  })

  it('answers 404 to an update in an unknown organization or of an unknown key', async () => {
    const unknownOrg = await api.post('/organizations/nobody-here/some-key', { secret: { a: 1 } })
    expect(unknownOrg.status).toBe(404)
    expect(unknownOrg.body.message).toEqual(expect.any(String))
    expect((await api.post('/organizations/acme/no-such-key', { secret: { a: 1 } })).status).toBe(404)
    expect((await api.get('/organizations/nobody-here/some-key')).status).toBe(404)
  })

  it('refuses a body organizationId that differs from the path with 400 and creates nothing', async () => {
    const refused = await api.post('/organizations/acme', { key: 'mismatch', organizationId: 'globex', secret: { a: 1 } })
    expect(refused.status).toBe(400)
    expect(refused.body.message).toEqual(expect.any(String))
    expect((await api.get('/organizations/acme/mismatch')).status).toBe(404)
    expect((await api.get('/organizations/globex/mismatch')).status).toBe(404)
  })

  it('accepts a body organizationId that matches the path', async () => {
    const created = await api.post('/organizations/acme', { key: 'matching', organizationId: 'acme', secret: { a: 1 } })
    expect(created.status).toBe(200)
    expect(created.body.organizationId).toBe('acme')
    expect((await api.get('/organizations/acme/matching')).body.secret).toEqual({ a: 1 })
  })

  it('refuses an organization id that breaks the id rule with 400', async () => {
    for (const organizationId of ['-acme', 'ac%20me', 'ac%24me', `o${'x'.repeat(256)}`]) {
      const created = await api.post(`/organizations/${organizationId}`, { key: 'k', secret: { a: 1 } })
      expect(created.status).toBe(400)
      expect(created.body.message).toEqual(expect.any(String))
      expect((await api.get(`/organizations/${organizationId}/k`)).status).toBe(400)
    }
  })

  it('accepts every allowed organization id character and the full id length', async () => {
    for (const organizationId of ['a', 'A1_+=.@-z', `o${'x'.repeat(255)}`]) {
      const created = await api.post(`/organizations/${encodeURIComponent(organizationId)}`, { key: 'k', secret: { a: 1 } })
      expect(created.status).toBe(200)
      expect(created.body.ern).toBe(`ern:vault:dev:${organizationId}:k`)
      expect(created.body.arn).toMatch(arnOf(organizationId, 'k'))
      const read = await api.get(`/organizations/${encodeURIComponent(organizationId)}/k`)
      expect(read.body.organizationId).toBe(organizationId)
    }
  })
})

describe('organization secrets in the staging environment', () => {
  let vault: VaultProcess
  let api: ReturnType<typeof as>

  beforeAll(async () => {
    vault = await startVault(await newVaultSetup('embedded', { VAULT_ENV: 'stg' }))
    api = as(vault.url, await adminToken(vault.url))
  })
  afterAll(() => vault.stop())

  it('puts the stg environment into the ERNs of organization and standard secrets', async () => {
    const created = await api.post('/organizations/acme', { key: 'staged', secret: { a: 1 } })
    expect(created.status).toBe(200)
    expect(created.body.ern).toBe('ern:vault:stg:acme:staged')
    expect((await api.get('/organizations/acme/staged')).body.ern).toBe('ern:vault:stg:acme:staged')
    expect((await api.post('/organizations/acme/staged', { secret: { a: 2 } })).body.ern).toBe('ern:vault:stg:acme:staged')

    const standard = await api.post('/secrets', { key: 'staged', secret: { a: 1 } })
    expect(standard.body.ern).toBe('ern:vault:stg:staged')
    expect((await api.get('/secrets/staged')).body.ern).toBe('ern:vault:stg:staged')
  })
})
