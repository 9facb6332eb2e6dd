import { expectRefusal } from '../helpers/answers'
import { adminToken, as, clientWith, request, tokenFor, type Reply } from '../helpers/api'
import { backends } from '../helpers/backends'
import { decodePart, encodePart } from '../helpers/forged-tokens'
import { EVERY_ROUTE, expectNothingChanged, NAMESPACES, ORIGINAL, routesOf, seedGuarded } from '../helpers/guarded'
import { basic, form } from '../helpers/token-requests'
import { ADMIN_ID, ADMIN_SECRET, newVaultSetup, startVault, type VaultProcess } from '../helpers/vault-process'

type Api = ReturnType<typeof as>

describe.each(backends())('authentication and grants on the %s store', (backend) => {
  let vault: VaultProcess
  let admin: Api
  let secretsOnly: Awaited<ReturnType<typeof clientWith>>
  let acmeOnly: Awaited<ReturnType<typeof clientWith>>
  let noGrants: Awaited<ReturnType<typeof clientWith>>

  beforeAll(async () => {
    vault = await startVault(await newVaultSetup(backend))
    const token = await adminToken(vault.url)
    admin = as(vault.url, token)
    await seedGuarded(admin)
    secretsOnly = await clientWith(vault.url, token, { secrets: true })
    acmeOnly = await clientWith(vault.url, token, { organizations: ['acme'] })
    noGrants = await clientWith(vault.url, token, {})
  })
  afterAll(() => vault.stop())

  describe('the token endpoint', () => {
    it('issues a bearer token for client credentials sent as a form', async () => {
      const reply = await request(vault.url, 'POST', '/oauth/token', form({
        grant_type: 'client_credentials',
        client_id: secretsOnly.clientId,
        client_secret: secretsOnly.clientSecret,
      }))
      expect(reply.status).toBe(200)
      expect(reply.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: expect.any(Number) })
      expect(reply.body.expires_in).toBeGreaterThan(0)
      expect((await as(vault.url, reply.body.access_token).get('/secrets/guarded')).body.secret).toEqual(ORIGINAL)
    })

    it('issues a bearer token for client credentials sent with HTTP Basic', async () => {
      const reply = await request(vault.url, 'POST', '/oauth/token', {
        raw: 'grant_type=client_credentials',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic(acmeOnly.clientId, acmeOnly.clientSecret),
        },
      })
      expect(reply.status).toBe(200)
      expect(reply.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: expect.any(Number) })
      const api = as(vault.url, reply.body.access_token)
      expect((await api.get('/organizations/acme/guarded')).body.secret).toEqual(ORIGINAL)
      expect((await api.get('/secrets/guarded')).status).toBe(403)
    })

    it('refuses a wrong client secret with 401 and a message, in a form or with HTTP Basic', async () => {
      const wrong = `${secretsOnly.clientSecret}x`
      const inForm = await request(vault.url, 'POST', '/oauth/token', form({
        grant_type: 'client_credentials',
        client_id: secretsOnly.clientId,
        client_secret: wrong,
      }))
      expectRefusal(inForm, 401)
      const withBasic = await request(vault.url, 'POST', '/oauth/token', {
        raw: 'grant_type=client_credentials',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(secretsOnly.clientId, wrong) },
      })
      expectRefusal(withBasic, 401)
      for (const reply of [inForm, withBasic]) {
        expect(reply.body).not.toHaveProperty('access_token')
        expect(reply.text).not.toContain(wrong)
      }
    })

    it('refuses an unknown client with 401 and a message', async () => {
      const reply = await request(vault.url, 'POST', '/oauth/token', form({
        grant_type: 'client_credentials',
        client_id: 'no-such-client',
        client_secret: secretsOnly.clientSecret,
      }))
      expectRefusal(reply, 401)
      expect(reply.body).not.toHaveProperty('access_token')
    })

    it("refuses one client's id with another client's secret with 401", async () => {
      const reply = await request(vault.url, 'POST', '/oauth/token', form({
        grant_type: 'client_credentials',
        client_id: noGrants.clientId,
        client_secret: ADMIN_SECRET,
      }))
      expectRefusal(reply, 401)
    })

    it.each([
      ['the client secret', { grant_type: 'client_credentials', client_id: ADMIN_ID }],
      ['the client id', { grant_type: 'client_credentials', client_secret: ADMIN_SECRET }],
      ['both credentials', { grant_type: 'client_credentials' }],
      ['an empty client secret', { grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: '' }],
    ])('refuses a token request without %s with 401 and a message', async (_missing, fields) => {
      const reply = await request(vault.url, 'POST', '/oauth/token', form(fields))
      expectRefusal(reply, 401)
      expect(reply.body).not.toHaveProperty('access_token')
    })

    it.each(['password', 'authorization_code', 'refresh_token', 'CLIENT_CREDENTIALS'])(
      'refuses the grant type %s with 400 and a message',
      async (grantType) => {
        const reply = await request(vault.url, 'POST', '/oauth/token', form({
          grant_type: grantType,
          client_id: ADMIN_ID,
          client_secret: ADMIN_SECRET,
        }))
        expectRefusal(reply, 400)
        expect(reply.body).not.toHaveProperty('access_token')
      },
    )

    it.each([
      ['JSON', JSON.stringify({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET }), 'application/json'],
      ['plain text', `grant_type=client_credentials&client_id=${ADMIN_ID}&client_secret=${ADMIN_SECRET}`, 'text/plain'],
    ])('refuses a token request sent as %s with 400 and a message', async (_kind, raw, contentType) => {
      const reply = await request(vault.url, 'POST', '/oauth/token', { raw, headers: { 'content-type': contentType } })
      expectRefusal(reply, 400)
      expect(reply.body).not.toHaveProperty('access_token')
    })
  })

  describe('requests without a valid token', () => {
    it.each(EVERY_ROUTE)('refuses $method $path without a token with 401 and changes nothing', async ({ method, path, body }) => {
      expectRefusal(await request(vault.url, method, path, { body }), 401)
      await expectNothingChanged(admin)
    })

    it.each(EVERY_ROUTE)('refuses $method $path with a garbage token with 401 and changes nothing', async ({ method, path, body }) => {
      for (const token of ['not-a-token', 'aaaa.bbbb.cccc', ADMIN_SECRET]) {
        expectRefusal(await request(vault.url, method, path, { token, body }), 401)
      }
      await expectNothingChanged(admin)
    })

    it.each(EVERY_ROUTE)('refuses $method $path with a malformed authorization header with 401', async ({ method, path, body }) => {
      for (const authorization of ['Bearer', 'Bearer ', 'Token abc', basic(ADMIN_ID, ADMIN_SECRET)]) {
        expectRefusal(await request(vault.url, method, path, { body, headers: { authorization } }), 401)
      }
      await expectNothingChanged(admin)
    })

    it.each(EVERY_ROUTE)('refuses $method $path with a token whose claims were altered with 401', async ({ method, path, body }) => {
      const [header, payload, signature] = noGrants.token.split('.')
      const escalated = { ...decodePart(payload), adm: true, sec: true, org: ['acme', 'globex'], sub: ADMIN_ID }
      const tampered = `${header}.${encodePart(escalated)}.${signature}`
      expectRefusal(await request(vault.url, method, path, { token: tampered, body }), 401)
      await expectNothingChanged(admin)
    })

    it.each(EVERY_ROUTE)('refuses $method $path with an unsigned token with 401', async ({ method, path, body }) => {
      const payload = { ...decodePart(noGrants.token.split('.')[1]), adm: true, sec: true }
      const unsigned = `${encodePart({ alg: 'none', typ: 'JWT' })}.${encodePart(payload)}.`
      expectRefusal(await request(vault.url, method, path, { token: unsigned, body }), 401)
      await expectNothingChanged(admin)
    })
  })

  describe('grants', () => {
    it('lets a client with the secrets grant use every standard secret route', async () => {
      const api = as(vault.url, secretsOnly.token)
      expect((await api.post('/secrets', { key: 'own-standard', secret: { v: 1 } })).status).toBe(200)
      expect((await api.get('/secrets/own-standard')).body.secret).toEqual({ v: 1 })
      expect((await api.post('/secrets/own-standard', { secret: { v: 2 } })).status).toBe(200)
      expect((await api.get('/secrets/own-standard/history')).body.events).toHaveLength(2)
      expect((await api.delete('/secrets/own-standard')).status).toBe(204)
    })

    it.each([...routesOf('/organizations/acme'), ...routesOf('/organizations/globex')])(
      'refuses $method $path to a client with only the secrets grant with 403 and changes nothing',
      async ({ method, path, body }) => {
        expectRefusal(await as(vault.url, secretsOnly.token).send(method, path, { body }), 403)
        await expectNothingChanged(admin)
      },
    )

    it('lets a client listed for an organization use every route of that organization', async () => {
      const api = as(vault.url, acmeOnly.token)
      expect((await api.post('/organizations/acme', { key: 'own-org', secret: { v: 1 } })).status).toBe(200)
      expect((await api.get('/organizations/acme/own-org')).body.secret).toEqual({ v: 1 })
      expect((await api.post('/organizations/acme/own-org', { secret: { v: 2 } })).status).toBe(200)
      expect((await api.get('/organizations/acme/own-org/history')).body.events).toHaveLength(2)
      expect((await api.delete('/organizations/acme/own-org')).status).toBe(204)
    })

    it.each([...routesOf('/secrets'), ...routesOf('/organizations/globex'), ...routesOf('/organizations/acme-corp')])(
      'refuses $method $path to a client listed only for acme with 403 and changes nothing',
      async ({ method, path, body }) => {
        expectRefusal(await as(vault.url, acmeOnly.token).send(method, path, { body }), 403)
        await expectNothingChanged(admin)
      },
    )

    it.each(NAMESPACES.flatMap(routesOf))(
      'refuses $method $path to a client with no grants with 403 and changes nothing',
      async ({ method, path, body }) => {
        expectRefusal(await as(vault.url, noGrants.token).send(method, path, { body }), 403)
        await expectNothingChanged(admin)
      },
    )

    it('refuses to register a client for a client that is not an admin, whatever its grants', async () => {
      for (const client of [secretsOnly, acmeOnly, noGrants]) {
        const reply = await as(vault.url, client.token).post('/clients', { name: 'escalation', admin: true, secrets: true })
        expectRefusal(reply, 403)
        expect(reply.text).not.toContain('clientSecret')
      }
    })

    it('lets an admin use every route of every namespace and register clients', async () => {
      for (const base of ['/secrets', '/organizations/acme', '/organizations/never-listed-anywhere']) {
        expect((await admin.post(base, { key: 'admin-owned', secret: { v: 1 } })).status).toBe(200)
        expect((await admin.get(`${base}/admin-owned`)).body.secret).toEqual({ v: 1 })
        expect((await admin.post(`${base}/admin-owned`, { secret: { v: 2 } })).status).toBe(200)
        expect((await admin.get(`${base}/admin-owned/history`)).body.events).toHaveLength(2)
        expect((await admin.delete(`${base}/admin-owned`)).status).toBe(204)
      }
      const registered = await admin.post('/clients', { name: 'second admin', admin: true })
      expect(registered.status).toBe(201)
      const second = as(vault.url, await tokenFor(vault.url, registered.body.clientId, registered.body.clientSecret))
      expect((await second.get('/organizations/globex/guarded')).body.secret).toEqual(ORIGINAL)
      expect((await second.get('/secrets/guarded')).body.secret).toEqual(ORIGINAL)
      expect((await second.post('/clients', { name: 'third' })).status).toBe(201)
    })
  })

  describe('client registration', () => {
    it('answers a new client with its id, its secret, its name and its grants', async () => {
      const reply = await admin.post('/clients', { name: 'billing service', organizations: ['acme', 'globex'], secrets: true, admin: false })
      expect(reply.status).toBe(201)
      expect(reply.body).toEqual({
        clientId: expect.any(String),
        clientSecret: expect.any(String),
        name: 'billing service',
        organizations: ['acme', 'globex'],
        secrets: true,
        admin: false,
      })
      expect(reply.body.clientSecret.length).toBeGreaterThanOrEqual(16)
      const other = await admin.post('/clients', { name: 'billing service' })
      expect(other.body.clientId).not.toBe(reply.body.clientId)
      expect(other.body.clientSecret).not.toBe(reply.body.clientSecret)
    })

    it('shows a client secret in the answer that registered it and nowhere else', async () => {
      const registered = await admin.post('/clients', { name: 'shown once', secrets: true, organizations: ['acme'] })
      expect(registered.status).toBe(201)
      const { clientId, clientSecret } = registered.body as { clientId: string; clientSecret: string }
      expect(clientSecret).toEqual(expect.any(String))

      const token = await request(vault.url, 'POST', '/oauth/token', form({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
      }))
      const [header, payload] = (token.body.access_token as string).split('.')
      const api = as(vault.url, token.body.access_token)
      const replies: Reply[] = [
        token,
        await api.post('/secrets', { key: 'shown-once', secret: { v: 1 }, description: 'by the new client' }),
        await api.get('/secrets/shown-once'),
        await api.post('/secrets/shown-once', { secret: { v: 2 } }),
        await api.get('/secrets/shown-once/history'),
        await admin.get('/secrets/shown-once/history'),
        await api.get('/organizations/globex/guarded'),
        await api.post('/clients', { name: 'not allowed' }),
        await admin.post('/clients', { name: 'someone else' }),
        await api.delete('/secrets/shown-once'),
      ]
      expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 200, 200, 200, 403, 403, 201, 204])
      for (const reply of replies) {
        expect(reply.text).not.toContain(clientSecret)
        for (const [name, value] of reply.headers) expect(`${name}: ${value}`).not.toContain(clientSecret)
      }
      expect(JSON.stringify([decodePart(header), decodePart(payload)])).not.toContain(clientSecret)
      expect(replies[4].body.events.map((event: { actor: string }) => event.actor)).toEqual([clientId, clientId])
    })

    it.each([
      ['a missing name', { organizations: ['acme'] }],
      ['an empty name', { name: '' }],
      ['a name that is not a string', { name: 42 }],
      ['organizations that are not an array', { name: 'x', organizations: 'acme' }],
      ['an organization id that breaks the id rule', { name: 'x', organizations: ['acme', 'not valid!'] }],
      ['an organization id that is not a string', { name: 'x', organizations: [42] }],
      ['an unknown field', { name: 'x', role: 'admin' }],
      ['admin that is not a boolean', { name: 'x', admin: 'true' }],
      ['secrets that is not a boolean', { name: 'x', secrets: 1 }],
      ['a body that is an array', [{ name: 'x' }]],
    ])('refuses to register a client with %s with 400 and a message', async (_problem, body) => {
      const reply = await admin.post('/clients', body)
      expectRefusal(reply, 400)
      expect(reply.text).not.toContain('clientSecret')
    })

    it('refuses to register a client from malformed JSON or another content type with 400', async () => {
      expectRefusal(await admin.send('POST', '/clients', { raw: '{"name":', headers: { 'content-type': 'application/json' } }), 400)
      expectRefusal(await admin.send('POST', '/clients', { raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 400)
    })
  })

  it('answers /health with 200 and status ok without a token', async () => {
    const health = await request(vault.url, 'GET', '/health')
    expect(health.status).toBe(200)
    expect(health.body).toEqual({ status: 'ok' })
    expect((await request(vault.url, 'GET', '/health', { token: 'not-a-token' })).status).toBe(200)
  })
})

