import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type pg from 'pg'
import { dataKeyOpener } from '../helpers/keys'
import { as, request, tokenFor, type Reply } from '../helpers/api'
import { backends } from '../helpers/backends'
import { connectToStore, dumpStore, readAllFiles } from '../helpers/database'
import { ADMIN_ID, newVaultSetup, startVault, type VaultProcess } from '../helpers/vault-process'

/**
 * Plaintext at rest: a workload with distinctive marker values, then a search for the markers
 * where an attacker would look without the master key: a dump of every table, every file the
 * store writes (pages and WAL), the process logs at debug level, and every error answer.
 * Positive controls show the search finds what IS there (live values through the API, key
 * names in the files), so a clean result means something.
 */

const hex = (bytes: number) => crypto.randomBytes(bytes).toString('hex')
const letters = (count: number) =>
  Array.from(crypto.randomBytes(count), (byte) => String.fromCharCode(97 + (byte % 26))).join('')

/** A value no one could write by chance; every one is searched for separately. */
const marker = (label: string) => `zz${label}MARK${hex(10)}`

type Found = Readonly<{ secret: string; where: string }>

const findIn = (secrets: readonly string[], haystack: Buffer | string, where: string): Found[] => {
  const bytes = typeof haystack === 'string' ? Buffer.from(haystack, 'utf8') : haystack
  return secrets.filter((secret) => bytes.includes(Buffer.from(secret, 'utf8'))).map((secret) => ({ secret, where }))
}

/** Raw bytes and the usual text encodings of a key: any of them at rest is a leak. */
const encodingsOf = (key: Buffer): Buffer[] => [
  key,
  Buffer.from(key.toString('base64')),
  Buffer.from(key.toString('base64url')),
  Buffer.from(key.toString('hex')),
]

const findKeysIn = (keys: readonly Buffer[], haystack: Buffer, where: string): string[] =>
  keys.flatMap((key) => encodingsOf(key).filter((form) => haystack.includes(form)).map(() => where))

