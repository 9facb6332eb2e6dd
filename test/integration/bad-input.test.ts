import crypto from 'node:crypto'
import { replyProblems } from '../helpers/answers'
import { adminToken, request, type Reply } from '../helpers/api'
import { answerChecks, attemptsThrough } from '../helpers/attempts'
import { json, nestedObjects, notUtf8Json, secretBodies } from '../helpers/bodies'
import {
  badBodyKeys,
  badDescriptions,
  badSecrets,
  NOT_JSON_OBJECTS,
  notAnObject,
  unknownCreateFields,
  unknownUpdateFields,
  WRONG_CONTENT_TYPES,
  withContentType,
} from '../helpers/hostile/bad-bodies'
import { badSegments } from '../helpers/hostile/bad-paths'
import { rawHttpClient } from '../helpers/raw-http'
import { dumpOf, readPaths as readPathsWith, type Stored } from '../helpers/stored-state'
import { newVaultSetup, startVault, type VaultProcess } from '../helpers/vault-process'

// Bad input never gets a 500 or a stack trace: it gets the documented 4xx with a JSON `message`,
// and nothing already stored is lost or changed. Requests go out through node:http so that the
// path reaches the vault byte for byte (fetch would resolve "..", "%2E%2E" and friends first).

/** Every value a refused request carried: none may come back, be logged or be stored. */
const MARKERS: string[] = []
const marker = (name: string): string => {
  const value = `mk-${name}-${crypto.randomBytes(6).toString('hex')}`
  MARKERS.push(value)
  return value
}

const ORG = 'acme-corp'
/** Stored in both namespaces before anything else: created, then updated. */
const KEY = 'kept'
/** Stored in both namespaces before anything else, with no description: created, deleted, created again. */
const SECOND = 'also.kept@2'
/**
 * Each test's refused creates name a key of their own (or a stored one); none may ever exist.
 * One per test, so that a create wrongly accepted fails that test and no other.
 */
const NEVER_KEYS: string[] = []
const FIRST_NEVER = 'never-stored'
let NEVER = FIRST_NEVER
/** Stored (standard) before anything else; only the test that sends bytes that are not UTF-8 aims at it. */
const BYTES_TARGET = 'bytes-target'
const NAMESPACES = ['/secrets', `/organizations/${ORG}`] as const
const STORED_PATHS = NAMESPACES.flatMap((ns) => [`${ns}/${KEY}`, `${ns}/${SECOND}`])

const KiB = 1024

// ------------------------------------------------------------------ builders and tables

// The body builders are in test/helpers/bodies.ts, the bad paths and bodies in
// test/helpers/hostile/, the node:http client in test/helpers/raw-http.ts, the answer checks in
// test/helpers/answers.ts and test/helpers/attempts.ts.

const bodies = secretBodies(marker)
const { createBody, updateBody } = bodies

const BAD_BODY_KEYS = badBodyKeys(KEY)
const NOT_AN_OBJECT = notAnObject(bodies)
const BAD_SECRETS = badSecrets(bodies)
const BAD_DESCRIPTIONS = badDescriptions(bodies)
const UNKNOWN_CREATE_FIELDS = unknownCreateFields(bodies)
const UNKNOWN_UPDATE_FIELDS = unknownUpdateFields(bodies, { key: KEY, other: SECOND, organizationId: ORG })

/** A JSON text whose string `value` ends in bytes that are not UTF-8 (Latin-1 "é" and "ÿ"). */
const notUtf8 = (shape: (value: string) => object, value = marker('latin1')): Buffer => notUtf8Json(shape, value)

// --------------------------------------------------------------------------- HTTP, as sent

let vault: VaultProcess
let token: string

const { send, sendJson } = rawHttpClient(
  () => vault.url,
  () => token,
)

// ------------------------------------------------------------------------------ assertions

/** What is wrong with an answer to bad input, besides its status: [] when nothing. */
const problemsOf = (reply: Reply, requireJson = true): string[] => replyProblems(reply, requireJson, MARKERS)

const { attempt, attemptJson } = attemptsThrough({ send, sendJson })
const { run, expectRefused, expectClientError, expectTurnedAway } = answerChecks(problemsOf)

// ------------------------------------------------------------------------ the stored state

const readPaths = (paths: readonly string[]): Promise<Stored> => readPathsWith(send, paths)

