import type { ClientsService, CreatedClient } from '../../../app/clients/clients.service'
import type { KeysAdmin } from '../../../app/keys/keys-admin'
import { createOperations, type Operations } from '../../../app/operations'
import type { Outcome } from '../../../app/outcomes'
import type { SecretRequest } from '../../../app/secret-requests'
import type { SecretListing } from '../../../app/secrets/secret-listing'
import type { SecretTags } from '../../../app/secrets/secret-tags'
import type { ScheduledDeletion } from '../../../app/secrets/scheduled-deletion'
import type { SecretsService } from '../../../app/secrets/secrets.service'
import { SecretAlreadyExistsError, SecretNotFoundError, StoreUnavailableError, UnauthenticatedError } from '../../../common/errors'
import { organizationOf, type ClientId, type JsonObject, type OrganizationId, type Principal, type Scope } from '../../../common/types'

// The operations are under test; what they call is a small in-memory vault that records who
// asked for what, so each spec can say what the operation did and did not let through.
type Stored = { secret: JsonObject; description?: string; actors: string[] }

const inMemoryVault = () => {
  const stored = new Map<string, Stored>()
  const calls: string[] = []
  const name = (scope: Scope, key: string) => `${organizationOf(scope) ?? ''}/${key}`
  const view = (scope: Scope, key: string) => ({ id: key, ern: `ern:vault:dev:${key}`, arn: `arn:${key}`, ...(organizationOf(scope) ? { organizationId: organizationOf(scope) as string } : {}) })
  const secrets: SecretsService = {
    create: async (actor, scope, input) => {
      calls.push(`create ${name(scope, input.key)} by ${actor}`)
      if (stored.has(name(scope, input.key))) throw new SecretAlreadyExistsError()
      stored.set(name(scope, input.key), { secret: input.secret, description: input.description, actors: [actor] })
      return view(scope, input.key)
    },
    get: async (scope, key) => {
      calls.push(`get ${name(scope, key)}`)
      const found = stored.get(name(scope, key))
      if (found === undefined) throw new SecretNotFoundError()
      return { ...view(scope, key), secret: found.secret }
    },
    update: async (actor, scope, key, input) => {
      calls.push(`update ${name(scope, key)} by ${actor}`)
      const found = stored.get(name(scope, key))
      if (found === undefined) throw new SecretNotFoundError()
      stored.set(name(scope, key), { secret: input.secret, description: input.description, actors: [...found.actors, actor] })
      return view(scope, key)
    },
    remove: async (actor, scope, key) => {
      calls.push(`delete ${name(scope, key)} by ${actor}`)
      return stored.delete(name(scope, key)) ? 'deleted' : 'absent'
    },
    history: async (scope, key) => {
      calls.push(`history ${name(scope, key)}`)
      const found = stored.get(name(scope, key))
      if (found === undefined) throw new SecretNotFoundError()
      return found.actors.map((actor, i) => ({ type: i === 0 ? 'SecretCreated' : 'SecretUpdated', version: i + 1, timestamp: 't', actor }))
    },
  }
  const registered: CreatedClient[] = []
  const clients = {
    issueToken: async (clientId: string, clientSecret: string) => {
      if (clientId !== 'EVGOOD' || clientSecret !== 'right') throw new UnauthenticatedError('Invalid client credentials')
      return { access_token: 'token', token_type: 'Bearer' as const, expires_in: 60 }
    },
    create: async (input: Parameters<ClientsService['create']>[0]) => {
      const client = { clientId: 'EVNEW', clientSecret: 'shown-once', ...input }
      registered.push(client)
      return client
    },
  } as unknown as ClientsService
  const keysAdmin: KeysAdmin = {
    report: async () => ({ current: 'k1', keys: [], keyStore: 'files', pendingShreds: { shards: 0, oldestMs: 0 } }),
    rewrap: async () => 3,
  }
  const listing: SecretListing = async (scope, input) => {
    calls.push(`list ${organizationOf(scope) ?? ''} ${input.prefix} ${input.limit}`)
    return { secrets: [] }
  }
  const tags = {
    tag: async (_actor: ClientId, scope: Scope, key: string, added: unknown) => (calls.push(`tag ${name(scope, key)} ${JSON.stringify(added)}`), view(scope, key)),
    untag: async (_actor: ClientId, scope: Scope, key: string, removed: unknown) => (calls.push(`untag ${name(scope, key)} ${JSON.stringify(removed)}`), view(scope, key)),
  } as unknown as SecretTags
  return { stored, calls, registered, operations: createOperations({ secrets, listing, tags, deletion: {} as ScheduledDeletion, clients, keysAdmin }) }
}

