import { TextDecoder } from 'node:util'
import { Router, type NextFunction, type Request, type Response } from 'express'
import type { ClientsService } from '../../app/clients.service'
import { LambdaApiError, TooManyRequestsError } from '../../common/errors'
import type { Principal } from '../../common/types'
import { resolveFunction, type FunctionId, type FunctionsNaming } from '../../functions/function-names'
import type { FunctionHandler } from '../../functions/handlers'
import { invocationBody } from '../middleware/invocation-body'
import type { RateLimiter } from '../rate-limiter'
import { localsOf } from '../middleware/request-context'
import { checkCredential, checkSignature, type Credential, type SignedRequest } from '../sigv4-verifier'

export type FunctionsRoutesDeps = Readonly<{
  handlers: Readonly<Record<FunctionId, FunctionHandler>>
  clients: ClientsService
  naming: FunctionsNaming
  /** Failed signature checks allowed per minute, per address and per access key id. */
  failedSignatureLimiter: RateLimiter
  now?: () => number
}>

/** How far a signed request's date may be from the vault's clock, as the issue fixes it. */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000

const INVOCATION_TYPES = ['RequestResponse', 'Event', 'DryRun'] as const
type InvocationType = (typeof INVOCATION_TYPES)[number]

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

const invocationTypeOf = (req: Request): InvocationType => {
  const requested = req.get('x-amz-invocation-type') ?? 'RequestResponse'
  const known = INVOCATION_TYPES.find((type) => type === requested)
  if (known === undefined) {
    throw new LambdaApiError(400, 'InvalidParameterValueException', 'X-Amz-Invocation-Type must be RequestResponse, Event or DryRun')
  }
  return known
}

const signedRequestOf = (req: Request): SignedRequest => {
  const [path, search = ''] = req.originalUrl.split('?', 2)
  return {
    method: req.method,
    path,
    query: Object.fromEntries(new URLSearchParams(search)),
    headers: req.headers,
    body: req.body as Buffer,
  }
}

// An empty payload is `{}`, as on AWS Lambda. The payload must be JSON (in strict UTF-8, so a
// password is never silently altered); what shape it has is the function's to judge.
const parsePayload = (body: Buffer): unknown => {
  if (body.length === 0) return {}
  try {
    return JSON.parse(strictUtf8.decode(body))
  } catch {
    throw new LambdaApiError(400, 'InvalidRequestContentException', 'Could not parse request body into json')
  }
}

const notFound = (requested: string) =>
  new LambdaApiError(
    404,
    'ResourceNotFoundException',
    /^[A-Za-z0-9_:$.-]{1,170}$/.test(requested) ? `Function not found: ${requested}` : 'Function not found',
  )

/**
 * The AWS Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`), so the stock AWS
 * SDK can call the guide's functions on the vault itself. A request is signed with SigV4: the
 * access key id is a client id, the secret access key its client secret, and that client's
 * grants apply exactly as on REST.
 */
export const functionsRoutes = (deps: FunctionsRoutesDeps): Router => {
  const router = Router()
  const settings = { region: deps.naming.aws.region, service: 'lambda', maxSkewMs: MAX_CLOCK_SKEW_MS, now: deps.now ?? Date.now }

  // The limiter's refusal, in the shape the AWS SDK knows (it backs off and retries on it).
  const limited = (count: (key: string) => void) => (key: string) => {
    try {
      count(key)
    } catch (error) {
      if (!(error instanceof TooManyRequestsError)) throw error
      throw new LambdaApiError(429, 'TooManyRequestsException', 'Too many failed signatures; retry later', error.retryAfterSeconds)
    }
  }
  const limiter = { check: limited(deps.failedSignatureLimiter.check), take: limited(deps.failedSignatureLimiter.take) }

  type Caller = { credential: Credential; principal: Principal; limiterKeys: readonly string[] }
  const callers = new WeakMap<Response, Caller>()

  // A failed check counts against the address and the access key; past the limit both are refused.
  const counted = async <T>(keys: readonly string[], check: () => Promise<T>): Promise<T> => {
    try {
      return await check()
    } catch (error) {
      if (error instanceof LambdaApiError && error.status === 403) for (const key of keys) limiter.take(key)
      throw error
    }
  }

  /**
   * Before the body is read: the headers must name a registered client, be dated within the
   * allowed skew and sign what they must, so nobody else can make the vault buffer a payload
   * of up to 6 MiB. The client is looked up once: its secret checks the signature, its grants
   * then apply.
   */
  const checkCaller = async (req: Request, res: Response, next: NextFunction) => {
    const accessKey = /Credential=([^/,\s]{1,128})\//.exec(req.get('authorization') ?? '')?.[1] ?? ''
    const limiterKeys = [`address:${req.socket.remoteAddress ?? 'unknown'}`, `key:${accessKey}`]
    // SECURITY: a signature is a guess at the client secret, as a token request is. Past the limit
    // of failures, an address or access key is refused before its signature is even checked, so
    // a right guess looks the same as a wrong one until the window ends.
    for (const key of limiterKeys) limiter.check(key)
    let principal: Principal | null = null
    const credential = await counted(limiterKeys, () =>
      checkCredential(req.headers, settings, async (accessKeyId) => {
        const client = await deps.clients.secretOf(accessKeyId)
        principal = client?.principal ?? null
        return client?.clientSecret ?? null
      }),
    )
    if (principal === null) throw new Error('A checked credential has a client')
    callers.set(res, { credential, principal, limiterKeys })
    next()
  }

  /** After the body is read: the signature over all of it. */
  const authenticate = async (req: Request, res: Response): Promise<Principal> => {
    const caller = callers.get(res)
    if (caller === undefined) throw new Error('The caller is checked before the body is read')
    await counted(caller.limiterKeys, () => checkSignature(caller.credential, signedRequestOf(req), settings))
    localsOf(res).principal = caller.principal
    return caller.principal
  }

  // The SDK reports this header as the request id of every answer and error ($metadata.requestId).
  const requestIdHeader = (_req: Request, res: Response, next: () => void) => {
    res.setHeader('x-amzn-RequestId', localsOf(res).requestId)
    next()
  }

  router.post('/2015-03-31/functions/:functionName/invocations', requestIdHeader, checkCaller, invocationBody, async (req, res) => {
    const principal = await authenticate(req, res)
    const qualifier = new URLSearchParams(req.originalUrl.split('?', 2)[1] ?? '').get('Qualifier')
    const requested = String(req.params.functionName)
    const id = resolveFunction(deps.naming, requested, qualifier)
    if (id === null) throw notFound(requested)
    const invocationType = invocationTypeOf(req)
    if (invocationType === 'DryRun') return void res.status(204).end()

    const result = await deps.handlers[id](parsePayload(req.body as Buffer), principal)
    res.setHeader('X-Amz-Executed-Version', '$LATEST')
    // DESIGN: an `Event` invocation runs before it is acknowledged (202), so an acknowledged
    // change is durable, as on REST; the caller just does not get the result.
    if (invocationType === 'Event') return void res.status(202).end()
    res.status(200).json(result)
  })
  return router
}
