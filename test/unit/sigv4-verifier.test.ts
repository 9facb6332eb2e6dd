import crypto from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { Hash } from '@smithy/hash-node'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'
import { verifySignature, type SignedRequest } from '../../api/sigv4/verifier'
import { SigV4Error } from '../../api/sigv4/sigv4-error'

const CLIENT_ID = 'EVABCDEFGHIJKLMNOPQR'
const CLIENT_SECRET = 'the-client-secret-0123456789'
const HOST = '127.0.0.1:3000'
const PATH = '/2015-03-31/functions/vault-dev-get-secret/invocations'
const NOW = Date.UTC(2026, 10, 24, 12, 0, 0)

const settings = { region: 'us-east-1', service: 'lambda', maxSkewMs: 15 * 60_000, now: () => NOW }
const secretOf = async (accessKeyId: string) => (accessKeyId === CLIENT_ID ? CLIENT_SECRET : null)

type Signing = { applyChecksum?: boolean; secret?: string; region?: string; service?: string; at?: number; path?: string; query?: Record<string, string> }

/** Signs the way the AWS SDK does (the same library), then hands the verifier what a server receives. */
const signed = async (body: string, options: Signing = {}): Promise<Omit<SignedRequest, 'headers'> & { headers: Record<string, string> }> => {
  const signer = new SignatureV4({
    credentials: { accessKeyId: CLIENT_ID, secretAccessKey: options.secret ?? CLIENT_SECRET },
    region: options.region ?? 'us-east-1',
    service: options.service ?? 'lambda',
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: options.applyChecksum ?? true,
  })
  const path = options.path ?? PATH
  const request = await signer.sign(
    new HttpRequest({
      method: 'POST',
      hostname: '127.0.0.1',
      port: 3000,
      path,
      query: options.query ?? {},
      headers: { host: HOST, 'content-type': 'application/octet-stream', 'content-length': String(Buffer.byteLength(body)) },
      body,
    }),
    { signingDate: new Date(options.at ?? NOW) },
  )
  return { method: 'POST', path, query: options.query ?? {}, headers: request.headers as Record<string, string>, body: Buffer.from(body) }
}

const errorOf = async (request: SignedRequest): Promise<SigV4Error> => {
  try {
    await verifySignature(request, settings, secretOf)
  } catch (error) {
    if (error instanceof SigV4Error) return error
    throw error
  }
  throw new Error('the request was accepted')
}

const refusedAs = async (request: SignedRequest, errorType: string) => {
  const error = await errorOf(request)
  expect(error.status).toBe(403)
  expect(error.errorType).toBe(errorType)
  expect(error.message).not.toContain(CLIENT_SECRET)
}

