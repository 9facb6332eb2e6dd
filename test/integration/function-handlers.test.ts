import crypto from 'node:crypto'
import fc from 'fast-check'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { SecretsService } from '../../app/secrets/secrets.service'
import { coreSettings, openVaultCore, type VaultCore } from '../../compose'
import { loadConfig } from '../../config'
import { createLogger } from '../../lib/logger'
import { STANDARD, organizationScope, type ClientId, type OrganizationId, type Principal } from '../../common/types'
import { closeLambdaRuntime } from '../../api/lambda/deploy/container'
import { createFunctionHandlers, type FunctionHandler } from '../../api/lambda/handlers'
import { handler as createSecret } from '../../api/lambda/deploy/create-secret'
import { handler as getSecret } from '../../api/lambda/deploy/get-secret'
import { handler as updateSecret } from '../../api/lambda/deploy/update-secret'
import { handler as deleteSecret } from '../../api/lambda/deploy/delete-secret'
import { handler as createOrganizationSecret } from '../../api/lambda/deploy/create-organization-secret'
import { handler as getOrganizationSecret } from '../../api/lambda/deploy/get-organization-secret'
import { handler as updateOrganizationSecret } from '../../api/lambda/deploy/update-organization-secret'
import { handler as deleteOrganizationSecret } from '../../api/lambda/deploy/delete-organization-secret'
import type { FunctionId } from '../../api/lambda/function-names'
import { connectionFromUrl } from '../../store/connection'
import { createServerDatabase } from '../helpers/backends'

// The handlers need a real PostgreSQL (the test server); without one these tests are skipped, loudly.
const withServer = process.env.TEST_DATABASE_URL ? describe : describe.skip

const MASTER_KEY = crypto.randomBytes(32)
const quiet = createLogger('error', () => undefined)

/** What AWS Lambda hands a handler besides the payload. */
const contextOf = (functionName: string) => ({ functionName, awsRequestId: crypto.randomUUID(), getRemainingTimeInMillis: () => 3000 })

const principal = (clientId: string, grants: Partial<Principal>): Principal => ({
  clientId: clientId as ClientId,
  admin: false,
  secrets: false,
  organizations: [],
  ...grants,
})

