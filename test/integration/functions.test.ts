import crypto from 'node:crypto'
import type { LambdaClient, LambdaClientConfig } from '@aws-sdk/client-lambda'
import { adminToken, as, clientWith } from '../helpers/api'
import { backends } from '../helpers/backends'
import { expectAnswered, expectRefusedWith, withAnyTimestamp } from '../helpers/function-answers'
import { functionArn, functionName, namespaceOf, type Namespace } from '../helpers/function-namespaces'
import { invoke, invokeFailure, lambdaFor, type ClientCredentials } from '../helpers/lambda'
import { oddPayloads } from '../helpers/hostile/odd-payloads'
import { invocationUrl as invocationUrlOn, postRaw, signedHeaders } from '../helpers/signed-http'
import { ADMIN_ID, ADMIN_SECRET, newVaultSetup, startVault, type VaultProcess } from '../helpers/vault-process'

// The guide's eight functions, called as a user would: with the stock AWS SDK's Lambda client
// pointed at the vault (the Lambda Invoke API, SigV4 with a client id and secret), and checked
// through the REST API as an admin.

type Api = ReturnType<typeof as>

const MiB = 1024 * 1024

/** A value no vault would produce by itself, to look for in answers. */
const marker = (label: string): string => `${label}-${crypto.randomBytes(12).toString('hex')}`

const STANDARD = namespaceOf()
const ACME = namespaceOf('acme')
const GLOBEX = namespaceOf('globex')
const NAMESPACES = [STANDARD, ACME]

const ALL_FUNCTIONS = [STANDARD, ACME].flatMap((ns) => Object.values(ns.fn))