describe.each(backends())('nothing secret at rest on the %s store', (backend) => {
  const bootstrapSecret = `bootstrap-${hex(16)}`
  const keyName = `atrest-key-${hex(6)}`
  const org = `atrest-org-${hex(4)}`
  const live = {
    standard: { password: marker('std1'), nested: { deep: { token: marker('std2') }, list: [marker('std3'), 7] } },
    updated: { password: marker('upd1'), [`attr${letters(12)}`]: { inner: marker('upd2') } },
    recreated: { apiKey: marker('rec1') },
    organization: { dsn: marker('org1'), creds: { user: 'svc', pass: marker('org2') } },
  }
  const gone = {
    firstVersion: { password: marker('old1'), nested: { pin: marker('old2') } },
    deleted: { password: marker('del1') },
    deletedBeforeRecreate: { apiKey: marker('drc1') },
    orgFirst: { dsn: marker('orgold1') },
    orgDeleted: { dsn: marker('orgdel1') },
    refused: marker('refused'),
  }
  /** Every marker the workload sent, live or not: none may be at rest. */
  const markers = JSON.stringify({ live, gone }).match(/zz[a-z0-9]+MARK[0-9a-f]{20}/g) ?? []

  let vault: VaultProcess
  let api: ReturnType<typeof as>
  let clientSecret: string
  const errorReplies: Reply[] = []
  let dump = ''
  let dataKeys: Buffer[] = []

  const ok = async (reply: Promise<Reply>, status = 200) => {
    const answered = await reply
    expect({ status: answered.status, text: answered.text }).toEqual({ status, text: expect.any(String) })
    return answered
  }

  beforeAll(async () => {
    const setup = await newVaultSetup(backend, { VAULT_BOOTSTRAP_CLIENT_SECRET: bootstrapSecret })
    vault = await startVault(setup)
    api = as(vault.url, await tokenFor(vault.url, ADMIN_ID, bootstrapSecret))
    const client = await api.post('/clients', { name: 'reader', secrets: true, organizations: [org] })
    expect(client.status).toBe(201)
    clientSecret = client.body.clientSecret
    const reader = as(vault.url, await tokenFor(vault.url, client.body.clientId, clientSecret))

    // Standard secrets: created, updated, deleted, re-created.
    await ok(api.post('/secrets', { key: keyName, secret: live.standard, description: 'clear metadata' }))
    await ok(api.post('/secrets', { key: 'rotated', secret: gone.firstVersion }))
    await ok(api.post('/secrets/rotated', { secret: live.updated }))
    await ok(api.post('/secrets', { key: 'removed', secret: gone.deleted }))
    await ok(api.delete('/secrets/removed'), 204)
    await ok(api.post('/secrets', { key: 'phoenix', secret: gone.deletedBeforeRecreate }))
    await ok(api.delete('/secrets/phoenix'), 204)
    await ok(reader.post('/secrets', { key: 'phoenix', secret: live.recreated }))
    // Organization secrets, written by a client that has the organization's grant.
    await ok(reader.post(`/organizations/${org}`, { key: 'db', secret: gone.orgFirst }))
    await ok(reader.post(`/organizations/${org}/db`, { secret: live.organization }))
    await ok(api.post(`/organizations/${org}`, { key: 'old', secret: gone.orgDeleted }))
    await ok(api.delete(`/organizations/${org}/old`), 204)

    // Requests the vault refuses, each carrying a marker somewhere in what it sent.
    const refused = gone.refused
    const json = { 'content-type': 'application/json' }
    const text = { 'content-type': 'text/plain' }
    const attempts: Array<[number, Promise<Reply>]> = [
      [400, api.post('/secrets', { key: keyName, secret: { password: refused } })],
      [400, api.post('/secrets', { key: 'as-string', secret: refused })],
      [400, api.post('/secrets', { key: 'as-array', secret: [refused] })],
      [400, api.post('/secrets', { key: 'collides', secret: { a_b: refused, aB: refused } })],
      [400, api.post('/secrets', { key: 'bad key!', secret: { password: refused } })],
      [400, api.send('POST', '/secrets', { raw: `{"key":"broken","secret":{"password":"${refused}"`, headers: json })],
      [400, api.send('POST', '/secrets', { raw: JSON.stringify({ key: 'plain', secret: { p: refused } }), headers: text })],
      [400, api.post('/secrets', { key: 'deep', secret: JSON.parse(`${'{"a":'.repeat(40)}"${refused}"${'}'.repeat(40)}`) })],
      [400, api.post('/secrets', { key: 'big', secret: { password: refused, pad: 'x'.repeat(70 * 1024) } })],
      [413, api.post('/secrets', { key: 'huge', secret: { password: refused, pad: 'x'.repeat(140 * 1024) } })],
      [404, api.post('/secrets/never-was', { secret: { password: refused } })],
      [400, api.post(`/organizations/${org}`, { key: 'mismatch', organizationId: 'other', secret: { p: refused } })],
      [403, reader.post('/organizations/not-granted', { key: 'k', secret: { p: refused } })],
      [401, request(vault.url, 'POST', '/secrets', { body: { key: 'anon', secret: { p: refused } } })],
      [401, request(vault.url, 'POST', '/secrets', { token: refused, body: { key: 'forged', secret: { p: refused } } })],
      [
        401,
        request(vault.url, 'POST', '/oauth/token', {
          raw: new URLSearchParams({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: refused }).toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
      ],
    ]
    for (const [status, attempt] of attempts) {
      const reply = await attempt
      expect({ status: reply.status, body: reply.body }).toEqual({
        status,
        body: expect.objectContaining({ message: expect.any(String) }),
      })
      errorReplies.push(reply)
    }

    const db = await connectToStore(vault.setup)
    try {
      dump = await dumpStore(db)
      dataKeys = await liveDataKeys(db)
    } finally {
      await db.end()
    }
  })
  afterAll(() => vault?.stop())

  const liveDataKeys = async (db: pg.Client): Promise<Buffer[]> => {
    const open = dataKeyOpener(vault.setup)
    const rows = await db.query<{ id: string; secret: string }>(
      'SELECT id, secret FROM eventstore.secrets WHERE secret IS NOT NULL',
    )
    return rows.rows.map((row) => open(row.secret, row.id))
  }

  /** What must never be found anywhere at rest. */
  const credentials = () => [bootstrapSecret, clientSecret, vault.setup.env.VAULT_MASTER_KEY]

  it('answers the markers of live secrets to an authorized read, so the search would find them', async () => {
    const reads = await Promise.all([
      api.get(`/secrets/${keyName}`),
      api.get('/secrets/rotated'),
      api.get('/secrets/phoenix'),
      api.get(`/organizations/${org}/db`),
    ])
    expect(reads.map((read) => read.body.secret)).toEqual([live.standard, live.updated, live.recreated, live.organization])
    const liveMarkers = JSON.stringify(live).match(/zz[a-z0-9]+MARK[0-9a-f]{20}/g) ?? []
    expect(liveMarkers.length).toBeGreaterThanOrEqual(8)
    expect(findIn(liveMarkers, reads.map((read) => read.text).join('\n'), 'reads')).toHaveLength(liveMarkers.length)
  })

  it('never echoes a value in an error answer, and every error has a message and no stack', () => {
    expect(errorReplies).toHaveLength(16)
    for (const reply of errorReplies) {
      expect(findIn(markers, reply.text, reply.text)).toEqual([])
      expect(reply.text).not.toMatch(/\bat .+:\d+:\d+|SELECT |INSERT |node_modules/)
    }
  })

  it('keeps no value, client secret or key material in any table of the database', () => {
    expect(dump).toContain(keyName)
    expect(dump).toContain('clear metadata')
    expect(findIn(markers, dump, 'dump')).toEqual([])
    expect(findIn(credentials(), dump, 'dump')).toEqual([])
    expect(dataKeys.length).toBeGreaterThanOrEqual(4)
    expect(findKeysIn(dataKeys, Buffer.from(dump), 'dump')).toEqual([])
  })

  it('keeps no value, client secret or key material in any file the store writes', async () => {
    const files = await storeFiles(vault)
    // The key name is metadata in clear: finding it proves the search reads the live pages.
    expect(files.some(({ content }) => content.includes(Buffer.from(keyName)))).toBe(true)
    const leaks = files.flatMap(({ file, content }) => [
      ...findIn(markers, content, file),
      ...findIn(credentials(), content, file),
      ...findKeysIn(dataKeys, content, file).map((where) => ({ secret: 'a data key', where })),
    ])
    expect(leaks).toEqual([])
  })

  it('writes no value, client secret or key material to its logs, even at debug level', async () => {
    await vault.stop()
    const output = vault.output()
    expect(vault.setup.env.LOG_LEVEL).toBe('debug')
    expect(output).toContain(keyName)
    expect(findIn(markers, output, 'logs')).toEqual([])
    expect(findIn(credentials(), output, 'logs')).toEqual([])
    expect(findKeysIn(dataKeys, Buffer.from(output), 'logs')).toEqual([])
  })
})

/**
 * Every file that holds the store. Embedded: the whole data directory, after a clean stop
 * flushed every page. Server: the vault's data directory (the master key area), and this
 * database's pages and the cluster's WAL after a checkpoint, when the test server is ours.
 */
const storeFiles = async (vault: VaultProcess): Promise<Array<{ file: string; content: Buffer }>> => {
  const { setup } = vault
  if (setup.backend === 'embedded') {
    expect(await vault.stop()).toBe(0)
    return readAllFiles(setup.dataDir)
  }
  const own = fs.existsSync(setup.dataDir) ? readAllFiles(setup.dataDir) : []
  const clusterDir = process.env.VAULT_TEST_PG_DIR
  if (clusterDir === undefined) return own
  const db = await connectToStore(setup)
  let oid: string
  try {
    await db.query('CHECKPOINT')
    oid = (await db.query<{ oid: string }>('SELECT oid::text FROM pg_database WHERE datname = current_database()')).rows[0].oid
  } finally {
    await db.end()
  }
  const data = path.join(clusterDir, 'data')
  return [...own, ...readAllFiles(path.join(data, 'base', oid)), ...readAllFiles(path.join(data, 'pg_wal'))]
}