withServer('the functions, called as AWS Lambda calls them', () => {
  let store: VaultCore
  let service: SecretsService

  beforeAll(async () => {
    const databaseUrl = await createServerDatabase()
    // Exactly what a deployed function reads from its environment.
    process.env.DATABASE_URL = databaseUrl
    process.env.VAULT_MASTER_KEY = MASTER_KEY.toString('base64')
    process.env.VAULT_ENV = 'dev'
    process.env.LOG_LEVEL = 'error'
    process.env.VAULT_KEYSTORE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-fn-keys-'))
    store = await openVaultCore(coreSettings(loadConfig(), connectionFromUrl(databaseUrl), MASTER_KEY, false), quiet)
    service = store.secrets
  })
  afterAll(async () => {
    await closeLambdaRuntime()
    await store?.close()
  })

  describe('deployed on their own (the exported `handler` of each file)', () => {
    it('takes a standard secret through its whole life, with the guide bodies and status codes', async () => {
      const created = await createSecret(
        { key: 'svc-db', secret: { User_Name: 'svc', 'pass-word': 'lambda-pass-1' }, description: 'Credentials for my service.' },
        contextOf('vault-dev-create-secret'),
      )
      expect(created).toEqual({
        id: 'svc-db',
        description: 'Credentials for my service.',
        ern: 'ern:vault:dev:svc-db',
        arn: expect.stringMatching(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:svc-db-[A-Za-z0-9]{6}$/),
        statusCode: 200,
      })
      expect(JSON.stringify(created)).not.toContain('lambda-pass-1')

      expect(await getSecret({ key: 'svc-db' }, contextOf('vault-dev-get-secret'))).toEqual({
        id: 'svc-db',
        ern: 'ern:vault:dev:svc-db',
        arn: created.arn,
        secret: { userName: 'svc', passWord: 'lambda-pass-1' },
        statusCode: 200,
      })

      const updated = await updateSecret({ key: 'svc-db', secret: { pwd: 'lambda-pass-2' }, description: 'rotated' }, contextOf('vault-dev-update-secret'))
      expect(updated).toEqual({ ...created, description: 'rotated' })
      expect((await getSecret({ key: 'svc-db' }, contextOf('vault-dev-get-secret'))).secret).toEqual({ pwd: 'lambda-pass-2' })

      expect(await deleteSecret({ key: 'svc-db' }, contextOf('vault-dev-delete-secret'))).toEqual({ statusCode: 204 })
      expect(await deleteSecret({ key: 'svc-db' }, contextOf('vault-dev-delete-secret'))).toEqual({ statusCode: 205 })
      expect(await getSecret({ key: 'svc-db' }, contextOf('vault-dev-get-secret'))).toEqual({ statusCode: 404, message: 'Secret not found' })
    })

    it('takes an organization secret through its whole life, the organization named in the payload', async () => {
      const created = await createOrganizationSecret(
        { key: 'erp', organizationId: 'acme', secret: { clientID: 'c', clientSecret: 'org-lambda-pass' } },
        contextOf('vault-dev-create-organization-secret'),
      )
      expect(created).toEqual({
        id: 'erp',
        organizationId: 'acme',
        ern: 'ern:vault:dev:acme:erp',
        arn: expect.stringMatching(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:acme\/erp-[A-Za-z0-9]{6}$/),
        statusCode: 200,
      })
      const read = await getOrganizationSecret({ key: 'erp', organizationId: 'acme' }, contextOf('vault-dev-get-organization-secret'))
      expect(read).toMatchObject({ organizationId: 'acme', secret: { clientId: 'c', clientSecret: 'org-lambda-pass' }, statusCode: 200 })
      // The same key in another organization, or as a standard secret, is another secret.
      expect(await getOrganizationSecret({ key: 'erp', organizationId: 'other' }, contextOf('x'))).toMatchObject({ statusCode: 404 })
      expect(await getSecret({ key: 'erp' }, contextOf('x'))).toMatchObject({ statusCode: 404 })

      const updated = await updateOrganizationSecret(
        { key: 'erp', organizationId: 'acme', secret: { clientSecret: 'rotated' } },
        contextOf('vault-dev-update-organization-secret'),
      )
      expect(updated).toEqual(created)
      expect(await deleteOrganizationSecret({ key: 'erp', organizationId: 'acme' }, contextOf('x'))).toEqual({ statusCode: 204 })
      expect(await getOrganizationSecret({ key: 'erp', organizationId: 'acme' }, contextOf('x'))).toMatchObject({ statusCode: 404 })
    })

    it('records the function as the actor of every change it makes', async () => {
      await createSecret({ key: 'audited', secret: { a: '1' } }, contextOf('vault-dev-create-secret'))
      await updateSecret({ key: 'audited', secret: { a: '2' } }, contextOf('vault-dev-update-secret'))
      await deleteSecret({ key: 'audited' }, contextOf('vault-dev-delete-secret'))
      const history = await service.history(STANDARD, 'audited' as never)
      expect(history.map(({ type, actor }) => ({ type, actor }))).toEqual([
        { type: 'SecretCreated', actor: 'vault-dev-create-secret' },
        { type: 'SecretUpdated', actor: 'vault-dev-update-secret' },
        { type: 'SecretDeleted', actor: 'vault-dev-delete-secret' },
      ])
    })

    it('answers 400 with a message when the payload misses a required field or has a wrong one', async () => {
      const cases: Array<[(event: unknown) => Promise<{ statusCode: number }>, unknown]> = [
        [createSecret, { secret: { a: 1 } }],
        [createSecret, { key: 'no-secret' }],
        [createSecret, { key: 'string-secret', secret: 'a-password' }],
        [createSecret, { key: 'x', secret: { a: 1 }, unexpected: true }],
        [getSecret, {}],
        [getSecret, { key: '' }],
        [getSecret, { key: 'has space' }],
        [updateSecret, { key: 'svc-db' }],
        [updateSecret, { secret: { a: 1 } }],
        [deleteSecret, {}],
        [createOrganizationSecret, { key: 'k', secret: { a: 1 } }],
        [getOrganizationSecret, { key: 'k' }],
        [getOrganizationSecret, { organizationId: 'acme' }],
        [updateOrganizationSecret, { key: 'k', organizationId: 'acme' }],
        [deleteOrganizationSecret, { key: 'k' }],
        [getSecret, null],
        [getSecret, 'svc-db'],
        [getSecret, ['svc-db']],
      ]
      for (const [run, event] of cases) {
        const result = (await run(event)) as { statusCode: number; message?: unknown }
        expect({ event, statusCode: result.statusCode, hasMessage: typeof result.message === 'string' }).toEqual({
          event,
          statusCode: 400,
          hasMessage: true,
        })
      }
    })

    it('answers 404 for an update of an unknown key or organization, and creates nothing', async () => {
      expect(await updateSecret({ key: 'never-was', secret: { a: 1 } }, contextOf('x'))).toMatchObject({ statusCode: 404 })
      expect(await updateOrganizationSecret({ key: 'never-was', organizationId: 'nobody', secret: { a: 1 } }, contextOf('x'))).toMatchObject({
        statusCode: 404,
      })
      expect(await getSecret({ key: 'never-was' }, contextOf('x'))).toMatchObject({ statusCode: 404 })
    })

    it('answers 400 for a duplicate key, and keeps the stored value', async () => {
      await createSecret({ key: 'taken', secret: { pwd: 'first' } }, contextOf('x'))
      expect(await createSecret({ key: 'taken', secret: { pwd: 'second' } }, contextOf('x'))).toEqual({
        statusCode: 400,
        message: 'Secret key already exists',
      })
      expect((await getSecret({ key: 'taken' }, contextOf('x'))).secret).toEqual({ pwd: 'first' })
    })
  })

  describe('served for a client (the handlers behind the Invoke API)', () => {
    let handlers: Record<FunctionId, FunctionHandler>
    beforeAll(() => {
      handlers = createFunctionHandlers(store.operations, quiet)
    })

    it('applies the client grants: an organization client is refused elsewhere, before anything is written', async () => {
      const acmeOnly = principal('acme-client', { organizations: ['acme-2' as OrganizationId] })
      const allowed = await handlers['create-organization-secret']({ key: 'k', organizationId: 'acme-2', secret: { a: 1 } }, acmeOnly)
      expect(allowed.statusCode).toBe(200)

      const refused = [
        await handlers['create-organization-secret']({ key: 'k', organizationId: 'globex', secret: { a: 1 } }, acmeOnly),
        await handlers['create-secret']({ key: 'k', secret: { a: 1 } }, acmeOnly),
        await handlers['get-secret']({ key: 'k' }, acmeOnly),
        // Refused before the rest of the payload is judged, as on REST.
        await handlers['update-organization-secret']({ organizationId: 'globex', junk: true }, acmeOnly),
      ]
      for (const result of refused) expect(result).toEqual({ statusCode: 403, message: expect.any(String) })
      await expect(service.get(organizationScope('globex' as OrganizationId), 'k' as never)).rejects.toThrow('Secret not found')
      await expect(service.get(STANDARD, 'k' as never)).rejects.toThrow('Secret not found')
    })

    it('records the calling client as the actor', async () => {
      const client = principal('EVCLIENT000000000001', { secrets: true })
      await handlers['create-secret']({ key: 'by-client', secret: { a: 1 } }, client)
      await handlers['delete-secret']({ key: 'by-client' }, client)
      const history = await service.history(STANDARD, 'by-client' as never)
      expect(history.map((entry) => entry.actor)).toEqual(['EVCLIENT000000000001', 'EVCLIENT000000000001'])
    })
  })
})