describe('the SigV4 verifier', () => {
  it('accepts a request signed by a registered client and names that client', async () => {
    await expect(verifySignature(await signed('{"key":"a"}'), settings, secretOf)).resolves.toBe(CLIENT_ID)
  })

  it('accepts a signature that leaves the payload hash inside it, as botocore signs, and still binds the body', async () => {
    const request = await signed('{"key":"a"}', { applyChecksum: false })
    expect(request.headers.authorization).not.toContain('x-amz-content-sha256')
    await expect(verifySignature(request, settings, secretOf)).resolves.toBe(CLIENT_ID)
    await refusedAs({ ...request, body: Buffer.from('{"key":"b"}') }, 'InvalidSignatureException')
  })

  it('accepts an encoded function ARN in the path and a query string, as the SDK sends them', async () => {
    const path = '/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Avault-dev-get-secret/invocations'
    const request = await signed('{}', { path, query: { Qualifier: '$LATEST' } })
    await expect(verifySignature(request, settings, secretOf)).resolves.toBe(CLIENT_ID)
  })

  it('accepts a request dated up to 15 minutes off, either way', async () => {
    for (const at of [NOW - 14 * 60_000, NOW + 14 * 60_000]) {
      await expect(verifySignature(await signed('{}', { at }), settings, secretOf)).resolves.toBe(CLIENT_ID)
    }
  })

  it('refuses a request with no Authorization header', async () => {
    const { authorization: _dropped, ...headers } = (await signed('{}')).headers
    await refusedAs({ ...(await signed('{}')), headers }, 'MissingAuthenticationTokenException')
  })

  it('refuses a request signed with another secret', async () => {
    await refusedAs(await signed('{}', { secret: 'not-the-secret' }), 'InvalidSignatureException')
  })

  it('refuses an unknown access key', async () => {
    const request = await signed('{}')
    const headers = { ...request.headers, authorization: request.headers.authorization.replace(CLIENT_ID, 'EVUNKNOWNUNKNOWNUNKN') }
    await refusedAs({ ...request, headers }, 'UnrecognizedClientException')
  })

  it.each([
    ['the body', (r: SignedRequest) => ({ ...r, body: Buffer.from('{"key":"b"}') })],
    ['the path', (r: SignedRequest) => ({ ...r, path: r.path.replace('get-secret', 'delete-secret') })],
    ['the query', (r: SignedRequest) => ({ ...r, query: { Qualifier: '1' } })],
    ['the method', (r: SignedRequest) => ({ ...r, method: 'PUT' })],
    ['a signed header', (r: SignedRequest) => ({ ...r, headers: { ...r.headers, 'content-type': 'application/json' } })],
    ['the host', (r: SignedRequest) => ({ ...r, headers: { ...r.headers, host: 'vault.example.com' } })],
  ])('refuses a request whose %s changed after signing', async (_part, alter) => {
    await refusedAs(alter(await signed('{"key":"a"}')), 'InvalidSignatureException')
  })

  it.each([16, -16])('refuses a request dated %i minutes off', async (minutes) => {
    await refusedAs(await signed('{}', { at: NOW + minutes * 60_000 }), 'InvalidSignatureException')
  })

  it('refuses a signature for another region or another service', async () => {
    await refusedAs(await signed('{}', { region: 'eu-west-1' }), 'InvalidSignatureException')
    await refusedAs(await signed('{}', { service: 's3' }), 'InvalidSignatureException')
  })

  it('refuses a payload hash header that does not match the body, even when it is signed', async () => {
    const request = await signed('{"key":"a"}')
    const otherHash = crypto.createHash('sha256').update('{"key":"b"}').digest('hex')
    const auth = request.headers.authorization.replace('SignedHeaders=', 'SignedHeaders=x-amz-content-sha256;')
    const headers: IncomingHttpHeaders = { ...request.headers, authorization: auth, 'x-amz-content-sha256': otherHash }
    await refusedAs({ ...request, headers }, 'InvalidSignatureException')
  })

  it.each([
    ['another algorithm', 'AWS4-HMAC-SHA512 Credential=x'],
    ['no signature', `AWS4-HMAC-SHA256 Credential=${CLIENT_ID}/20261124/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date`],
    ['a short credential', `AWS4-HMAC-SHA256 Credential=${CLIENT_ID}/20261124, SignedHeaders=host, Signature=${'0'.repeat(64)}`],
    ['garbage', 'AWS4-HMAC-SHA256 ,,,==,='],
  ])('refuses a malformed Authorization header (%s) without a 5xx', async (_case, authorization) => {
    const request = await signed('{}')
    await refusedAs({ ...request, headers: { ...request.headers, authorization } }, 'IncompleteSignatureException')
  })

  it('refuses a request whose X-Amz-Date is missing or malformed', async () => {
    const request = await signed('{}')
    const { 'x-amz-date': _dropped, ...withoutDate } = request.headers
    await refusedAs({ ...request, headers: withoutDate }, 'IncompleteSignatureException')
    await refusedAs({ ...request, headers: { ...request.headers, 'x-amz-date': 'yesterday' } }, 'IncompleteSignatureException')
  })
})
