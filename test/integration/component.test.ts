import { as, clientWith, request, tokenFor } from '../helpers/api'
import { startInProcessVault, type InProcessVault } from '../helpers/in-process-vault'
import { invoke, invokeFailure, lambdaFor } from '../helpers/lambda'

// The app built with compose.ts in this process, driven over HTTP against the test PostgreSQL
// server: every door over the one set of operations. Without a server these are skipped, loudly.
const withServer = process.env.TEST_DATABASE_URL ? describe : describe.skip

const PASSWORD = 'component-pass-7f3a'

withServer('the vault built in process (compose.ts + createApp), over HTTP', () => {
  let vault: InProcessVault
  let admin: ReturnType<typeof as>
  let adminToken: string
  beforeAll(async () => {
    vault = await startInProcessVault()
    adminToken = await tokenFor(vault.url, vault.admin.clientId, vault.admin.clientSecret)
    admin = as(vault.url, adminToken)
  })
  afterAll(async () => {
    await vault?.stop()
  })

  describe('given a client with the standard grant', () => {
    let client: ReturnType<typeof as>
    beforeAll(async () => {
      client = as(vault.url, (await clientWith(vault.url, adminToken, { secrets: true })).token)
    })

    it('when it creates, reads, updates and deletes a secret, then each answers as the guide says', async () => {
      const created = await client.post('/secrets', { key: 'svc', secret: { pass_word: PASSWORD }, description: 'first' })
      expect(created.status).toBe(200)
      expect(created.body).toEqual({ id: 'svc', description: 'first', ern: 'ern:vault:dev:svc', arn: expect.stringMatching(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:svc-/) })
      expect((await client.get('/secrets/svc')).body).toEqual({ id: 'svc', ern: 'ern:vault:dev:svc', arn: created.body.arn, secret: { passWord: PASSWORD } })
      expect((await client.post('/secrets/svc', { secret: { passWord: `${PASSWORD}-2` } })).status).toBe(200)
      expect((await client.get('/secrets/svc')).body.secret).toEqual({ passWord: `${PASSWORD}-2` })
      expect((await client.delete('/secrets/svc')).status).toBe(204)
      expect((await client.delete('/secrets/svc')).status).toBe(205)
      expect((await client.get('/secrets/svc')).status).toBe(404)
    })

    it('when it asks for the history, then it sees every event with its actor, and no value', async () => {
      await client.post('/secrets', { key: 'audited', secret: { v: PASSWORD } })
      await client.post('/secrets/audited', { secret: { v: 'second' } })
      const history = await client.get('/secrets/audited/history')
      expect(history.status).toBe(200)
      expect(history.body.events.map((event: { type: string }) => event.type)).toEqual(['SecretCreated', 'SecretUpdated'])
      expect(history.text).not.toContain(PASSWORD)
    })

    it('when it touches an organization, then it is refused 403 and nothing is stored', async () => {
      expect((await client.post('/organizations/acme', { key: 'k', secret: { a: 1 } })).status).toBe(403)
      expect((await admin.get('/organizations/acme/k')).status).toBe(404)
    })

    it('when it sends bad input, then it gets the documented 4xx with a message', async () => {
      const refused = [
        await client.post('/secrets', { key: 'k', secret: 'not an object' }),
        await client.send('POST', '/secrets', { raw: '{"key":', headers: { 'content-type': 'application/json' } }),
        await client.send('POST', '/secrets', { raw: 'key=k', headers: { 'content-type': 'text/plain' } }),
        await client.post('/secrets/missing', { secret: { a: 1 } }),
        await client.post('/secrets', { key: 'svc2', secret: { a: 1 }, extra: true }),
      ]
      expect(refused.map((reply) => reply.status)).toEqual([400, 400, 400, 404, 400])
      for (const reply of refused) expect(reply.body).toEqual({ message: expect.any(String) })
      expect((await client.send('POST', '/secrets', { raw: `{"key":"big","secret":{"a":"${'x'.repeat(200_000)}"}}`, headers: { 'content-type': 'application/json' } })).status).toBe(413)
      expect((await client.get('/no/such/route')).status).toBe(404)
    })
  })

  describe('given an organization client', () => {
    it('when it uses its organization, then it may; another organization is 403 before the body is judged', async () => {
      const acme = as(vault.url, (await clientWith(vault.url, adminToken, { organizations: ['acme'] })).token)
      expect((await acme.post('/organizations/acme', { key: 'db', organizationId: 'acme', secret: { a: 1 } })).body.organizationId).toBe('acme')
      expect((await acme.get('/organizations/acme/db')).body.secret).toEqual({ a: 1 })
      expect((await acme.send('POST', '/organizations/globex', { raw: 'not json', headers: { 'content-type': 'application/json' } })).status).toBe(403)
      expect((await acme.post('/organizations/acme', { key: 'x', organizationId: 'globex', secret: { a: 1 } })).status).toBe(400)
    })
  })

  describe('given the token endpoint and the admin routes', () => {
    it('when credentials are wrong, then 401 invalid_client; without a token 401 with a Bearer challenge', async () => {
      const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: vault.admin.clientId, client_secret: 'wrong' })
      const refused = await request(vault.url, 'POST', '/oauth/token', { raw: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      expect(refused.status).toBe(401)
      expect(refused.body).toEqual({ error: 'invalid_client', message: 'Invalid client credentials' })
      const anonymous = await request(vault.url, 'GET', '/secrets/svc')
      expect(anonymous.status).toBe(401)
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer')
    })

    it('when a non-admin registers a client or asks for keys, then 403; an admin gets 201 and the key report', async () => {
      const plain = as(vault.url, (await clientWith(vault.url, adminToken, { secrets: true })).token)
      expect((await plain.post('/clients', { name: 'x' })).status).toBe(403)
      expect((await plain.get('/admin/keys')).status).toBe(403)
      expect((await admin.post('/clients', { name: 'y' })).status).toBe(201)
      expect((await admin.get('/admin/keys')).body).toMatchObject({ current: expect.any(String), keyStore: 'files' })
    })
  })

  describe('given the Invoke API', () => {
    it('when a registered client invokes the guide functions with the AWS SDK, then they answer as REST does', async () => {
      const { clientId, clientSecret } = await clientWith(vault.url, adminToken, { secrets: true })
      const lambda = lambdaFor(vault.url, { clientId, clientSecret })
      expect((await invoke(lambda, 'vault-dev-create-secret', { key: 'fn', secret: { pass_word: PASSWORD } })).result).toMatchObject({ statusCode: 200, id: 'fn' })
      expect((await invoke(lambda, 'vault-dev-get-secret', { key: 'fn' })).result).toMatchObject({ statusCode: 200, secret: { passWord: PASSWORD } })
      expect((await admin.get('/secrets/fn')).body.secret).toEqual({ passWord: PASSWORD })
      expect((await invoke(lambda, 'vault-dev-delete-secret', { key: 'fn' })).result).toEqual({ statusCode: 204 })
      expect((await invoke(lambda, 'vault-dev-delete-secret', { key: 'fn' })).result).toEqual({ statusCode: 205 })
      expect((await invoke(lambda, 'vault-dev-get-organization-secret', { key: 'fn', organizationId: 'acme' })).result).toEqual({
        statusCode: 403,
        message: "This client may not use this organization's secrets",
      })
    })

    it('when the signature is made with a wrong secret, then the SDK sees InvalidSignatureException (403)', async () => {
      const { clientId } = await clientWith(vault.url, adminToken, { secrets: true })
      const failure = await invokeFailure(lambdaFor(vault.url, { clientId, clientSecret: 'not-the-secret' }), 'vault-dev-get-secret', { key: 'fn' })
      expect(failure).toMatchObject({ name: 'InvalidSignatureException', httpStatus: 403 })
    })
  })

  it('never writes a secret value into its log', () => {
    expect(vault.logs.length).toBeGreaterThan(0)
    expect(vault.logs.join('\n')).not.toContain(PASSWORD)
  })
})
