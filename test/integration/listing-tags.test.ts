import { as, clientWith, tokenFor } from '../helpers/api'
import { startInProcessVault, type InProcessVault } from '../helpers/in-process-vault'

// Listing and tags over HTTP, on the vault built in process (compose.ts) against the test
// PostgreSQL server. Without a server these are skipped, loudly.
const withServer = process.env.TEST_DATABASE_URL ? describe : describe.skip

const VALUE = 'listing-pass-91c2'

type Listed = { id: string; tags: Array<{ key: string; value: string }>; [field: string]: unknown }
type Client = ReturnType<typeof as>

/** Every page of a listing, following nextToken; each page's ids in order. */
const allPages = async (client: Client, path: string, query = '', between: () => Promise<void> = async () => undefined) => {
  const pages: string[][] = []
  let next: string | undefined
  do {
    const params = new URLSearchParams(query)
    if (next !== undefined) params.set('nextToken', next)
    const reply = await client.get(`${path}?${params}`)
    expect(reply.status).toBe(200)
    expect(reply.text).not.toContain(VALUE)
    pages.push((reply.body.secrets as Listed[]).map((secret) => secret.id))
    next = reply.body.nextToken
    await between()
  } while (next !== undefined)
  return pages
}

withServer('listing and tags, over HTTP', () => {
  let vault: InProcessVault
  let admin: Client
  let adminToken: string
  beforeAll(async () => {
    vault = await startInProcessVault()
    adminToken = await tokenFor(vault.url, vault.admin.clientId, vault.admin.clientSecret)
    admin = as(vault.url, adminToken)
  })
  afterAll(async () => {
    await vault?.stop()
  })

  describe('tags', () => {
    it('are set at create, listed with the metadata, and leave the read answer exactly as the guide has it', async () => {
      const created = await admin.post('/secrets', { key: 'tagged', secret: { pwd: VALUE }, tags: [{ key: 'env', value: 'prod' }, { key: 'team', value: 'billing' }] })
      expect(created.status).toBe(200)
      expect(created.body).not.toHaveProperty('tags')
      const read = await admin.get('/secrets/tagged')
      expect(Object.keys(read.body).sort()).toEqual(['arn', 'ern', 'id', 'secret'])
      const listed = await admin.get('/secrets?prefix=tagged')
      expect(listed.body.secrets).toEqual([
        {
          id: 'tagged',
          ern: 'ern:vault:dev:tagged',
          arn: created.body.arn,
          tags: [{ key: 'env', value: 'prod' }, { key: 'team', value: 'billing' }],
          createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        },
      ])
    })

    it('PUT adds tags or gives them new values, DELETE removes them by key; the value and history follow', async () => {
      await admin.post('/secrets', { key: 'retag', secret: { pwd: VALUE } })
      const put = await admin.send('PUT', '/secrets/retag/tags', { body: { tags: [{ key: 'env', value: 'dev' }, { key: 'owner', value: 'ann' }] } })
      expect(put.status).toBe(200)
      expect(put.body.tags).toEqual([{ key: 'env', value: 'dev' }, { key: 'owner', value: 'ann' }])
      expect((await admin.send('PUT', '/secrets/retag/tags', { body: { tags: [{ key: 'env', value: 'prod' }] } })).body.tags).toEqual([
        { key: 'env', value: 'prod' },
        { key: 'owner', value: 'ann' },
      ])
      const removed = await admin.send('DELETE', '/secrets/retag/tags', { body: { tagKeys: ['owner', 'absent'] } })
      expect(removed.status).toBe(200)
      expect(removed.body.tags).toEqual([{ key: 'env', value: 'prod' }])
      expect((await admin.get('/secrets/retag')).body.secret).toEqual({ pwd: VALUE })
      const history = await admin.get('/secrets/retag/history')
      expect(history.body.events.map((event: { type: string }) => event.type)).toEqual(['SecretCreated', 'SecretTagged', 'SecretTagged', 'SecretUntagged'])
      expect(history.text).not.toContain(VALUE)
    })

    it('refuses bad tags with 400 and changes nothing; tags of a missing secret are 404', async () => {
      await admin.post('/secrets', { key: 'strict-tags', secret: { pwd: VALUE }, tags: [{ key: 'keep', value: 'me' }] })
      const bad = [
        { tags: [] },
        { tags: [{ key: 'aws:reserved', value: 'x' }] },
        { tags: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }] },
        { tags: [{ key: 'a', value: 'x'.repeat(257) }] },
        { tags: [{ key: 'a', value: 'v', extra: 1 }] },
        { tags: 'env=prod' },
        { tagKeys: ['keep'] },
      ]
      for (const body of bad) {
        const reply = await admin.send('PUT', '/secrets/strict-tags/tags', { body })
        expect(reply.status).toBe(400)
        expect(reply.body).toEqual({ message: expect.any(String) })
      }
      const tooMany = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: 'v' }))
      expect((await admin.send('PUT', '/secrets/strict-tags/tags', { body: { tags: tooMany } })).status).toBe(400)
      expect((await admin.post('/secrets', { key: 'bad-create-tags', secret: { a: 1 }, tags: [{ key: '', value: 'v' }] })).status).toBe(400)
      expect((await admin.get('/secrets/bad-create-tags')).status).toBe(404)
      expect((await admin.get('/secrets?prefix=strict-tags')).body.secrets[0].tags).toEqual([{ key: 'keep', value: 'me' }])
      expect((await admin.send('PUT', '/secrets/never-stored/tags', { body: { tags: [{ key: 'a', value: 'b' }] } })).status).toBe(404)
      expect((await admin.send('DELETE', '/secrets/never-stored/tags', { body: { tagKeys: ['a'] } })).status).toBe(404)
    })
  })

  describe('listing', () => {
    const org = 'list-org'
    beforeAll(async () => {
      for (let i = 0; i < 25; i++) {
        const tags = i % 5 === 0 ? [{ key: 'tier', value: 'gold' }] : undefined
        expect((await admin.post(`/organizations/${org}`, { key: `item-${String(i).padStart(2, '0')}`, secret: { pwd: VALUE }, ...(tags ? { tags } : {}) })).status).toBe(200)
      }
    })

    it('answers the collection paths, with or without a trailing slash, where they were unknown routes before', async () => {
      for (const path of ['/secrets', '/secrets/', `/organizations/${org}`, `/organizations/${org}/`]) {
        const reply = await admin.get(`${path}?limit=1`)
        expect([path, reply.status]).toEqual([path, 200])
        expect(reply.body.secrets).toHaveLength(1)
      }
    })

    it('answers every live secret exactly once, in key order, a page at a time, the last page without nextToken', async () => {
      const pages = await allPages(admin, `/organizations/${org}`, 'limit=10')
      expect(pages.map((page) => page.length)).toEqual([10, 10, 5])
      const ids = pages.flat()
      expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => `item-${String(i).padStart(2, '0')}`))
    })

    it('filters by prefix and by tag', async () => {
      expect((await allPages(admin, `/organizations/${org}`, 'prefix=item-1')).flat()).toEqual(Array.from({ length: 10 }, (_, i) => `item-1${i}`))
      expect((await allPages(admin, `/organizations/${org}`, 'tag=tier:gold&limit=2')).flat()).toEqual(['item-00', 'item-05', 'item-10', 'item-15', 'item-20'])
      expect((await admin.get(`/organizations/${org}?tag=tier:silver`)).body).toEqual({ secrets: [] })
    })

    it('never repeats or skips a secret that stays live while others are created and deleted between pages', async () => {
      const ns = 'churn-org'
      const stable = Array.from({ length: 12 }, (_, i) => `s-${String(i * 2).padStart(2, '0')}`)
      for (const key of stable) await admin.post(`/organizations/${ns}`, { key, secret: { pwd: VALUE } })
      let round = 0
      const churn = async () => {
        // Between pages: new keys on both sides of the cursor, and a created one deleted again.
        round++
        await admin.post(`/organizations/${ns}`, { key: `s-${String(round * 4 - 1).padStart(2, '0')}`, secret: { pwd: VALUE } })
        await admin.post(`/organizations/${ns}`, { key: `a-${round}`, secret: { pwd: VALUE } })
        expect((await admin.delete(`/organizations/${ns}/a-${round}`)).status).toBe(204)
      }
      const seen = (await allPages(admin, `/organizations/${ns}`, 'prefix=s-&limit=3', churn)).flat()
      for (const key of stable) expect(seen.filter((id) => id === key)).toHaveLength(1)
      expect(new Set(seen).size).toBe(seen.length)
      expect([...seen].sort()).toEqual(seen)
    })

    it('lists only what the grants cover: a namespace without the grant is 403, before the query is judged', async () => {
      const orgClient = as(vault.url, (await clientWith(vault.url, adminToken, { organizations: [org] })).token)
      expect((await orgClient.get(`/organizations/${org}?limit=1`)).body.secrets).toHaveLength(1)
      expect((await orgClient.get('/secrets')).status).toBe(403)
      expect((await orgClient.get('/organizations/other-org?limit=0')).status).toBe(403)
      const standard = as(vault.url, (await clientWith(vault.url, adminToken, { secrets: true })).token)
      expect((await standard.get(`/organizations/${org}`)).status).toBe(403)
      const ids = (await allPages(standard, '/secrets')).flat()
      expect(ids.every((id) => !id.startsWith('item-'))).toBe(true)
    })

    it('refuses a bad query with 400: limit 0 or 101, a tampered or foreign nextToken, unknown or repeated parameters', async () => {
      const first = await admin.get(`/organizations/${org}?limit=2`)
      const token = first.body.nextToken as string
      const tampered = `${token.slice(0, -2)}${token.endsWith('A') ? 'B' : 'A'}A`
      const refused = [
        `/organizations/${org}?limit=0`,
        `/organizations/${org}?limit=101`,
        `/organizations/${org}?limit=1.5`,
        `/organizations/${org}?nextToken=${encodeURIComponent(tampered)}`,
        `/organizations/${org}?nextToken=not-a-token`,
        `/organizations/${org}?limit=2&prefix=item-2&nextToken=${encodeURIComponent(token)}`,
        `/secrets?nextToken=${encodeURIComponent(token)}`,
        `/organizations/${org}?order=desc`,
        `/organizations/${org}?limit=2&limit=3`,
        `/organizations/${org}?tag=novalue`,
      ]
      for (const path of refused) {
        const reply = await admin.get(path)
        expect([path, reply.status]).toEqual([path, 400])
        expect(reply.body).toEqual({ message: expect.any(String) })
      }
      expect((await admin.get(`/organizations/${org}?limit=2&nextToken=${encodeURIComponent(token)}`)).body.secrets.map((s: Listed) => s.id)).toEqual(['item-02', 'item-03'])
    })
  })
})