const neverPaths = (key: string) => NAMESPACES.map((ns) => `${ns}/${key}`)

/** The stored secrets and this test's never-stored key, read and with their history. */
const readStored = (): Promise<Stored> => readPaths([...STORED_PATHS, ...neverPaths(NEVER)])

/** What readStored answered before any bad request, with this test's never-stored key. */
const expectedNow = (): Stored =>
  before.map((entry, i) => (i < STORED_PATHS.length ? entry : { ...entry, path: neverPaths(NEVER)[i - STORED_PATHS.length] }))

let before: Stored
let storeBefore: string

const dump = (): Promise<string> => dumpOf(vault.setup)

// ----------------------------------------------------------------------------------- suite

describe('bad input to the vault', () => {
  beforeAll(async () => {
    vault = await startVault(await newVaultSetup('embedded'))
    token = await adminToken(vault.url)
    for (const ns of NAMESPACES) {
      const seeded = [
        await sendJson('POST', ns, json({ key: KEY, secret: { user: 'first', pwd: 'one' }, description: 'kept secret' })),
        await sendJson('POST', `${ns}/${KEY}`, json({ secret: { user: 'first', pwd: 'two' }, description: 'kept, updated' })),
        await sendJson('POST', ns, json({ key: SECOND, secret: { token: 'first life' } })),
        await send('DELETE', `${ns}/${SECOND}`),
        await sendJson('POST', ns, json({ key: SECOND, secret: { token: 'second life' } })),
      ]
      expect(seeded.map((reply) => reply.status)).toEqual([200, 200, 200, 204, 200])
    }
    expect((await sendJson('POST', '/secrets', json({ key: BYTES_TARGET, secret: { pwd: 'caf\u00e9' } }))).status).toBe(200)
    before = await readStored()
    storeBefore = await dump()
  })
  afterAll(() => vault?.stop())

  // Whatever a test sent, what was stored before is still there, exactly.
  beforeEach(() => {
    NEVER = `never-stored-${NEVER_KEYS.length + 1}`
    NEVER_KEYS.push(NEVER)
  })
  afterEach(async () => {
    expect(await readStored()).toEqual(expectedNow())
  })

  it('starts from stored secrets with their history, and keys that were never stored', () => {
    const summary = before.map(({ path, status, history }) => ({
      path,
      status,
      history: history.status === 200 ? (history.body as { events: Array<{ type: string }> }).events.map((e) => e.type) : history.status,
    }))
    const lives = { [KEY]: ['SecretCreated', 'SecretUpdated'], [SECOND]: ['SecretCreated', 'SecretDeleted', 'SecretCreated'] }
    expect(summary).toEqual([
      ...STORED_PATHS.map((path) => ({ path, status: 200, history: path.endsWith(KEY) ? lives[KEY] : lives[SECOND] })),
      ...neverPaths(FIRST_NEVER).map((path) => ({ path, status: 404, history: 404 })),
    ])
    expect(before[0].body).toEqual(expect.objectContaining({ id: KEY, secret: { user: 'first', pwd: 'two' } }))
  })

  describe('keys and organization ids in the path', () => {
    it.each(badSegments(KEY))('refuses a key %s in every secret route with 400', async (_label, segment) => {
      await expectRefused(
        NAMESPACES.flatMap((ns) => [
          attempt('GET', `${ns}/${segment}`),
          attemptJson('POST', `${ns}/${segment}`, json(updateBody())),
          attempt('DELETE', `${ns}/${segment}`),
          attempt('GET', `${ns}/${segment}/history`),
        ]),
        400,
      )
    })

    it.each(badSegments(ORG))('refuses an organization id %s in every organization route with 400', async (_label, segment) => {
      const base = `/organizations/${segment}`
      await expectRefused(
        [
          attemptJson('POST', base, json(createBody(NEVER))),
          attemptJson('POST', base, json(createBody(KEY))),
          attempt('GET', `${base}/${KEY}`),
          attemptJson('POST', `${base}/${KEY}`, json(updateBody())),
          attempt('DELETE', `${base}/${KEY}`),
          attempt('GET', `${base}/${KEY}/history`),
        ],
        400,
      )
    })

    it('refuses an empty key or organization id where the path holds one with 400', async () => {
      await expectRefused(
        [
          attempt('GET', '/secrets//history'),
          attempt('GET', `/organizations/${ORG}//history`),
          attempt('GET', `/organizations//${KEY}`),
          attemptJson('POST', `/organizations//${KEY}`, json(updateBody())),
          attempt('DELETE', `/organizations//${KEY}`),
          attempt('GET', `/organizations//${KEY}/history`),
        ],
        400,
      )
    })

    it('answers an empty key at the end of the path with a 4xx and a message, not a 5xx', async () => {
      // "/secrets/" is also the collection's own path, so the contract pins no single status here.
      // A GET of it is the listing since issue #16 (test/integration/listing-tags.test.ts).
      await expectClientError([
        attempt('DELETE', '/secrets/'),
        attempt('DELETE', `/organizations/${ORG}/`),
        attemptJson('POST', '/organizations/', json(createBody(NEVER))),
      ])
    })
  })

  describe('keys and organization ids in a create body', () => {
    it.each(BAD_BODY_KEYS)('refuses to create a secret with a key %s with 400', async (_label, key) => {
      await expectRefused(NAMESPACES.map((ns) => attemptJson('POST', ns, json(createBody(key)))), 400)
    })

    it('refuses an organizationId in a standard secret body with 400', async () => {
      await expectRefused(
        [KEY, NEVER].map((key) => attemptJson('POST', '/secrets', json(createBody(key, { organizationId: ORG })))),
        400,
      )
    })

    it.each([
      ['names another organization', 'another-org'],
      ['is not a valid organization id', `-${ORG}`],
      ['is empty', ''],
      ['is a number', 42],
      ['is null', null],
    ] as const)('refuses an organizationId in an organization secret body that %s with 400', async (_label, organizationId) => {
      await expectRefused(
        [KEY, NEVER].map((key) => attemptJson('POST', `/organizations/${ORG}`, json(createBody(key, { organizationId })))),
        400,
      )
    })
  })

  describe('the secret value', () => {
    it.each(NOT_AN_OBJECT)('refuses a secret that is %s, on create and on update, with 400', async (_label, value) => {
      await expectRefused(
        NAMESPACES.flatMap((ns) => [
          attemptJson('POST', ns, json({ key: NEVER, secret: value() })),
          attemptJson('POST', ns, json({ key: KEY, secret: value() })),
          attemptJson('POST', `${ns}/${KEY}`, json({ secret: value() })),
          attemptJson('POST', `${ns}/${KEY}`, json({ secret: value(), description: 'changed' })),
        ]),
        400,
      )
    })

    it.each(BAD_SECRETS)('refuses a secret %s, on create and on update, with 400', async (_label, value) => {
      await expectRefused(
        NAMESPACES.flatMap((ns) => [
          attemptJson('POST', ns, json({ key: NEVER, secret: value() })),
          attemptJson('POST', ns, json({ key: KEY, secret: value() })),
          attemptJson('POST', `${ns}/${KEY}`, json({ secret: value() })),
          attemptJson('POST', `${ns}/${SECOND}`, json({ secret: value(), description: 'changed' })),
        ]),
        400,
      )
    })
  })

  describe('the description', () => {
    it.each(BAD_DESCRIPTIONS)('refuses a description that is %s, on create and on update, with 400', async (_label, description) => {
      await expectRefused(
        NAMESPACES.flatMap((ns) => [
          attemptJson('POST', ns, json(createBody(NEVER, { description: description() }))),
          attemptJson('POST', ns, json(createBody(KEY, { description: description() }))),
          // A good new secret with a bad description: the value must not change either.
          attemptJson('POST', `${ns}/${KEY}`, json(updateBody({ description: description() }))),
          attemptJson('POST', `${ns}/${SECOND}`, json(updateBody({ description: description() }))),
        ]),
        400,
      )
    })

    it('refuses an update of the description alone, or of nothing, with 400', async () => {
      await expectRefused(
        NAMESPACES.flatMap((ns) => [
          attemptJson('POST', `${ns}/${KEY}`, json({ description: 'a new description' })),
          attemptJson('POST', `${ns}/${SECOND}`, json({ description: 'a first description' })),
          attemptJson('POST', `${ns}/${KEY}`, json({})),
        ]),
        400,
      )
    })
  })

  describe('the body as a whole', () => {
    it.each(UNKNOWN_CREATE_FIELDS)('refuses a create body with %s with 400', async (_label, body) => {
      await expectRefused(
        NAMESPACES.flatMap((ns) => [attemptJson('POST', ns, body(NEVER)), attemptJson('POST', ns, body(KEY))]),
        400,
      )
    })

    it.each(UNKNOWN_UPDATE_FIELDS)('refuses an update body with %s with 400', async (_label, body) => {
      await expectRefused(NAMESPACES.map((ns) => attemptJson('POST', `${ns}/${KEY}`, body())), 400)
    })

    it.each(NOT_JSON_OBJECTS)('refuses a body that is not a JSON object (%s) with 400', async (_label, body) => {
      await expectRefused(
        [
          ...NAMESPACES.flatMap((ns) => [
            attemptJson('POST', ns, body(createBody(NEVER))),
            attemptJson('POST', `${ns}/${KEY}`, body(updateBody())),
          ]),
          attemptJson('POST', '/clients', body({ name: 'spoiled' })),
        ],
        400,
      )
    })

    it('refuses a JSON body that is not UTF-8 with 400, rather than storing a changed value', async () => {
      // RFC 8259 8.1: JSON exchanged between systems MUST be UTF-8. Reading these bytes as
      // something else would store a secret other than the one the client holds.
      const target = `/secrets/${BYTES_TARGET}`
      const stored = await readPaths([target])
      await expectRefused(
        [
          ...NAMESPACES.map((ns) => attemptJson('POST', ns, notUtf8((pwd) => ({ key: NEVER, secret: { pwd } })))),
          attemptJson('POST', target, notUtf8((pwd) => ({ secret: { pwd } }))),
          attemptJson('POST', '/clients', notUtf8((name) => ({ name }), 'a client named caf')),
        ],
        400,
      )
      expect(await readPaths([target])).toEqual(stored)
    })

    it.each(WRONG_CONTENT_TYPES)('refuses a good JSON body whose Content-Type is %s with 400', async (_label, contentType) => {
      const headers = withContentType(contentType)
      await expectRefused(
        [
          ...NAMESPACES.flatMap((ns) => [
            attempt('POST', ns, { headers, body: json(createBody(NEVER)) }),
            attempt('POST', `${ns}/${KEY}`, { headers, body: json(updateBody()) }),
          ]),
          attempt('POST', '/clients', { headers, body: json({ name: 'wrong content type' }) }),
        ],
        400,
      )
    })

    it('refuses a body over 128 KiB with 413', async () => {
      const huge = () => json(createBody(NEVER, { secret: { blob: `${marker('huge')}${'x'.repeat(129 * KiB)}` } }))
      const hugeUpdate = () => json({ secret: { blob: `${marker('huge-update')}${'x'.repeat(129 * KiB)}` } })
      await expectRefused(
        [
          ...NAMESPACES.flatMap((ns) => [attemptJson('POST', ns, huge()), attemptJson('POST', `${ns}/${KEY}`, hugeUpdate())]),
          attemptJson('POST', '/clients', json({ name: `${marker('huge-client')}${'x'.repeat(129 * KiB)}` })),
        ],
        413,
      )
    })

    it('refuses a chunked body over 128 KiB, which has no Content-Length, with 413', async () => {
      const body = Buffer.from(json(createBody(NEVER, { secret: { blob: `${marker('chunked')}${'x'.repeat(130 * KiB)}` } })))
      const chunks = Array.from({ length: Math.ceil(body.length / (16 * KiB)) }, (_, i) => body.subarray(i * 16 * KiB, (i + 1) * 16 * KiB))
      await expectRefused(
        NAMESPACES.map((ns) => ({
          label: `POST ${ns} (chunked)`,
          send: () => send('POST', ns, { headers: { 'content-type': 'application/json' }, chunks }),
        })),
        413,
      )
    })

    it('answers 413 one byte past 128 KiB, and 400 (the secret is too big) at exactly 128 KiB', async () => {
      const ofLength = (bytes: number) => {
        const value = marker('exact')
        const frame = json({ key: NEVER, secret: { blob: value } })
        return frame.replace(value, `${value}${'x'.repeat(bytes - frame.length)}`)
      }
      expect(Buffer.byteLength(ofLength(128 * KiB))).toBe(128 * KiB)
      await expectRefused([attemptJson('POST', '/secrets', ofLength(128 * KiB + 1))], 413)
      await expectRefused([attemptJson('POST', '/secrets', ofLength(128 * KiB))], 400)
    })
  })

  describe('clients and tokens', () => {
    it.each([
      ['no name', {}],
      ['a name that is a number', { name: 42 }],
      ['a name that is null', { name: null }],
      ['a name that is an object', { name: { first: 'x' } }],
      ['organizations that are not an array', { name: 'c', organizations: ORG }],
      ['organizations that are an object', { name: 'c', organizations: { [ORG]: true } }],
      ['an organization id starting with "-"', { name: 'c', organizations: [`-${ORG}`] }],
      ['an organization id ".."', { name: 'c', organizations: ['..'] }],
      ['an organization id with a slash', { name: 'c', organizations: [`${ORG}/x`] }],
      ['an empty organization id', { name: 'c', organizations: [''] }],
      ['an organization id of 257 characters', { name: 'c', organizations: ['o'.repeat(257)] }],
      ['an organization id with NUL', { name: 'c', organizations: [`${ORG}\u0000`] }],
      ['an organization id that is a number', { name: 'c', organizations: [42] }],
      ['an organization id that is null', { name: 'c', organizations: [null] }],
      ['"secrets" that is a string', { name: 'c', secrets: 'true' }],
      ['"secrets" that is a number', { name: 'c', secrets: 1 }],
      ['"secrets" that is null', { name: 'c', secrets: null }],
      ['"admin" that is a string', { name: 'c', admin: 'yes' }],
      ['"admin" that is a number', { name: 'c', admin: 1 }],
      ['an unknown field', { name: 'c', clientSecret: 'chosen-by-the-caller' }],
    ] as const)('refuses a new client with %s with 400', async (_label, body) => {
      await expectRefused([attemptJson('POST', '/clients', json(body))], 400)
    })

    const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()
    const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
    const unknownClient = { grant_type: 'client_credentials', client_id: 'no-such-client', client_secret: 'nothing' }

    it.each([
      ['a JSON body', { 'content-type': 'application/json' }, json(unknownClient)],
      ['a text/plain body', { 'content-type': 'text/plain' }, form(unknownClient)],
      ['no Content-Type', {}, form(unknownClient)],
      ['no grant_type', FORM, form({ client_id: 'no-such-client', client_secret: 'nothing' })],
      ['grant_type=password', FORM, form({ ...unknownClient, grant_type: 'password' })],
      ['an empty body', FORM, ''],
    ] as const)('refuses a token request with %s with 400', async (_label, headers, body) => {
      await expectRefused([attempt('POST', '/oauth/token', { token: null, headers, body })], 400)
    })

    const basic = (credentials: string) => ({ authorization: `Basic ${Buffer.from(credentials).toString('base64')}` })
    const grantOnly = form({ grant_type: 'client_credentials' })

    it.each([
      ['an unknown client', {}, form(unknownClient)],
      ['no client credentials', {}, grantOnly],
      ['a Basic header that is not base64 of "id:secret"', { authorization: 'Basic !!!not-base64!!!' }, grantOnly],
      ['a Basic header with no colon', basic('no-colon'), grantOnly],
      ['a Basic header with malformed percent-encoding', basic('%E0%A4%A:x'), grantOnly],
      ['an unknown client in a Basic header', basic('no-such-client:nothing'), grantOnly],
    ] as const)('refuses a token request from %s with 401', async (_label, headers, body) => {
      await expectRefused([attempt('POST', '/oauth/token', { token: null, headers: { ...FORM, ...headers }, body })], 401)
    })

    it('answers odd token requests with a 4xx and a message, not a 5xx', async () => {
      const tokenRequest = (body: string, headers: Record<string, string> = FORM) =>
        attempt('POST', '/oauth/token', { token: null, headers, body })
      await expectClientError([
        tokenRequest('%E0%A4%A=1&grant_type=client_credentials&client_id=x&client_secret=y'),
        tokenRequest(`${form(unknownClient)}&${Array.from({ length: 100 }, (_, i) => `p${i}=1`).join('&')}`),
        tokenRequest(`${form(unknownClient)}&pad=${'x'.repeat(200 * KiB)}`),
        tokenRequest(form(unknownClient), { ...FORM, 'content-encoding': 'gzip' }),
        tokenRequest(form(unknownClient), { 'content-type': 'application/x-www-form-urlencoded; charset=utf-16' }),
      ])
    })
  })

  describe('anything else a client can send', () => {
    it('answers unknown routes and unsupported methods with a 4xx and a JSON message', async () => {
      const update = json(updateBody())
      await expectClientError([
        attemptJson('PUT', `/secrets/${KEY}`, update),
        attemptJson('PATCH', `/secrets/${KEY}`, update),
        attemptJson('PUT', `/organizations/${ORG}/${KEY}`, update),
        attemptJson('PATCH', `/organizations/${ORG}/${KEY}`, update),
        attemptJson('PUT', '/secrets', json(createBody(NEVER))),
        attemptJson('PATCH', '/secrets', json(createBody(NEVER))),
        // GET /secrets and GET /organizations/{id} list since issue #16 (listing-tags.test.ts).
        attempt('DELETE', '/secrets'),
        attempt('GET', '/organizations'),
        attemptJson('POST', '/organizations', json(createBody(NEVER))),
        attempt('DELETE', `/organizations/${ORG}`),
        attemptJson('POST', `/secrets/${KEY}/history`, update),
        attempt('DELETE', `/secrets/${KEY}/history`),
        attempt('GET', `/secrets/${KEY}/history/more`),
        attempt('GET', `/secrets/${KEY}/versions`),
        attempt('TRACE', `/secrets/${KEY}`),
        attempt('GET', '/'),
        attempt('GET', '/no-such-route'),
        attempt('GET', '/.env'),
        attempt('GET', '/../../etc/passwd'),
        attempt('GET', '/%2e%2e/%2e%2e/etc/passwd'),
        attempt('GET', '/secrets/..%2F..%2Fetc%2Fpasswd'),
        attempt('GET', '/clients'),
        attempt('DELETE', '/clients'),
        attempt('GET', '/oauth/token', { token: null }),
        attempt('DELETE', '/health', { token: null }),
      ])
    })

    it('answers a very long path with 400 when it reads as a key, and a 4xx at any length', async () => {
      await expectRefused([attempt('GET', `/secrets/${'k'.repeat(12 * KiB)}`)], 400)
      await expectTurnedAway([attempt('GET', `/secrets/${'k'.repeat(100 * KiB)}`), attempt('GET', `/${'a/'.repeat(50 * KiB)}`)])
    })

    it('answers huge or odd headers, or an unknown method, with a 4xx, not a 5xx', async () => {
      await expectTurnedAway([
        attempt('GET', `/secrets/${KEY}`, { headers: { 'x-filler': 'x'.repeat(64 * KiB) } }),
        attempt('GET', `/secrets/${KEY}`, { headers: { authorization: `Bearer ${'a'.repeat(64 * KiB)}` } }),
        attempt('GET', `/secrets/${KEY}`, {
          headers: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`x-header-${i}`, 'value'])),
        }),
        attempt('FOO', `/secrets/${KEY}`),
      ])
      await expectRefused(
        [
          attempt('GET', `/secrets/${KEY}`, { headers: { authorization: `Bearer ${'a'.repeat(8 * KiB)}` } }),
          attempt('GET', `/secrets/${KEY}`, { headers: { authorization: 'Bearer \u00e9\u00ff' } }),
          attempt('GET', `/secrets/${KEY}`, { headers: { authorization: `Basic ${Buffer.from(':').toString('base64')}` } }),
          attempt('GET', `/secrets/${KEY}`, { headers: { authorization: 'Bearer' } }),
        ],
        401,
      )
    })

    it('answers JSON even to a client that asks for HTML', async () => {
      await expectRefused([attempt('GET', `/secrets/-${KEY}`, { headers: { accept: 'text/html' } })], 400)
      await expectRefused(
        [attemptJson('POST', '/secrets', json({ key: NEVER, secret: 'a string' }), { headers: { accept: 'text/html' } })],
        400,
      )
    })

    it('answers bodies it cannot decode with a 4xx and a message, not a 5xx', async () => {
      const body = json(createBody(NEVER))
      await expectClientError(
        NAMESPACES.flatMap((ns) => [
          attempt('POST', ns, { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body }),
          attempt('POST', ns, { headers: { 'content-type': 'application/json', 'content-encoding': 'deflate' }, body }),
          attempt('POST', ns, { headers: { 'content-type': 'application/json', 'content-encoding': 'x-unknown' }, body }),
          attempt('POST', ns, { headers: { 'content-type': 'application/json; charset=utf-16' }, body }),
          attempt('POST', ns, { headers: { 'content-type': 'application/json; charset=no-such-charset' }, body }),
        ]),
      )
    })

    it('answers requests with a query string without a 5xx', async () => {
      const outcomes = await run(
        [
          attempt('GET', `/secrets/${KEY}?x=1&x=2`),
          attempt('GET', `/secrets/${KEY}?__proto__[admin]=true&constructor[prototype][x]=1`),
          attempt('GET', `/secrets/${KEY}/history?%E0%A4%A=%`),
          attempt('GET', `/organizations/${ORG}/${KEY}?organizationId=other&key=${SECOND}`),
          attemptJson('POST', `/secrets?key=${NEVER}`, json({ secret: { pwd: marker('query') } })),
          attemptJson('POST', `/secrets/${KEY}?secret=x`, json({ description: 'only' })),
          attempt('GET', `/secrets/-${KEY}?${'q'.repeat(4 * KiB)}`),
        ],
        false,
      )
      expect(outcomes.map(({ request: label, status, problems }) => ({ request: label, below500: status < 500, problems }))).toEqual(
        outcomes.map(({ request: label }) => ({ request: label, below500: true, problems: [] })),
      )
      // Refused ones are refused the usual way.
      for (const { status, reply } of outcomes) if (status >= 400) expect(problemsOf(reply)).toEqual([])
    })
  })

  describe('after all of it', () => {
    it('still holds every stored secret with the same value, description and history', async () => {
      expect(await readStored()).toEqual(expectedNow())
      expect((await send('GET', `/secrets/${BYTES_TARGET}`)).body.secret).toEqual({ pwd: 'caf\u00e9' })
      const refusedKeys = await readPaths(NEVER_KEYS.flatMap(neverPaths))
      expect(refusedKeys.map(({ path, status, history }) => ({ path, status, history: history.status }))).toEqual(
        refusedKeys.map(({ path }) => ({ path, status: 404, history: 404 })),
      )
      // The same answers through the stock client too.
      const admin = await request(vault.url, 'GET', `/secrets/${KEY}`, { token })
      expect(admin.body.secret).toEqual({ user: 'first', pwd: 'two' })
    })

    it('stored nothing at all for a refused request', async () => {
      const store = await dump()
      const tables = (text: string) => new Map(text.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line]))
      const [then, now] = [tables(storeBefore), tables(store)]
      const changed = [...new Set([...then.keys(), ...now.keys()])].filter((table) => then.get(table) !== now.get(table))
      expect(changed).toEqual([])
      expect(MARKERS.filter((value) => store.includes(value))).toEqual([])
    })

    it('is still healthy, logged no internal error, and logged none of the refused values', async () => {
      expect((await request(vault.url, 'GET', '/health')).status).toBe(200)
      const lines = vault.output().split('\n').filter((line) => line.startsWith('{'))
      const errors = lines.filter((line) => (JSON.parse(line) as { level?: string }).level === 'error')
      expect(errors).toEqual([])
      expect(MARKERS.filter((value) => vault.output().includes(value))).toEqual([])
    })
  })

  describe('the limits themselves', () => {
    // Counterparts of the refusals above: the limits are where the contract puts them, not lower.
    it('accepts a secret nested exactly 32 levels deep', async () => {
      const created = await sendJson('POST', '/secrets', json({ key: 'deep-32', secret: nestedObjects(32, 'leaf') }))
      expect(created.status).toBe(200)
      expect((await send('GET', '/secrets/deep-32')).body.secret).toEqual(nestedObjects(32, 'leaf'))
    })

    it('accepts a secret of exactly 64 KiB of JSON', async () => {
      const frame = json({ blob: '' })
      const secret = { blob: 'x'.repeat(64 * KiB - frame.length) }
      expect(Buffer.byteLength(json(secret))).toBe(64 * KiB)
      expect((await sendJson('POST', '/secrets', json({ key: 'size-64k', secret }))).status).toBe(200)
      expect((await send('GET', '/secrets/size-64k')).body.secret).toEqual(secret)
    })

    it('accepts a description of exactly 2048 characters', async () => {
      const description = 'd'.repeat(2048)
      const created = await sendJson('POST', `/organizations/${ORG}`, json({ key: 'long-description', secret: { a: 1 }, description }))
      expect(created.status).toBe(200)
      expect(created.body.description).toBe(description)
    })
  })
})
