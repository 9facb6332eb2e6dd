import net from 'node:net'
import { createPool } from '../../store/database'
import { findReadableSecrets } from '../../store/secrets.repository'
import { adminToken, as, clientWith, request } from '../helpers/api'
import { backends } from '../helpers/backends'
import { storeConnection } from '../helpers/database'
import { ADMIN_ID, newVaultSetup, startVault, type VaultProcess, type VaultSetup } from '../helpers/vault-process'

// Reads of a secret are served on node:http directly and batched into shared queries
// (api/rest/secret-read.route.ts, lib/batcher.ts). These check what a caller sees: the same
// answers, headers and errors as every other route, and never another caller's secret.

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
}

/** One request written by hand, for request forms fetch() will not send. */
const rawRequest = (url: string, head: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url)
    const socket = net.connect(Number(port), hostname, () => socket.write(head))
    let answer = ''
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')))
    socket.on('end', () => resolve(answer))
    socket.on('error', reject)
  })

describe.each(backends())('reading secrets on the %s store', (backend) => {
  let setup: VaultSetup
  let vault: VaultProcess
  let token: string
  let api: ReturnType<typeof as>

  beforeAll(async () => {
    setup = await newVaultSetup(backend)
    vault = await startVault(setup)
    token = await adminToken(vault.url)
    api = as(vault.url, token)
    expect((await api.post('/secrets', { key: 'db', secret: { user: 'u', password: 'p-db' } })).status).toBe(200)
    expect((await api.post('/organizations/acme', { key: 'db', secret: { password: 'p-acme' } })).status).toBe(200)
  })
  afterAll(() => vault.stop())

  it('answers with the request id and security headers, as every other route does', async () => {
    const read = await request(vault.url, 'GET', '/secrets/db', { token, headers: { 'x-request-id': 'trace-42' } })
    expect(read.status).toBe(200)
    expect(read.headers.get('x-request-id')).toBe('trace-42')
    expect(read.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(Number(read.headers.get('content-length'))).toBe(Buffer.byteLength(read.text))
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(read.headers.get(name)).toBe(value)
    const generated = await api.get('/secrets/db')
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('writes one access log line per read, with the path but no query and no value', async () => {
    const read = await request(vault.url, 'GET', '/secrets/db?note=hello', { token, headers: { 'x-request-id': 'log-check-1' } })
    expect(read.status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 100))
    const lines = vault
      .output()
      .split('\n')
      .filter((line) => line.includes('"log-check-1"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'request', method: 'GET', path: '/secrets/db', status: 200, clientId: ADMIN_ID }),
    ])
    expect(vault.output()).not.toContain('p-db')
    expect(vault.output()).not.toContain('hello')
  })

  it.each([
    ['in capitals', '/SECRETS/db'],
    ['with a trailing slash', '/secrets/db/'],
    ['with a query string', '/secrets/db?version=1'],
    ['percent-encoded', '/secrets/%64%62'],
  ])('reads a standard secret %s', async (_name, path) => {
    const read = await api.get(path)
    expect(read.status).toBe(200)
    expect(read.body.secret).toEqual({ user: 'u', password: 'p-db' })
  })

  it.each([
    ['in capitals', '/Organizations/acme/db'],
    ['with a trailing slash', '/organizations/acme/db/'],
  ])('reads an organization secret %s', async (_name, path) => {
    const read = await api.get(path)
    expect(read.status).toBe(200)
    expect(read.body).toMatchObject({ id: 'db', organizationId: 'acme', secret: { password: 'p-acme' } })
  })

  it('answers HEAD with the headers of the read and no body', async () => {
    const head = await request(vault.url, 'HEAD', '/secrets/db', { token })
    expect(head.status).toBe(200)
    expect(head.text).toBe('')
    const read = await api.get('/secrets/db')
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(read.text)))
    expect((await request(vault.url, 'HEAD', '/secrets/db')).status).toBe(401)
  })

  it('reads a request written in absolute form', async () => {
    const { host } = new URL(vault.url)
    const answer = await rawRequest(
      vault.url,
      `GET ${vault.url}/secrets/db HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
    )
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 200 OK')
    expect(answer).toContain('"password":"p-db"')
    // The path is taken as sent, as express takes it: no dot segments resolved.
    const dotted = await rawRequest(
      vault.url,
      `GET ${vault.url}/secrets/../secrets/db HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
    )
    expect(dotted.split('\r\n')[0]).toBe('HTTP/1.1 404 Not Found')
    expect(dotted).not.toContain('p-db')
  })

  it('refuses in the API order: 401, then 400 for the organization id, then 403, then 400 for the key', async () => {
    const orgOnly = await clientWith(vault.url, token, { organizations: ['acme'] })
    const noToken = await request(vault.url, 'GET', '/secrets/db')
    expect(noToken.status).toBe(401)
    expect(noToken.headers.get('www-authenticate')).toBe('Bearer')
    expect(noToken.body).toEqual({ message: expect.any(String) })
    expect((await request(vault.url, 'GET', '/secrets/db', { token: `${token}x` })).status).toBe(401)
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(noToken.headers.get(name)).toBe(value)

    const badOrganization = await request(vault.url, 'GET', '/organizations/-acme/db', { token: orgOnly.token })
    expect(badOrganization.status).toBe(400)
    expect(badOrganization.body.message).toMatch(/organizationId/)

    // A standard secret with a bad key: refused for the grant before the key is judged.
    expect((await request(vault.url, 'GET', '/secrets/-bad', { token: orgOnly.token })).status).toBe(403)
    const badKey = await request(vault.url, 'GET', '/organizations/acme/-bad', { token: orgOnly.token })
    expect(badKey.status).toBe(400)
    expect(badKey.body.message).toMatch(/key/)
    expect((await request(vault.url, 'GET', '/organizations/acme/%E0%A4%A', { token: orgOnly.token })).body).toEqual({
      message: 'The request path is not validly encoded',
    })
    expect((await request(vault.url, 'GET', '/organizations/acme/db', { token: orgOnly.token })).body.secret).toEqual({
      password: 'p-acme',
    })
    expect((await request(vault.url, 'GET', '/organizations/other/db', { token: orgOnly.token })).status).toBe(403)
  })

  it('gives each of many concurrent readers its own secret, and 404 for the missing ones', async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `many-${i}`)
    for (const [i, key] of keys.entries()) {
      const scope = i % 2 === 0 ? '/secrets' : '/organizations/acme'
      expect((await api.post(scope, { key, secret: { value: `v-${i}` } })).status).toBe(200)
    }
    // Several rounds of reads in flight at once, in a shuffled order, with keys that do not
    // exist (or exist in the other namespace only) mixed in: the batches mix them all.
    const asked = [...keys.entries()].flatMap(([i, key]) => [
      { path: `${i % 2 === 0 ? '/secrets' : '/organizations/acme'}/${key}`, expected: `v-${i}` },
      { path: `${i % 2 === 0 ? '/organizations/acme' : '/secrets'}/${key}`, expected: null },
    ])
    const rounds = [...asked, ...asked, ...asked].sort(() => Math.random() - 0.5)
    const reads = await Promise.all(rounds.map(async ({ path, expected }) => ({ expected, read: await api.get(path) })))
    for (const { expected, read } of reads) {
      if (expected === null) {
        expect(read.status).toBe(404)
      } else {
        expect(read.status).toBe(200)
        expect(read.body.secret).toEqual({ value: expected })
      }
    }
  })

  it('sees every acknowledged change at once, even among concurrent reads', async () => {
    expect((await api.post('/secrets', { key: 'moving', secret: { v: 0 } })).status).toBe(200)
    for (let version = 1; version <= 5; version += 1) {
      expect((await api.post('/secrets/moving', { secret: { v: version } })).status).toBe(200)
      const reads = await Promise.all(Array.from({ length: 20 }, () => api.get('/secrets/moving')))
      for (const read of reads) expect(read.body.secret).toEqual({ v: version })
    }
    expect((await api.delete('/secrets/moving')).status).toBe(204)
    const afterDelete = await Promise.all(Array.from({ length: 20 }, () => api.get('/secrets/moving')))
    for (const read of afterDelete) expect(read.status).toBe(404)
  })

  it('plans the batched read once per connection, even when its first reads asked for one key each', async () => {
    // PostgreSQL would otherwise choose from a connection's first five executions, and after
    // single-key ones keep planning every read again (store/database.ts).
    const pool = createPool(storeConnection(setup))
    const client = await pool.connect()
    try {
      for (let i = 0; i < 8; i += 1) {
        const [found] = await findReadableSecrets(client, [{ organizationId: null, key: 'db' }])
        expect(found?.row.key).toBe('db')
      }
      const many = await findReadableSecrets(client, Array.from({ length: 20 }, () => ({ organizationId: null, key: 'db' })))
      expect(many.every((found) => found?.row.key === 'db')).toBe(true)
      const plans = await client.query<{ generic_plans: string; custom_plans: string }>(
        `SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'vault-readable-secrets'`,
      )
      expect(plans.rows).toEqual([{ generic_plans: '9', custom_plans: '0' }])
    } finally {
      client.release()
      await pool.end()
    }
  })
})
