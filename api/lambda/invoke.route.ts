import { Router, type Request, type Response } from 'express'
import type { ClientsService } from '../../app/clients/clients.service'
import { LambdaApiError } from '../../common/errors'
import { resolveFunction, type FunctionId, type FunctionsNaming } from './function-names'
import type { FunctionHandler } from './handlers'
import { invocationBody } from './invocation-body'
import { decodeStrictUtf8 } from '../rest/json-body'
import { localsOf } from '../http/request-context'
import { sigv4Authentication } from '../sigv4/authenticate'
import type { RateLimiter } from '../http/rate-limiter'
import { principalOf } from '../rest/principal'

export type FunctionsRoutesDeps = Readonly<{
  handlers: Readonly<Record<FunctionId, FunctionHandler>>
  clients: ClientsService
  naming: FunctionsNaming
  /** Failed signature checks allowed per minute, per address and per access key id. */
  failedSignatureLimiter: RateLimiter
  now?: () => number
}>

const INVOCATION_TYPES = ['RequestResponse', 'Event', 'DryRun'] as const
type InvocationType = (typeof INVOCATION_TYPES)[number]

const invocationTypeOf = (req: Request): InvocationType => {
  const requested = req.get('x-amz-invocation-type') ?? 'RequestResponse'
  const known = INVOCATION_TYPES.find((type) => type === requested)
  if (known === undefined) {
    throw new LambdaApiError(400, 'InvalidParameterValueException', 'X-Amz-Invocation-Type must be RequestResponse, Event or DryRun')
  }
  return known
}

// An empty payload is `{}`, as on AWS Lambda. The payload must be JSON (in strict UTF-8, so a
// password is never silently altered); what shape it has is the function's to judge.
const parsePayload = (body: Buffer): unknown => {
  if (body.length === 0) return {}
  try {
    return JSON.parse(decodeStrictUtf8(body))
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
  const signed = sigv4Authentication({
    clients: deps.clients,
    region: deps.naming.aws.region,
    service: 'lambda',
    failedSignatureLimiter: deps.failedSignatureLimiter,
    now: deps.now,
  })

  // The SDK reports this header as the request id of every answer and error ($metadata.requestId).
  const requestIdHeader = (_req: Request, res: Response, next: () => void) => {
    res.setHeader('x-amzn-RequestId', localsOf(res).requestId)
    next()
  }

  // The signing credential is checked before the payload is read, the signature after.
  const invocation = [requestIdHeader, signed.beforeBody, invocationBody, signed.afterBody]
  router.post('/2015-03-31/functions/:functionName/invocations', ...invocation, async (req, res) => {
    const principal = principalOf(res)
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