describe('tokens from another vault or past their lifetime', () => {
  const TTL_SECONDS = 2
  let vault: VaultProcess
  let otherVault: VaultProcess
  const freshAdmin = async (): Promise<Api> => as(vault.url, await adminToken(vault.url))

  beforeAll(async () => {
    // Two vaults with the same bootstrap admin but each its own master key.
    ;[vault, otherVault] = await Promise.all([
      newVaultSetup('embedded', { VAULT_TOKEN_TTL_SECONDS: String(TTL_SECONDS) }).then(startVault),
      newVaultSetup('embedded').then(startVault),
    ])
    await seedGuarded(await freshAdmin())
  })
  afterAll(() => Promise.all([vault.stop(), otherVault.stop()]))

  it('answers expires_in with the configured token lifetime', async () => {
    const reply = await request(vault.url, 'POST', '/oauth/token', form({
      grant_type: 'client_credentials',
      client_id: ADMIN_ID,
      client_secret: ADMIN_SECRET,
    }))
    expect(reply.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: TTL_SECONDS })
  })

  describe('a token signed by another vault', () => {
    let foreign: string

    beforeAll(async () => {
      foreign = await adminToken(otherVault.url)
    })

    it('is a valid admin token where it was issued', async () => {
      expect((await request(otherVault.url, 'GET', '/secrets/absent', { token: foreign })).status).toBe(404)
    })

    it.each(EVERY_ROUTE)('is refused on $method $path with 401 and changes nothing', async ({ method, path, body }) => {
      expectRefusal(await request(vault.url, method, path, { token: foreign, body }), 401)
      await expectNothingChanged(freshAdmin)
    })
  })

  describe('an expired token', () => {
    let expired: string
    let whileFresh: number

    beforeAll(async () => {
      expired = await adminToken(vault.url)
      whileFresh = (await request(vault.url, 'GET', '/secrets/guarded', { token: expired })).status
      await new Promise((resolve) => setTimeout(resolve, (TTL_SECONDS + 1.2) * 1000))
    })

    it('was accepted while it was fresh', () => {
      expect(whileFresh).toBe(200)
    })

    it.each(EVERY_ROUTE)('is refused on $method $path with 401 and changes nothing', async ({ method, path, body }) => {
      expectRefusal(await request(vault.url, method, path, { token: expired, body }), 401)
      await expectNothingChanged(freshAdmin)
    })
  })
})
