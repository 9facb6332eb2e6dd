import http from 'node:http'
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { adminToken, clientWith } from '../helpers/api'
import { newVaultSetup, startVault, type VaultProcess } from '../helpers/vault-process'

const LIMIT = 3

/** A token request from a chosen loopback source address (127.0.0.x), as another host would send it. */
const tokenRequest = (vault: VaultProcess, from: string, clientId: string, clientSecret: string) =>
  new Promise<{ status: number; retryAfter?: string; body: Record<string, unknown> }>((resolve, reject) => {
    const url = new URL('/oauth/token', vault.url)
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }).toString()
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress: from, agent: false,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form) } },
      (res) => {
        let text = ''
        res.on('data', (chunk: Buffer) => (text += chunk.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, body: JSON.parse(text) }))
      },
    )
    req.on('error', reject)
    req.end(form)
  })

describe('the token endpoint rate limit', () => {
  let vault: VaultProcess
  let alice: { clientId: string; clientSecret: string }
  let bob: { clientId: string; clientSecret: string }

  beforeAll(async () => {
    vault = await startVault(await newVaultSetup('embedded', { VAULT_TOKEN_RATE_LIMIT: String(LIMIT) }))
    // The admin token and the two registrations come from 127.0.0.1; the tests use other addresses.
    const admin = await adminToken(vault.url)
    alice = await clientWith(vault.url, admin, { secrets: true }).then(({ clientId, clientSecret }) => ({ clientId, clientSecret }))
    bob = await clientWith(vault.url, admin, { secrets: true }).then(({ clientId, clientSecret }) => ({ clientId, clientSecret }))
  })
  afterAll(() => vault.stop())

  it('answers 429 with Retry-After and a message past the limit for one client', async () => {
    // clientWith took one token for alice already (from 127.0.0.1).
    for (let i = 1; i < LIMIT; i++) expect((await tokenRequest(vault, '127.0.0.2', alice.clientId, alice.clientSecret)).status).toBe(200)
    const refused = await tokenRequest(vault, '127.0.0.3', alice.clientId, alice.clientSecret)
    expect(refused.status).toBe(429)
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1)
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60)
    expect(refused.body.message).toEqual(expect.any(String))
    expect(JSON.stringify(refused.body)).not.toContain(alice.clientSecret)
  })

  it('limits an address whatever client ids it tries, wrong secrets included', async () => {
    for (let i = 0; i < LIMIT; i++) {
      expect((await tokenRequest(vault, '127.0.0.4', `guess-${i}`, 'wrong-secret-123456')).status).toBe(401)
    }
    expect((await tokenRequest(vault, '127.0.0.4', bob.clientId, bob.clientSecret)).status).toBe(429)
  })

  it('still serves another client from another address', async () => {
    expect((await tokenRequest(vault, '127.0.0.5', bob.clientId, bob.clientSecret)).status).toBe(200)
  })
})

describe('the failed-signature limit of the functions interface', () => {
  let vault: VaultProcess
  let carol: { clientId: string; clientSecret: string }

  const invoke = (secretAccessKey: string) =>
    new LambdaClient({
      endpoint: vault.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: carol.clientId, secretAccessKey },
    })
      .send(new InvokeCommand({ FunctionName: 'vault-dev-get-secret', Payload: Buffer.from('{"key":"k"}') }))
      .then(
        (out) => ({ status: out.StatusCode, name: 'ok', retryAfter: undefined as string | undefined }),
        (error: { name: string; $metadata?: { httpStatusCode?: number }; $response?: { headers: Record<string, string> } }) => ({
          status: error.$metadata?.httpStatusCode,
          name: error.name,
          retryAfter: error.$response?.headers['retry-after'],
        }),
      )

  beforeAll(async () => {
    vault = await startVault(await newVaultSetup('embedded', { VAULT_TOKEN_RATE_LIMIT: String(LIMIT) }))
    carol = await clientWith(vault.url, await adminToken(vault.url), { secrets: true })
  })
  afterAll(() => vault.stop())

  it('refuses an access key past the limit of wrong signatures, the right secret included, with Retry-After', async () => {
    expect(await invoke(carol.clientSecret)).toMatchObject({ status: 200 })
    for (let i = 0; i < LIMIT; i++) expect(await invoke(`wrong-secret-${i}`)).toMatchObject({ status: 403, name: 'InvalidSignatureException' })
    // A right guess now looks like a wrong one: the attacker learns nothing until the window ends.
    const refused = await invoke(carol.clientSecret)
    expect(refused).toMatchObject({ status: 429, name: 'TooManyRequestsException' })
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1)
  })
})