describe.each(backends())('the functions interface on the %s store', (backend) => {
  let vault: VaultProcess
  let admin: Api
  let adminTokenValue: string
  /** A client with the secrets grant and acme and globex: the application that uses the functions. */
  let app: ClientCredentials
  let lambda: LambdaClient
  /** The bootstrap admin, invoking functions as any client can. */
  let adminLambda: LambdaClient
  const sdkClients: LambdaClient[] = []

  const lambdaAs = (credentials: ClientCredentials, config: Partial<LambdaClientConfig> = {}): LambdaClient => {
    const client = lambdaFor(vault.url, credentials, config)
    sdkClients.push(client)
    return client
  }

  /** Admin REST checks: the value now (or the status when there is none) and the history's event types. */
  const restValue = async (ns: Namespace, key: string): Promise<unknown> => {
    const read = await admin.get(`${ns.rest}/${key}`)
    return read.status === 200 ? read.body.secret : read.status
  }
  const historyTypes = async (ns: Namespace, key: string): Promise<unknown> => {
    const history = await admin.get(`${ns.rest}/${key}/history`)
    return history.status === 200 ? history.body.events.map((event: { type: string }) => event.type) : history.status
  }

  beforeAll(async () => {
    vault = await startVault(await newVaultSetup(backend))
    adminTokenValue = await adminToken(vault.url)
    admin = as(vault.url, adminTokenValue)
    app = await clientWith(vault.url, adminTokenValue, { secrets: true, organizations: ['acme', 'globex'] })
    lambda = lambdaAs(app)
    adminLambda = lambdaAs({ clientId: ADMIN_ID, clientSecret: ADMIN_SECRET })
  })
  afterAll(async () => {
    for (const client of sdkClients) client.destroy()
    await vault?.stop()
  })

  describe('the life cycle of a secret', () => {
    it.each(NAMESPACES)('creates, reads, updates and deletes $label through their four functions', async (ns) => {
      const key = 'life-cycle'
      const values = [marker('first'), marker('second'), marker('third')]

      const created = await invoke(lambda, ns.fn.create, {
        key,
        ...ns.scope,
        secret: { User_Name: 'me@mycompany.com', 'pass-word': values[0] },
        description: 'Credentials for my service.',
      })
      expectAnswered(created, { ...ns.identity(key), description: 'Credentials for my service.', statusCode: 200 })
      expect(created.executedVersion).toBe('$LATEST')
      expect(created.text).not.toContain(values[0])
      const arn: string = created.result.arn

      const read = await invoke(lambda, ns.fn.get, { key, ...ns.scope })
      expectAnswered(read, { ...ns.identity(key), arn, secret: { userName: 'me@mycompany.com', passWord: values[0] }, statusCode: 200 })
      expect(read.result).not.toHaveProperty('description')

      const updated = await invoke(lambda, ns.fn.update, {
        key,
        ...ns.scope,
        secret: { user: 'updated@company.com', Pwd_Value: values[1] },
        description: 'Updated description',
      })
      expectAnswered(updated, { ...ns.identity(key), arn, description: 'Updated description', statusCode: 200 })
      expect(updated.text).not.toContain(values[1])
      expect((await invoke(lambda, ns.fn.get, { key, ...ns.scope })).result).toEqual({
        ...ns.identity(key),
        arn,
        secret: { user: 'updated@company.com', pwdValue: values[1] },
        statusCode: 200,
      })

      // An update without a description keeps the current one.
      const kept = await invoke(lambda, ns.fn.update, { key, ...ns.scope, secret: { pwd: values[2] } })
      expectAnswered(kept, { ...ns.identity(key), arn, description: 'Updated description', statusCode: 200 })
      expect((await invoke(lambda, ns.fn.get, { key, ...ns.scope })).result.secret).toEqual({ pwd: values[2] })

      const deleted = await invoke(lambda, ns.fn.delete, { key, ...ns.scope })
      expectAnswered(deleted, { statusCode: 204 })
      expectAnswered(await invoke(lambda, ns.fn.delete, { key, ...ns.scope }), { statusCode: 205 })
      const gone = await invoke(lambda, ns.fn.get, { key, ...ns.scope })
      expectRefusedWith(gone, 404)
      for (const value of values) expect(gone.text).not.toContain(value)
      expectRefusedWith(await invoke(lambda, ns.fn.update, { key, ...ns.scope, secret: { pwd: 'late' } }), 404)
      expect(await restValue(ns, key)).toBe(404)
    })

    it.each(NAMESPACES)('refuses a duplicate key with 400 and keeps the first value ($label)', async (ns) => {
      expectAnswered(await invoke(lambda, ns.fn.create, { key: 'duplicate', ...ns.scope, secret: { v: 'first' } }), {
        ...ns.identity('duplicate'),
        statusCode: 200,
      })
      expectRefusedWith(await invoke(lambda, ns.fn.create, { key: 'duplicate', ...ns.scope, secret: { v: 'second' } }), 400)
      expect(await restValue(ns, 'duplicate')).toEqual({ v: 'first' })
    })

    it.each(NAMESPACES)('re-creates a deleted key as a new secret with a new ARN ($label)', async (ns) => {
      const first = await invoke(lambda, ns.fn.create, { key: 'phoenix', ...ns.scope, secret: { old: 'value' } })
      expectAnswered(await invoke(lambda, ns.fn.delete, { key: 'phoenix', ...ns.scope }), { statusCode: 204 })
      const second = await invoke(lambda, ns.fn.create, { key: 'phoenix', ...ns.scope, secret: { fresh: 'value' } })
      expectAnswered(second, { ...ns.identity('phoenix'), statusCode: 200 })
      expect(second.result.arn).not.toBe(first.result.arn)
      const read = await invoke(lambda, ns.fn.get, { key: 'phoenix', ...ns.scope })
      expect(read.result).toEqual({ ...ns.identity('phoenix'), arn: second.result.arn, secret: { fresh: 'value' }, statusCode: 200 })
    })

    it('answers 404 for an organization that has no secrets and for a key that lives only in another namespace', async () => {
      // The admin may use any organization; the application client is listed for acme and globex only.
      await invoke(lambda, ACME.fn.create, { key: 'only-in-acme', organizationId: 'acme', secret: { a: 1 } })
      expectRefusedWith(await invoke(adminLambda, ACME.fn.get, { key: 'only-in-acme', organizationId: 'nobody-here' }), 404)
      expectRefusedWith(await invoke(lambda, GLOBEX.fn.get, { key: 'only-in-acme', organizationId: 'globex' }), 404)
      expectRefusedWith(await invoke(lambda, STANDARD.fn.get, { key: 'only-in-acme' }), 404)
      expectRefusedWith(await invoke(adminLambda, ACME.fn.update, { key: 'only-in-acme', organizationId: 'nobody-here', secret: { a: 2 } }), 404)
      expectAnswered(await invoke(adminLambda, ACME.fn.delete, { key: 'only-in-acme', organizationId: 'nobody-here' }), { statusCode: 205 })
      expect(await restValue(ACME, 'only-in-acme')).toEqual({ a: 1 })
    })

    it('accepts the full ARN, the partial ARN and the $LATEST qualifier, for the bootstrap admin too', async () => {
      const created = await invoke(adminLambda, functionArn('create-secret'), { key: 'by-arn', secret: { Via_Arn: 'yes' } })
      expectAnswered(created, { ...STANDARD.identity('by-arn'), statusCode: 200 })
      const expected = { ...STANDARD.identity('by-arn'), arn: created.result.arn, secret: { viaArn: 'yes' }, statusCode: 200 }

      const forms: Array<[string, string | undefined]> = [
        [functionName('get-secret'), undefined],
        [functionArn('get-secret'), undefined],
        [`000000000000:function:${functionName('get-secret')}`, undefined],
        [`${functionName('get-secret')}:$LATEST`, undefined],
        [`${functionArn('get-secret')}:$LATEST`, undefined],
        [functionName('get-secret'), '$LATEST'],
        [functionArn('get-secret'), '$LATEST'],
      ]
      for (const [name, qualifier] of forms) {
        const read = await invoke(adminLambda, name, { key: 'by-arn' }, { qualifier })
        expect({ name, qualifier, result: read.result }).toEqual({ name, qualifier, result: expected })
        expect(read.executedVersion).toBe('$LATEST')
      }

      await invoke(lambda, functionArn('create-organization-secret'), { key: 'by-arn', organizationId: 'acme', secret: { v: 1 } }, { qualifier: '$LATEST' })
      const orgRead = await invoke(lambda, functionArn('get-organization-secret'), { key: 'by-arn', organizationId: 'acme' })
      expect(orgRead.result.secret).toEqual({ v: 1 })
      expectAnswered(await invoke(lambda, `${functionArn('delete-organization-secret')}:$LATEST`, { key: 'by-arn', organizationId: 'acme' }), {
        statusCode: 204,
      })
    })
  })

  describe('Invoke API errors', () => {
    it('answers ResourceNotFoundException (404) for unknown names, other environments, regions, accounts and versions, running nothing', async () => {
      const payload = { key: 'never-run', secret: { v: 1 } }
      const unknown: Array<[string, string | undefined]> = [
        ['vault-dev-no-such-function', undefined],
        ['vault-dev-create-secrets', undefined],
        ['create-secret', undefined],
        ['vault-dev-Create-Secret', undefined],
        ['vault-stg-create-secret', undefined],
        ['vault-prd-create-secret', undefined],
        ['arn:aws:lambda:us-east-1:000000000000:function:vault-prd-create-secret', undefined],
        ['arn:aws:lambda:eu-west-1:000000000000:function:vault-dev-create-secret', undefined],
        ['arn:aws:lambda:us-east-1:123456789012:function:vault-dev-create-secret', undefined],
        ['123456789012:function:vault-dev-create-secret', undefined],
        ['vault-dev-create-secret:1', undefined],
        ['vault-dev-create-secret', '1'],
        ['vault-dev-create-secret', 'prod'],
      ]
      for (const [name, qualifier] of unknown) {
        const failure = await invokeFailure(lambda, name, payload, { qualifier })
        expect({ name, qualifier, exception: failure.name, status: failure.httpStatus }).toEqual({
          name,
          qualifier,
          exception: 'ResourceNotFoundException',
          status: 404,
        })
      }
      expect(await restValue(STANDARD, 'never-run')).toBe(404)
    })

    it('answers InvalidSignatureException (403) to a request signed with a wrong secret, running nothing', async () => {
      const wrongSecret = lambdaAs({ clientId: app.clientId, clientSecret: `${app.clientSecret}x` })
      const anotherClientsSecret = lambdaAs({ clientId: app.clientId, clientSecret: ADMIN_SECRET })
      for (const client of [wrongSecret, anotherClientsSecret]) {
        const failure = await invokeFailure(client, STANDARD.fn.create, { key: 'bad-signature', secret: { v: 1 } })
        expect(failure).toMatchObject({ name: 'InvalidSignatureException', httpStatus: 403 })
        expect(failure.message).not.toContain(app.clientSecret)
        expect(await invokeFailure(client, STANDARD.fn.get, { key: 'bad-signature' })).toMatchObject({
          name: 'InvalidSignatureException',
          httpStatus: 403,
        })
      }
      // The right secret, but a signature scoped to another region than the vault's.
      const otherRegion = lambdaAs(app, { region: 'eu-west-1' })
      expect(await invokeFailure(otherRegion, STANDARD.fn.create, { key: 'bad-signature', secret: { v: 1 } })).toMatchObject({
        name: 'InvalidSignatureException',
        httpStatus: 403,
      })
      expect(await restValue(STANDARD, 'bad-signature')).toBe(404)
    })

    it('answers UnrecognizedClientException (403) to an access key no client has, running nothing', async () => {
      for (const clientId of ['EVNOSUCHCLIENT0000000', 'AKIAIOSFODNN7EXAMPLE']) {
        const stranger = lambdaAs({ clientId, clientSecret: app.clientSecret })
        const failure = await invokeFailure(stranger, STANDARD.fn.create, { key: 'stranger', secret: { v: 1 } })
        expect(failure).toMatchObject({ name: 'UnrecognizedClientException', httpStatus: 403 })
      }
      expect(await restValue(STANDARD, 'stranger')).toBe(404)
    })

    it('answers InvalidSignatureException (403) to a request dated more than 15 minutes off, and accepts one 10 minutes off', async () => {
      // A fresh client per request: after a refusal the SDK corrects its clock from the answer's Date.
      for (const offset of [20 * 60 * 1000, -20 * 60 * 1000]) {
        const skewed = lambdaAs(app, { systemClockOffset: offset, maxAttempts: 1 })
        const failure = await invokeFailure(skewed, STANDARD.fn.create, { key: 'skewed', secret: { v: 1 } })
        expect({ offset, exception: failure.name, status: failure.httpStatus }).toEqual({
          offset,
          exception: 'InvalidSignatureException',
          status: 403,
        })
      }
      expect(await restValue(STANDARD, 'skewed')).toBe(404)

      const slightlyOff = lambdaAs(app, { systemClockOffset: 10 * 60 * 1000, maxAttempts: 1 })
      expectAnswered(await invoke(slightlyOff, STANDARD.fn.create, { key: 'skewed', secret: { v: 1 } }), {
        ...STANDARD.identity('skewed'),
        statusCode: 200,
      })
    })

    it('answers InvalidRequestContentException (400) to a payload that is not JSON, running nothing', async () => {
      const notJson: Array<string | Uint8Array> = [
        'not json',
        '{"key":"not-json","secret":{"v":1}',
        '{"key":"not-json","secret":{"v":1}} trailing',
        "{'key':'not-json'}",
        Buffer.concat([Buffer.from('{"key":"not-json","secret":{"v":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]),
      ]
      for (const raw of notJson) {
        const failure = await invokeFailure(lambda, STANDARD.fn.create, undefined, { raw })
        expect({ raw: String(raw), exception: failure.name, status: failure.httpStatus }).toEqual({
          raw: String(raw),
          exception: 'InvalidRequestContentException',
          status: 400,
        })
      }
      expect(await restValue(STANDARD, 'not-json')).toBe(404)
    })

    it('answers RequestTooLargeException (413) past 6 MiB, and hands a payload of exactly 6 MiB to the function', async () => {
      const ofSize = (bytes: number, key: string): string => {
        const frame = JSON.stringify({ key, secret: { blob: '' } })
        return frame.replace('"blob":""', `"blob":"${'x'.repeat(bytes - frame.length)}"`)
      }
      const over = ofSize(6 * MiB + 1, 'too-large')
      expect(Buffer.byteLength(over)).toBe(6_291_457)
      const failure = await invokeFailure(lambda, STANDARD.fn.create, undefined, { raw: over })
      expect(failure).toMatchObject({ name: 'RequestTooLargeException', httpStatus: 413 })
      expect(await restValue(STANDARD, 'too-large')).toBe(404)

      // Exactly the limit reaches the function, which refuses a secret over 64 KiB itself.
      const atLimit = ofSize(6 * MiB, 'at-limit')
      expect(Buffer.byteLength(atLimit)).toBe(6_291_456)
      expectRefusedWith(await invoke(lambda, STANDARD.fn.create, undefined, { raw: atLimit }), 400)
      expect(await restValue(STANDARD, 'at-limit')).toBe(404)
    })
  })

  describe('payloads the functions refuse with 400', () => {
    const ORIGINAL = { v: 'original' }

    beforeAll(async () => {
      for (const ns of NAMESPACES) {
        const seeded = await admin.post(ns.rest, { key: 'seeded', secret: ORIGINAL })
        if (seeded.status !== 200) throw new Error(`seeding ${ns.rest} failed: ${seeded.status} ${seeded.text}`)
      }
    })

    const secret = { user: 'someone', pwd: 'changed' }
    const cases = (ns: Namespace): Array<[string, string, Record<string, unknown>]> => [
      [ns.fn.create, 'without key', { ...ns.scope, secret }],
      [ns.fn.create, 'with a key that breaks the id rule', { key: 'bad key', ...ns.scope, secret }],
      [ns.fn.create, 'with a number as key', { key: 42, ...ns.scope, secret }],
      [ns.fn.create, 'without secret', { key: 'never-created', ...ns.scope, description: 'no secret' }],
      [ns.fn.create, 'with a string secret', { key: 'never-created', ...ns.scope, secret: 'a-string' }],
      [ns.fn.create, 'with an array secret', { key: 'never-created', ...ns.scope, secret: [{ pwd: 'x' }] }],
      [ns.fn.create, 'with a null secret', { key: 'never-created', ...ns.scope, secret: null }],
      [ns.fn.get, 'without key', { ...ns.scope }],
      [ns.fn.get, 'with a key that breaks the id rule', { key: '../seeded', ...ns.scope }],
      [ns.fn.update, 'without key', { ...ns.scope, secret }],
      [ns.fn.update, 'without secret', { key: 'seeded', ...ns.scope, description: 'description alone' }],
      [ns.fn.update, 'with a string secret', { key: 'seeded', ...ns.scope, secret: 'a-string' }],
      [ns.fn.update, 'with a number secret', { key: 'seeded', ...ns.scope, secret: 42 }],
      [ns.fn.update, 'with a null secret', { key: 'seeded', ...ns.scope, secret: null }],
      [ns.fn.delete, 'without key', { ...ns.scope }],
      [ns.fn.delete, 'with a key that breaks the id rule', { key: 'seeded/..', ...ns.scope }],
    ]
    const withoutOrganization: Array<[string, string, Record<string, unknown>]> = [
      [ACME.fn.create, 'without organizationId', { key: 'never-created', secret }],
      [ACME.fn.get, 'without organizationId', { key: 'seeded' }],
      [ACME.fn.update, 'without organizationId', { key: 'seeded', secret }],
      [ACME.fn.delete, 'without organizationId', { key: 'seeded' }],
      [ACME.fn.create, 'with an organizationId that breaks the id rule', { key: 'never-created', organizationId: '-acme', secret }],
      [ACME.fn.get, 'with an organizationId that breaks the id rule', { key: 'seeded', organizationId: 'ac me' }],
      [ACME.fn.update, 'with an organizationId that is not a string', { key: 'seeded', organizationId: ['acme'], secret }],
      [ACME.fn.delete, 'with an organizationId that is not a string', { key: 'seeded', organizationId: { id: 'acme' } }],
    ]

    it.each([...cases(STANDARD), ...cases(ACME), ...withoutOrganization])(
      'answers %s %s with statusCode 400 and a message, changing nothing',
      async (name, _case, payload) => {
        expectRefusedWith(await invoke(lambda, name, payload), 400)
        for (const ns of NAMESPACES) {
          expect(await restValue(ns, 'seeded')).toEqual(ORIGINAL)
          expect(await historyTypes(ns, 'seeded')).toEqual(['SecretCreated'])
          expect(await restValue(ns, 'never-created')).toBe(404)
        }
      },
    )

    it('answers an invocation without any payload with 400 for every function', async () => {
      for (const name of ALL_FUNCTIONS) {
        const invocation = await invoke(lambda, name)
        expect({ name, result: invocation.result }).toEqual({ name, result: { statusCode: 400, message: expect.any(String) } })
      }
    })
  })

  describe('grants', () => {
    let acmeOnly: ClientCredentials & { token: string }
    let acmeLambda: LambdaClient
    const GUARDED = { v: 'guarded' }

    beforeAll(async () => {
      acmeOnly = await clientWith(vault.url, adminTokenValue, { organizations: ['acme'] })
      acmeLambda = lambdaAs(acmeOnly)
      for (const ns of [STANDARD, GLOBEX]) {
        const seeded = await admin.post(ns.rest, { key: 'guarded', secret: GUARDED })
        if (seeded.status !== 200) throw new Error(`seeding ${ns.rest} failed: ${seeded.status} ${seeded.text}`)
      }
    })

    it("lets a client listed for one organization use that organization's four functions", async () => {
      const created = await invoke(acmeLambda, ACME.fn.create, { key: 'acme-own', organizationId: 'acme', secret: { v: 1 } })
      expectAnswered(created, { ...ACME.identity('acme-own'), statusCode: 200 })
      expect((await invoke(acmeLambda, ACME.fn.get, { key: 'acme-own', organizationId: 'acme' })).result.secret).toEqual({ v: 1 })
      expect((await invoke(acmeLambda, ACME.fn.update, { key: 'acme-own', organizationId: 'acme', secret: { v: 2 } })).result.statusCode).toBe(200)
      expect(await restValue(ACME, 'acme-own')).toEqual({ v: 2 })
      expectAnswered(await invoke(acmeLambda, ACME.fn.delete, { key: 'acme-own', organizationId: 'acme' }), { statusCode: 204 })
      expect(await restValue(ACME, 'acme-own')).toBe(404)
    })

    it.each([
      ['another organization', GLOBEX],
      ['standard secrets', STANDARD],
    ])('refuses that client %s with statusCode 403 through every function, changing and creating nothing', async (_label, ns) => {
      const refusals: Array<[string, Record<string, unknown>]> = [
        [ns.fn.create, { key: 'planted', ...ns.scope, secret: { v: 'intruder' } }],
        [ns.fn.get, { key: 'guarded', ...ns.scope }],
        [ns.fn.update, { key: 'guarded', ...ns.scope, secret: { v: 'intruder' }, description: 'intruder' }],
        [ns.fn.delete, { key: 'guarded', ...ns.scope }],
        [ns.fn.get, { key: 'planted', ...ns.scope }],
        [ns.fn.delete, { key: 'planted', ...ns.scope }],
      ]
      for (const [name, payload] of refusals) {
        const refused = await invoke(acmeLambda, name, payload)
        expect({ name, payload, result: refused.result }).toEqual({ name, payload, result: { statusCode: 403, message: expect.any(String) } })
        expect(refused.text).not.toContain(GUARDED.v)
      }
      expect(await restValue(ns, 'guarded')).toEqual(GUARDED)
      expect(await historyTypes(ns, 'guarded')).toEqual(['SecretCreated'])
      expect(await restValue(ns, 'planted')).toBe(404)
      expect(await historyTypes(ns, 'planted')).toBe(404)
    })

    it('applies the same grants as REST does: each client gets the same answer through both doors', async () => {
      await admin.post('/organizations/acme', { key: 'guarded', secret: GUARDED })
      const secretsOnly = await clientWith(vault.url, adminTokenValue, { secrets: true })
      const noGrants = await clientWith(vault.url, adminTokenValue, {})
      const expected: Array<[string, typeof acmeOnly, Record<string, number>]> = [
        ['acme only', acmeOnly, { [ACME.label]: 200, [GLOBEX.label]: 403, [STANDARD.label]: 403 }],
        ['secrets only', secretsOnly, { [ACME.label]: 403, [GLOBEX.label]: 403, [STANDARD.label]: 200 }],
        ['no grants', noGrants, { [ACME.label]: 403, [GLOBEX.label]: 403, [STANDARD.label]: 403 }],
      ]
      for (const [client, credentials, statuses] of expected) {
        const rest = as(vault.url, credentials.token)
        const sdk = credentials === acmeOnly ? acmeLambda : lambdaAs(credentials)
        for (const ns of [ACME, GLOBEX, STANDARD]) {
          const viaRest = (await rest.get(`${ns.rest}/guarded`)).status
          const viaFunction = (await invoke(sdk, ns.fn.get, { key: 'guarded', ...ns.scope })).result.statusCode
          expect({ client, namespace: ns.label, viaRest, viaFunction }).toEqual({
            client,
            namespace: ns.label,
            viaRest: statuses[ns.label],
            viaFunction: statuses[ns.label],
          })
        }
      }
    })
  })

  describe('the same secrets through REST and through the functions', () => {
    it.each(NAMESPACES)('reads through REST what a function wrote, and the other way round ($label)', async (ns) => {
      // Function write, REST read.
      const created = await invoke(lambda, ns.fn.create, { key: 'fn-first', ...ns.scope, secret: { Api_Key: 'from-function' }, description: 'fn' })
      const restRead = await admin.get(`${ns.rest}/fn-first`)
      expect(restRead.status).toBe(200)
      expect(restRead.body).toEqual({ ...ns.identity('fn-first'), arn: created.result.arn, secret: { apiKey: 'from-function' } })

      // REST write, function read.
      const restCreated = await admin.post(ns.rest, { key: 'rest-first', secret: { Db_Password: 'from-rest' }, description: 'rest' })
      expect(restCreated.status).toBe(200)
      const fnRead = await invoke(lambda, ns.fn.get, { key: 'rest-first', ...ns.scope })
      expectAnswered(fnRead, { ...ns.identity('rest-first'), arn: restCreated.body.arn, secret: { dbPassword: 'from-rest' }, statusCode: 200 })

      // Function update, REST read; the update's metadata is REST's.
      const fnUpdated = await invoke(lambda, ns.fn.update, { key: 'rest-first', ...ns.scope, secret: { dbPassword: 'rotated-by-function' } })
      expect(fnUpdated.result).toEqual({ ...restCreated.body, statusCode: 200 })
      expect(await restValue(ns, 'rest-first')).toEqual({ dbPassword: 'rotated-by-function' })

      // REST update, function read.
      expect((await admin.post(`${ns.rest}/fn-first`, { secret: { apiKey: 'rotated-by-rest' } })).status).toBe(200)
      expect((await invoke(lambda, ns.fn.get, { key: 'fn-first', ...ns.scope })).result.secret).toEqual({ apiKey: 'rotated-by-rest' })

      // REST delete, function get and delete; function delete, REST get and delete.
      expect((await admin.delete(`${ns.rest}/rest-first`)).status).toBe(204)
      expectRefusedWith(await invoke(lambda, ns.fn.get, { key: 'rest-first', ...ns.scope }), 404)
      expectAnswered(await invoke(lambda, ns.fn.delete, { key: 'rest-first', ...ns.scope }), { statusCode: 205 })
      expectAnswered(await invoke(lambda, ns.fn.delete, { key: 'fn-first', ...ns.scope }), { statusCode: 204 })
      expect((await admin.get(`${ns.rest}/fn-first`)).status).toBe(404)
      expect((await admin.delete(`${ns.rest}/fn-first`)).status).toBe(205)
    })
  })

  describe('history', () => {
    it.each(NAMESPACES)('records every change made through a function with the calling client as actor ($label)', async (ns) => {
      const key = 'audited'
      await invoke(lambda, ns.fn.create, { key, ...ns.scope, secret: { v: 1 }, description: 'first' })
      await invoke(lambda, ns.fn.update, { key, ...ns.scope, secret: { v: 2 } })
      await invoke(adminLambda, ns.fn.update, { key, ...ns.scope, secret: { v: 3 }, description: 'second' })
      // Refused and read-only invocations add nothing.
      expectRefusedWith(await invoke(lambda, ns.fn.update, { key, ...ns.scope, description: 'alone' }), 400)
      expectRefusedWith(await invoke(lambda, ns.fn.create, { key, ...ns.scope, secret: { v: 'duplicate' } }), 400)
      await invoke(lambda, ns.fn.get, { key, ...ns.scope })
      expectAnswered(await invoke(lambda, ns.fn.delete, { key, ...ns.scope }), { statusCode: 204 })
      expectAnswered(await invoke(adminLambda, ns.fn.delete, { key, ...ns.scope }), { statusCode: 205 })
      await invoke(adminLambda, ns.fn.create, { key, ...ns.scope, secret: { v: 4 }, description: 'again' })

      const history = await admin.get(`${ns.rest}/${key}/history`)
      expect(history.status).toBe(200)
      expect(history.body.events).toEqual(
        withAnyTimestamp([
          { type: 'SecretCreated', version: 1, actor: app.clientId, description: 'first' },
          { type: 'SecretUpdated', version: 2, actor: app.clientId },
          { type: 'SecretUpdated', version: 3, actor: ADMIN_ID, description: 'second' },
          { type: 'SecretDeleted', version: 4, actor: app.clientId },
          { type: 'SecretCreated', version: 1, actor: ADMIN_ID, description: 'again' },
        ]),
      )
    })
  })

  describe('invocation types', () => {
    it.each(NAMESPACES)('answers DryRun with 204 and runs nothing ($label)', async (ns) => {
      await admin.post(ns.rest, { key: 'dry-kept', secret: { v: 'kept' } })
      const dryRuns: Array<[string, Record<string, unknown>]> = [
        [ns.fn.create, { key: 'dry-created', ...ns.scope, secret: { v: 1 } }],
        [ns.fn.update, { key: 'dry-kept', ...ns.scope, secret: { v: 'changed' } }],
        [ns.fn.delete, { key: 'dry-kept', ...ns.scope }],
        [ns.fn.get, { key: 'dry-kept', ...ns.scope }],
      ]
      for (const [name, payload] of dryRuns) {
        const dry = await invoke(lambda, name, payload, { invocationType: 'DryRun' })
        expect({ name, httpStatus: dry.httpStatus, statusCode: dry.statusCode, text: dry.text }).toEqual({
          name,
          httpStatus: 204,
          statusCode: 204,
          text: '',
        })
      }
      expect(await restValue(ns, 'dry-created')).toBe(404)
      expect(await historyTypes(ns, 'dry-created')).toBe(404)
      expect(await restValue(ns, 'dry-kept')).toEqual({ v: 'kept' })
      expect(await historyTypes(ns, 'dry-kept')).toEqual(['SecretCreated'])
    })

    it('still checks the function name and the signature of a DryRun', async () => {
      expect(await invokeFailure(lambda, 'vault-stg-create-secret', {}, { invocationType: 'DryRun' })).toMatchObject({
        name: 'ResourceNotFoundException',
        httpStatus: 404,
      })
      const wrongSecret = lambdaAs({ clientId: app.clientId, clientSecret: 'not-the-secret' })
      expect(await invokeFailure(wrongSecret, STANDARD.fn.create, {}, { invocationType: 'DryRun' })).toMatchObject({
        name: 'InvalidSignatureException',
        httpStatus: 403,
      })
    })

    it.each(NAMESPACES)('answers Event with 202 and the change is there afterwards ($label)', async (ns) => {
      const created = await invoke(lambda, ns.fn.create, { key: 'async', ...ns.scope, secret: { v: 1 }, description: 'event' }, { invocationType: 'Event' })
      expect({ httpStatus: created.httpStatus, statusCode: created.statusCode, text: created.text }).toEqual({ httpStatus: 202, statusCode: 202, text: '' })
      expect(await restValue(ns, 'async')).toEqual({ v: 1 })

      const updated = await invoke(lambda, ns.fn.update, { key: 'async', ...ns.scope, secret: { v: 2 } }, { invocationType: 'Event' })
      expect(updated.httpStatus).toBe(202)
      expect(await restValue(ns, 'async')).toEqual({ v: 2 })

      const deleted = await invoke(lambda, ns.fn.delete, { key: 'async', ...ns.scope }, { invocationType: 'Event' })
      expect(deleted.httpStatus).toBe(202)
      expect(await restValue(ns, 'async')).toBe(404)

      const history = await admin.get(`${ns.rest}/async/history`)
      expect(history.body.events).toEqual(
        withAnyTimestamp([
          { type: 'SecretCreated', version: 1, actor: app.clientId, description: 'event' },
          { type: 'SecretUpdated', version: 2, actor: app.clientId },
          { type: 'SecretDeleted', version: 3, actor: app.clientId },
        ]),
      )

      // A refused Event is acknowledged all the same (its result is not returned), and changes nothing.
      const refused = await invoke(lambda, ns.fn.create, { key: 'async-refused', ...ns.scope }, { invocationType: 'Event' })
      expect(refused.httpStatus).toBe(202)
      expect(await restValue(ns, 'async-refused')).toBe(404)
    })
  })

  describe('odd payloads', () => {
    const VALUE = marker('odd-value')
    const HUGE_KEY = `${marker('huge-key')}${'k'.repeat(100_000)}`
    const ODD_PAYLOADS = oddPayloads(VALUE, HUGE_KEY)

    it.each(ODD_PAYLOADS)('answers %s with a 4xx statusCode and a message, never a 5xx, a stack or a value', async (_label, raw) => {
      for (const name of ALL_FUNCTIONS) {
        const invocation = await invoke(lambda, name, undefined, { raw })
        const summary = { name, httpStatus: invocation.httpStatus, functionError: invocation.functionError }
        expect(summary).toEqual({ name, httpStatus: 200, functionError: undefined })
        expect(invocation.result).toEqual({ statusCode: expect.any(Number), message: expect.any(String) })
        expect({ name, statusCode: invocation.result.statusCode >= 400 && invocation.result.statusCode < 500 }).toEqual({ name, statusCode: true })
        expect(invocation.result.message).not.toBe('')
        expect(invocation.text).not.toMatch(/\bat .+:\d+:\d+|Error:|node_modules|\/dist\//)
        expect(invocation.text).not.toContain(VALUE)
        expect(invocation.text).not.toContain(HUGE_KEY.slice(0, 40))
      }
      for (const ns of [STANDARD, ACME]) expect(await restValue(ns, 'odd')).toBe(404)
    })
  })

  describe('raw HTTP requests the SDK would not send', () => {
    const invocationUrl = (name: string): URL => invocationUrlOn(vault.url, name)

    const post = postRaw

    it('answers MissingAuthenticationTokenException (403) to a request without an Authorization header, running nothing', async () => {
      const reply = await post(
        invocationUrl(STANDARD.fn.create),
        { 'content-type': 'application/json' },
        JSON.stringify({ key: 'unsigned', secret: { v: 1 } }),
      )
      expect(reply.status).toBe(403)
      expect(reply.errorType).toBe('MissingAuthenticationTokenException')
      expect(JSON.parse(reply.text).message).toEqual(expect.any(String))
      expect(await restValue(STANDARD, 'unsigned')).toBe(404)
    })

    it('refuses a caller without credentials before reading its payload: 403, not 413, for 7 MiB', async () => {
      const reply = await post(invocationUrl(STANDARD.fn.create), { 'content-type': 'application/json' }, 'x'.repeat(7 * MiB))
      expect(reply.status).toBe(403)
      expect(reply.errorType).toBe('MissingAuthenticationTokenException')
    })

    it("refuses a REST bearer token on the functions' door with 403, running nothing", async () => {
      const reply = await post(
        invocationUrl(STANDARD.fn.create),
        { 'content-type': 'application/json', authorization: `Bearer ${adminTokenValue}` },
        JSON.stringify({ key: 'bearer', secret: { v: 1 } }),
      )
      expect(reply.status).toBe(403)
      expect(reply.errorType).toMatch(/Exception$/)
      expect(await restValue(STANDARD, 'bearer')).toBe(404)
    })

    // The JS SDK signs x-amz-content-sha256; botocore (boto3, the AWS CLI) and plain SigV4 leave
    // the payload hash inside the signature only. Both must be accepted.
    it('accepts a correctly signed request that does not sign x-amz-content-sha256, as boto3 and the AWS CLI sign', async () => {
      const url = invocationUrl(STANDARD.fn.create)
      const body = JSON.stringify({ key: 'hash-not-signed', secret: { v: 'plain-sigv4' } })
      const headers = await signedHeaders(url, body, app, false)
      expect(headers.authorization).toMatch(/SignedHeaders=content-type;host;x-amz-date,/)
      const reply = await post(url, headers, body)
      expect({ status: reply.status, errorType: reply.errorType }).toEqual({ status: 200, errorType: null })
      expect(JSON.parse(reply.text)).toEqual({ ...STANDARD.identity('hash-not-signed'), statusCode: 200 })
      expect(await restValue(STANDARD, 'hash-not-signed')).toEqual({ v: 'plain-sigv4' })
    })

    it.each([
      ['with the payload hash in a signed header', true],
      ['with the payload hash only inside the signature', false],
    ])('answers InvalidSignatureException (403) to a signed request whose body was altered after signing (%s)', async (_label, applyChecksum) => {
      const url = invocationUrl(STANDARD.fn.create)
      const signedBody = JSON.stringify({ key: `signed-${applyChecksum}`, secret: { v: 'signed' } })
      const forgedBody = JSON.stringify({ key: `forged-${applyChecksum}`, secret: { v: 'forged' } })
      const headers = await signedHeaders(url, signedBody, app, applyChecksum)

      const forged = await post(url, headers, forgedBody)
      expect(forged.status).toBe(403)
      expect(forged.errorType).toBe('InvalidSignatureException')
      expect(await restValue(STANDARD, `forged-${applyChecksum}`)).toBe(404)
      expect(await restValue(STANDARD, `signed-${applyChecksum}`)).toBe(404)

      // The same signature over the body it was made for is accepted: the refusal was the body's.
      const genuine = await post(url, headers, signedBody)
      expect(genuine.status).toBe(200)
      expect(JSON.parse(genuine.text)).toEqual({ ...STANDARD.identity(`signed-${applyChecksum}`), statusCode: 200 })
      expect(await restValue(STANDARD, `signed-${applyChecksum}`)).toEqual({ v: 'signed' })
      expect(await restValue(STANDARD, `forged-${applyChecksum}`)).toBe(404)
    })
  })
})