const client = (grants: Partial<Principal> = {}): Principal => ({
  clientId: 'EVCLIENT' as ClientId,
  admin: false,
  secrets: false,
  organizations: [],
  ...grants,
})
const ADMIN = client({ clientId: 'EVADMIN' as ClientId, admin: true })
const STANDARD_CLIENT = client({ secrets: true })
const ACME_CLIENT = client({ organizations: ['acme' as OrganizationId] })

/** A function's payload: every field in the body. */
const payload = (namespace: SecretRequest['namespace'], body: unknown): SecretRequest => ({ namespace, body: () => body })
/** A REST request: where the secret is in the path, the rest in a body read on demand. */
const rest = (namespace: SecretRequest['namespace'], address: Record<string, unknown>, body: unknown = {}) => {
  const reads = { count: 0 }
  const request: SecretRequest = { namespace, address, body: async () => (reads.count++, body) }
  return { request, reads }
}

describe('the operations (given a vault, when a door calls, then the outcome)', () => {
  let vault: ReturnType<typeof inMemoryVault>
  let ops: Operations
  beforeEach(() => {
    vault = inMemoryVault()
    ops = vault.operations
  })

  const given = async (principal: Principal, request: SecretRequest): Promise<Outcome> => {
    const outcome = await ops.createSecret(principal, request)
    expect(outcome.kind).toBe('done')
    return outcome
  }

  describe('createSecret', () => {
    it('creates a standard secret from a payload and answers its metadata, acting as the caller', async () => {
      const outcome = await ops.createSecret(STANDARD_CLIENT, payload('standard', { key: 'db', secret: { pass_word: 'p' }, description: 'd' }))
      expect(outcome).toEqual({ kind: 'done', value: { id: 'db', ern: 'ern:vault:dev:db', arn: 'arn:db' } })
      expect(vault.stored.get('/db')).toEqual({ secret: { passWord: 'p' }, description: 'd', actors: ['EVCLIENT'] })
    })

    it('creates an organization secret whose organization the path names, and accepts the body repeating it', async () => {
      const { request } = rest('organization', { organizationId: 'acme' }, { key: 'db', organizationId: 'acme', secret: { a: 1 } })
      expect((await ops.createSecret(ACME_CLIENT, request)).kind).toBe('done')
      expect(vault.stored.has('acme/db')).toBe(true)
    })

    it('refuses a body organizationId that differs from the path as invalid, and stores nothing', async () => {
      const { request } = rest('organization', { organizationId: 'acme' }, { key: 'db', organizationId: 'globex', secret: { a: 1 } })
      expect(await ops.createSecret(ADMIN, request)).toMatchObject({ kind: 'invalid', message: 'organizationId in the body does not match the path' })
      expect(vault.stored.size).toBe(0)
    })

    it('refuses a key that exists already as already-exists, keeping the first value', async () => {
      await given(STANDARD_CLIENT, payload('standard', { key: 'db', secret: { v: 1 } }))
      expect(await ops.createSecret(STANDARD_CLIENT, payload('standard', { key: 'db', secret: { v: 2 } }))).toMatchObject({ kind: 'already-exists' })
      expect(vault.stored.get('/db')?.secret).toEqual({ v: 1 })
    })

    it.each([
      ['no key', { secret: { a: 1 } }],
      ['a bad key', { key: '-db', secret: { a: 1 } }],
      ['no secret', { key: 'db' }],
      ['a secret that is not an object', { key: 'db', secret: 'text' }],
      ['an unknown field', { key: 'db', secret: { a: 1 }, extra: 1 }],
      ['an organizationId in a standard payload', { key: 'db', secret: { a: 1 }, organizationId: 'acme' }],
    ])('refuses a payload with %s as invalid, and stores nothing', async (_label, body) => {
      expect(await ops.createSecret(STANDARD_CLIENT, payload('standard', body))).toMatchObject({ kind: 'invalid' })
      expect(vault.calls).toEqual([])
    })

    it('refuses a payload that is not a JSON object as invalid', async () => {
      expect(await ops.createSecret(STANDARD_CLIENT, payload('standard', [1]))).toEqual({ kind: 'invalid', message: 'The payload must be a JSON object' })
    })
  })

  describe('the scope rules, the same for every operation', () => {
    it.each(['createSecret', 'updateSecret', 'deleteSecret', 'secretHistory', 'getSecret'] as const)(
      '%s: refuses a client without the grant as forbidden before its body is read',
      async (name) => {
        const { request, reads } = rest('organization', { organizationId: 'globex', key: 'db' }, { key: 'db', secret: { a: 1 } })
        expect(await ops[name](ACME_CLIENT, request)).toMatchObject({ kind: 'forbidden', message: "This client may not use this organization's secrets" })
        expect(reads.count).toBe(0)
        expect(vault.calls).toEqual([])
      },
    )

    it('refuses an organization client standard secrets, and a standard client an organization', async () => {
      expect(await ops.getSecret(ACME_CLIENT, payload('standard', { key: 'db' }))).toMatchObject({ kind: 'forbidden' })
      expect(await ops.getSecret(STANDARD_CLIENT, payload('organization', { key: 'db', organizationId: 'acme' }))).toMatchObject({ kind: 'forbidden' })
    })

    it('judges a bad organization id (invalid) before the grant, and a bad key only after it (forbidden)', async () => {
      expect(await ops.getSecret(ACME_CLIENT, rest('organization', { organizationId: '-acme', key: 'db' }).request)).toMatchObject({ kind: 'invalid' })
      expect(await ops.getSecret(ACME_CLIENT, rest('standard', { key: '-bad' }).request)).toMatchObject({ kind: 'forbidden' })
      expect(await ops.getSecret(ACME_CLIENT, rest('organization', { organizationId: 'acme', key: '-bad' }).request)).toMatchObject({ kind: 'invalid' })
    })

    it('requires the organizationId of an organization payload', async () => {
      expect(await ops.getSecret(ADMIN, payload('organization', { key: 'db' }))).toEqual({ kind: 'invalid', message: 'organizationId is required' })
    })

    it('lets an admin use every namespace', async () => {
      await given(ADMIN, payload('organization', { key: 'db', organizationId: 'globex', secret: { a: 1 } }))
      await given(ADMIN, payload('standard', { key: 'db', secret: { a: 2 } }))
      expect(await ops.getSecret(ADMIN, payload('organization', { key: 'db', organizationId: 'globex' }))).toMatchObject({ kind: 'done', value: { secret: { a: 1 } } })
    })
  })

  describe('updateSecret', () => {
    it('replaces the value of a stored secret, acting as the caller', async () => {
      await given(ADMIN, payload('standard', { key: 'db', secret: { v: 1 } }))
      const { request } = rest('standard', { key: 'db' }, { secret: { v: 2 } })
      expect((await ops.updateSecret(STANDARD_CLIENT, request)).kind).toBe('done')
      expect(vault.stored.get('/db')).toMatchObject({ secret: { v: 2 }, actors: ['EVADMIN', 'EVCLIENT'] })
    })

    it.each([
      ['a key (the path names it)', { key: 'db', secret: { v: 2 } }],
      ['an organizationId', { organizationId: 'acme', secret: { v: 2 } }],
      ['a description alone', { description: 'new' }],
    ])('refuses a REST body with %s as invalid, and changes nothing', async (_label, body) => {
      await given(ADMIN, payload('organization', { key: 'db', organizationId: 'acme', secret: { v: 1 } }))
      const { request } = rest('organization', { organizationId: 'acme', key: 'db' }, body)
      expect(await ops.updateSecret(ADMIN, request)).toMatchObject({ kind: 'invalid' })
      expect(vault.stored.get('acme/db')?.secret).toEqual({ v: 1 })
    })

    it('takes the key from a function payload, and answers not-found for a secret never stored', async () => {
      expect(await ops.updateSecret(STANDARD_CLIENT, payload('standard', { key: 'nope', secret: { v: 2 } }))).toEqual({ kind: 'not-found', message: 'Secret not found' })
    })
  })

  describe('deleteSecret', () => {
    it('answers deleted when the secret existed, then absent: either way it is gone', async () => {
      await given(STANDARD_CLIENT, payload('standard', { key: 'db', secret: { v: 1 } }))
      expect(await ops.deleteSecret(STANDARD_CLIENT, rest('standard', { key: 'db' }).request)).toEqual({ kind: 'deleted' })
      expect(await ops.deleteSecret(STANDARD_CLIENT, rest('standard', { key: 'db' }).request)).toEqual({ kind: 'absent' })
      expect(vault.stored.size).toBe(0)
    })

    it('reads no body at all', async () => {
      const { request, reads } = rest('standard', { key: 'db' }, { anything: true })
      await ops.deleteSecret(STANDARD_CLIENT, request)
      expect(reads.count).toBe(0)
    })
  })

  describe('secretHistory', () => {
    it('answers the events of a secret, naming who did what', async () => {
      await given(ADMIN, payload('standard', { key: 'db', secret: { v: 1 } }))
      await ops.updateSecret(STANDARD_CLIENT, payload('standard', { key: 'db', secret: { v: 2 } }))
      const outcome = await ops.secretHistory(STANDARD_CLIENT, rest('standard', { key: 'db' }).request)
      expect(outcome).toMatchObject({ kind: 'done', value: { events: [{ actor: 'EVADMIN' }, { actor: 'EVCLIENT' }] } })
    })
  })

  describe('refusals from below', () => {
    it('answers an unreachable store as unavailable, and an unexpected error as internal without its text', async () => {
      const failing = createOperations({
        secrets: { get: async () => { throw new StoreUnavailableError() } } as unknown as SecretsService,
        listing: (async () => ({ secrets: [] })) as SecretListing,
        tags: {} as SecretTags,
        deletion: {} as ScheduledDeletion,
        clients: {} as ClientsService,
        keysAdmin: {} as KeysAdmin,
      })
      expect(await failing.getSecret(ADMIN, payload('standard', { key: 'db' }))).toMatchObject({ kind: 'unavailable' })
      const broken = createOperations({
        secrets: { get: async () => { throw new Error('SELECT secret FROM x WHERE password = hunter2') } } as unknown as SecretsService,
        listing: (async () => ({ secrets: [] })) as SecretListing,
        tags: {} as SecretTags,
        deletion: {} as ScheduledDeletion,
        clients: {} as ClientsService,
        keysAdmin: {} as KeysAdmin,
      })
      const outcome = await broken.getSecret(ADMIN, payload('standard', { key: 'db' }))
      expect(outcome).toMatchObject({ kind: 'internal', message: 'Internal error' })
      expect(JSON.stringify(outcome)).not.toContain('hunter2')
    })

    it('hands a door its own body error untouched, for the door to answer', async () => {
      const doorError = new Error('body too large')
      const request: SecretRequest = { namespace: 'standard', address: {}, body: async () => { throw doorError } }
      await expect(ops.createSecret(STANDARD_CLIENT, request)).rejects.toBe(doorError)
    })
  })

  describe('listSecrets, tagSecret, untagSecret', () => {
    it('lists a namespace the caller may use, with its query, and refuses another namespace before reading the query', async () => {
      expect(await ops.listSecrets(ACME_CLIENT, rest('organization', { organizationId: 'acme' }, { prefix: 'db', limit: '5' }).request)).toEqual({ kind: 'done', value: { secrets: [] } })
      const { request, reads } = rest('standard', {}, { limit: '5' })
      expect(await ops.listSecrets(ACME_CLIENT, request)).toMatchObject({ kind: 'forbidden' })
      expect(reads.count).toBe(0)
      expect(vault.calls).toEqual(['list acme db 5'])
    })

    it.each([
      ['limit 0', { limit: '0' }],
      ['limit 101', { limit: '101' }],
      ['limit that is not a number', { limit: 'ten' }],
      ['an unknown parameter', { sort: 'key' }],
      ['a tag without a value separator', { tag: 'env' }],
      ['an empty nextToken', { nextToken: '' }],
    ])('refuses a listing with %s as invalid', async (_label, query) => {
      expect(await ops.listSecrets(STANDARD_CLIENT, rest('standard', {}, query).request)).toMatchObject({ kind: 'invalid' })
      expect(vault.calls).toEqual([])
    })

    it('tags and untags a secret the caller may use; refuses bad tags as invalid', async () => {
      expect((await ops.tagSecret(STANDARD_CLIENT, rest('standard', { key: 'db' }, { tags: [{ key: 'env', value: 'prod' }] }).request)).kind).toBe('done')
      expect((await ops.untagSecret(STANDARD_CLIENT, rest('standard', { key: 'db' }, { tagKeys: ['env'] }).request)).kind).toBe('done')
      for (const tags of [[], [{ key: 'aws:x', value: 'v' }], [{ key: 'a', value: 'v' }, { key: 'a', value: 'w' }], [{ key: 'a' }], 'env=prod']) {
        expect(await ops.tagSecret(STANDARD_CLIENT, rest('standard', { key: 'db' }, { tags }).request)).toMatchObject({ kind: 'invalid' })
      }
      expect(vault.calls).toEqual(['tag /db [{"key":"env","value":"prod"}]', 'untag /db ["env"]'])
    })
  })

  describe('clients and keys', () => {
    it('issues a token for the right credentials, and answers unauthenticated for wrong ones', async () => {
      expect(await ops.issueToken('EVGOOD', 'right')).toMatchObject({ kind: 'done', value: { token_type: 'Bearer' } })
      expect(await ops.issueToken('EVGOOD', 'wrong')).toEqual({ kind: 'unauthenticated', message: 'Invalid client credentials' })
    })

    it('registers a client for an admin (created), and refuses anyone else before reading the body', async () => {
      expect(await ops.registerClient(ADMIN, () => ({ name: 'svc', secrets: true }))).toMatchObject({ kind: 'created', value: { clientId: 'EVNEW', secrets: true } })
      let read = false
      expect(await ops.registerClient(STANDARD_CLIENT, () => ((read = true), { name: 'x' }))).toEqual({ kind: 'forbidden', message: 'Only admin clients may manage clients' })
      expect(read).toBe(false)
      expect(vault.registered).toHaveLength(1)
    })

    it('refuses a client registration body with a bad name as invalid', async () => {
      expect(await ops.registerClient(ADMIN, () => ({ name: '' }))).toMatchObject({ kind: 'invalid' })
      expect(vault.registered).toHaveLength(0)
    })

    it('reports and rewraps keys for admins only', async () => {
      expect(await ops.keysReport(ADMIN, () => undefined)).toMatchObject({ kind: 'done', value: { current: 'k1' } })
      expect(await ops.rewrapKeys(ADMIN, () => undefined)).toEqual({ kind: 'done', value: { rewrapped: 3 } })
      expect(await ops.keysReport(STANDARD_CLIENT, () => undefined)).toEqual({ kind: 'forbidden', message: 'Only admin clients may manage keys' })
    })
  })
})
