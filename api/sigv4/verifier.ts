import crypto from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { Hash } from '@smithy/hash-node'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'
import { SigV4Error } from './sigv4-error'

/** What a signature covers, as it arrived: the path still percent-encoded, headers as sent. */
export type SignedRequest = Readonly<{
  method: string
  path: string
  query: Readonly<Record<string, string>>
  headers: IncomingHttpHeaders
  body: Buffer
}>

export type SigV4Settings = Readonly<{
  region: string
  service: string
  /** How far the request's date may be from ours, either way. */
  maxSkewMs: number
  now: () => number
}>

/** The secret that belongs to an access key id, or null for a key nobody registered. */
export type SecretLookup = (accessKeyId: string) => Promise<string | null>

type Authorization = Readonly<{ accessKeyId: string; date: string; region: string; service: string; signedHeaders: string[]; signature: string }>

const ALGORITHM = 'AWS4-HMAC-SHA256'
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/

const denied = (message: string) => new SigV4Error(403, 'InvalidSignatureException', message)
const incomplete = (message: string) => new SigV4Error(403, 'IncompleteSignatureException', message)

const parseAuthorization = (header: string): Authorization => {
  const trimmed = header.trim()
  if (!trimmed.startsWith(`${ALGORITHM} `)) throw incomplete(`Authorization header must use ${ALGORITHM}`)
  const parts = new Map<string, string>()
  for (const part of trimmed.slice(ALGORITHM.length).split(',')) {
    const separator = part.indexOf('=')
    if (separator > 0) parts.set(part.slice(0, separator).trim(), part.slice(separator + 1).trim())
  }
  const credential = parts.get('Credential')?.split('/') ?? []
  const signedHeaders = parts.get('SignedHeaders')?.split(';') ?? []
  const signature = parts.get('Signature') ?? ''
  if (credential.length !== 5 || credential[4] !== 'aws4_request' || signedHeaders.length === 0 || !/^[0-9a-f]{64}$/.test(signature)) {
    throw incomplete('Authorization header requires Credential, SignedHeaders and Signature parameters')
  }
  const [accessKeyId, date, region, service] = credential
  return { accessKeyId, date, region, service, signedHeaders, signature }
}

const parseAmzDate = (value: string | undefined): Date => {
  const match = value === undefined ? null : AMZ_DATE.exec(value)
  if (match === null) throw incomplete('The request must carry an X-Amz-Date header (YYYYMMDDTHHMMSSZ)')
  const [, year, month, day, hours, minutes, seconds] = match.map(Number)
  const date = new Date(Date.UTC(year, month - 1, day, hours, minutes, seconds))
  if (Number.isNaN(date.getTime())) throw incomplete('X-Amz-Date is not a valid date')
  return date
}

const headerValue = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

const signatureMatches = (expected: string, given: string): boolean =>
  expected.length === given.length && crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(given))

/**
 * What a request's headers establish before its body is read: the claimed signer, its secret,
 * the date, and the values of the headers it signed.
 */
export type Credential = Readonly<{ auth: Authorization; secret: string; signedAt: Date; signedHeaders: Readonly<Record<string, string>> }>

/**
 * The first half of a SigV4 check, on the headers alone: a well-formed Authorization for this
 * service and region, an access key somebody registered, a date within the allowed skew, the
 * required headers signed. Done before the body is read, so a caller who fails it never makes
 * the vault buffer a payload.
 */
export const checkCredential = async (headers: IncomingHttpHeaders, settings: SigV4Settings, secretOf: SecretLookup): Promise<Credential> => {
  const header = headerValue(headers, 'authorization')
  if (header === undefined) throw new SigV4Error(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token')
  const auth = parseAuthorization(header)
  if (auth.service !== settings.service) throw denied(`Credential should be scoped to correct service: '${settings.service}'`)
  if (auth.region !== settings.region) throw denied(`Credential should be scoped to a valid region, not the one it names`)

  const secret = await secretOf(auth.accessKeyId)
  if (secret === null) throw new SigV4Error(403, 'UnrecognizedClientException', 'The security token included in the request is invalid')

  const signedAt = parseAmzDate(headerValue(headers, 'x-amz-date'))
  const skew = signedAt.getTime() - settings.now()
  if (Math.abs(skew) > settings.maxSkewMs) {
    throw denied(`Signature ${skew < 0 ? 'expired' : 'not yet current'}: the request is dated more than ${settings.maxSkewMs / 60_000} minutes from the server's time`)
  }
  if (auth.date !== headerValue(headers, 'x-amz-date')?.slice(0, 8)) throw denied('Credential date does not match X-Amz-Date')
  for (const required of ['host', 'x-amz-date']) {
    if (!auth.signedHeaders.includes(required)) throw denied(`The ${required} header must be signed`)
  }
  const signedHeaders: Record<string, string> = {}
  for (const name of auth.signedHeaders) {
    const value = headerValue(headers, name)
    if (value === undefined) throw denied(`Signed header ${name.slice(0, 64)} is missing from the request`)
    signedHeaders[name] = value
  }
  return { auth, secret, signedAt, signedHeaders }
}

/**
 * The second half, over the whole request: the signature is recomputed with a maintained
 * implementation (@smithy/signature-v4, the one the AWS SDK signs with) over exactly the headers
 * the caller signed, and compared in constant time; no SigV4 arithmetic is written here.
 * Answers the access key id that signed. Errors carry the names AWS gives them.
 */
export const checkSignature = async (credential: Credential, request: SignedRequest, settings: SigV4Settings): Promise<string> => {
  const { auth, secret, signedAt, signedHeaders: headers } = credential
  // SECURITY: a signed payload hash must be the hash of this body, or the body could be swapped.
  const claimedHash = headers['x-amz-content-sha256']
  if (claimedHash !== undefined && claimedHash !== crypto.createHash('sha256').update(request.body).digest('hex')) {
    throw denied('The x-amz-content-sha256 header does not match the request body')
  }

  const signer = new SignatureV4({
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey: secret },
    region: settings.region,
    service: settings.service,
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: true,
    // Sign exactly what the caller signed: by default the signer adds x-amz-content-sha256 to the
    // signed headers, which botocore and the AWS CLI do not sign (the hash is in the signature).
    applyChecksum: false,
  })
  const expected = await signer.sign(
    new HttpRequest({ method: request.method, hostname: headers.host, path: request.path, query: { ...request.query }, headers: { ...headers }, body: request.body }),
    { signingDate: signedAt, signableHeaders: new Set(auth.signedHeaders) },
  )
  const recomputed = parseAuthorization(String(expected.headers.authorization))
  if (recomputed.signedHeaders.join(';') !== auth.signedHeaders.join(';') || !signatureMatches(recomputed.signature, auth.signature)) {
    throw denied('The request signature we calculated does not match the signature you provided')
  }
  return auth.accessKeyId
}

/** Both halves at once, for a request already read whole. */
export const verifySignature = async (request: SignedRequest, settings: SigV4Settings, secretOf: SecretLookup): Promise<string> =>
  checkSignature(await checkCredential(request.headers, settings, secretOf), request, settings)