describe('a function deployed without its configuration', () => {
  it('fails loudly, naming the variable and nothing secret', async () => {
    await jest.isolateModulesAsync(async () => {
      const saved = { ...process.env }
      delete process.env.DATABASE_URL
      process.env.VAULT_MASTER_KEY = crypto.randomBytes(32).toString('base64')
      try {
        // A fresh copy of the module: a container that has not opened its store yet.
        const { handler } = require('../../api/lambda/deploy/get-secret') as typeof import('../../api/lambda/deploy/get-secret')
        await expect(handler({ key: 'a' }, contextOf('vault-dev-get-secret'))).rejects.toThrow(/^DATABASE_URL: is required/)
      } finally {
        process.env = saved
      }
    })
  })

  it('refuses a key store of its own: it must be told the servers\' one', async () => {
    await jest.isolateModulesAsync(async () => {
      const saved = { ...process.env }
      process.env.DATABASE_URL = 'postgres://nobody@127.0.0.1:1/none'
      process.env.VAULT_MASTER_KEY = crypto.randomBytes(32).toString('base64')
      delete process.env.VAULT_KEYSTORE_DIR
      delete process.env.VAULT_KEYSTORE
      try {
        const { handler } = require('../../api/lambda/deploy/get-secret') as typeof import('../../api/lambda/deploy/get-secret')
        await expect(handler({ key: 'a' }, contextOf('vault-dev-get-secret'))).rejects.toThrow(/^VAULT_KEYSTORE_DIR: is required/)
      } finally {
        process.env = saved
      }
    })
  })
})

withServer('the functions, fed whatever a caller can send', () => {
  let store: VaultCore
  let service: SecretsService
  const admin = principal('fuzzer', { admin: true })

  beforeAll(async () => {
    const keyStoreDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-fn-keys-'))
    const config = loadConfig({ VAULT_KEYSTORE_DIR: keyStoreDir, VAULT_ENV: 'dev' })
    store = await openVaultCore(coreSettings(config, connectionFromUrl(await createServerDatabase()), crypto.randomBytes(32), false), quiet)
    service = store.secrets
    await service.create(admin.clientId, STANDARD, { key: 'seeded' as never, secret: { pwd: 'seeded-value' } })
  })
  afterAll(() => store?.close())

  it('never answers a 5xx, always says why it refused, and a refused call changes nothing', async () => {
    // Payloads near the real shape (the known fields with any JSON) as well as any JSON at all.
    const field = fc.oneof(fc.constantFrom('seeded', 'acme', '', 'a b', 'x'.repeat(300)), fc.jsonValue())
    const payload = fc.oneof(
      fc.jsonValue(),
      fc.record(
        { key: field, organizationId: field, secret: fc.oneof(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue())), description: field },
        { requiredKeys: [] },
      ),
    )
    const handlers = createFunctionHandlers(store.operations, quiet)
    const ids = Object.keys(handlers) as FunctionId[]
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ids), payload, async (id, event) => {
        const before = await stored()
        const result = await handlers[id](event, admin)
        expect(result.statusCode).toBeLessThan(500)
        if (result.statusCode >= 400) {
          expect(typeof result.message).toBe('string')
          expect(await stored()).toEqual(before)
        }
      }),
      { numRuns: 300 },
    )
  })

  // The seeded secret as a reader sees it (a fuzzed update or delete may legitimately change it).
  const stored = () => service.get(STANDARD, 'seeded' as never).catch((error: Error) => error.message)
})
