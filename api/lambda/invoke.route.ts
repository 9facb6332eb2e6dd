import { Router, type NextFunction, type Request, type Response } from 'express'
import type { ClientsService } from '../../app/clients/clients.service'
import { decodeStrictUtf8 } from '../../lib/utf8'
import { sendJson } from '../http/respond'
import { SigV4Error } from '../sigv4/sigv4-error'
import { LambdaApiError } from './lambda-api-error'
import { resolveFunction, type FunctionId, type FunctionsNaming } from './function-names'
import type { FunctionHandler } from './handlers'
import { invocationBody } from './invocation-body'
import { localsOf } from '../http/request-context'
import { sigv4Authentication } from '../sigv4/authenticate'
import type { RateLimiter } from '../http/rate-limiter'

export type InvokeRouteDeps = Readonly<{
  handlers: Readonly<Record<FunctionId, FunctionHandler>>
  clients: Pick<ClientsService, 'secretOf'>
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

// The Invoke API's own refusals, as the AWS SDK reads them: the error's type in a header (the
// SDK takes it from there), `Type` says whose fault it is. Anything else is not this door's.
const invokeErrors = (error: unknown, _req: Request, res: Response, next: NextFunction) => {
  if (!(error instanceof LambdaApiError || error instanceof SigV4Error)) return next(error)
  if (error instanceof SigV4Error && error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds))
  res.setHeader('x-amzn-ErrorType', error.errorType)
  sendJson(res, error.status, { Type: 'User', message: error.message })
}

/**
 * The AWS Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`), so the stock AWS
 * SDK can call the guide's functions on the vault itself. A request is signed with SigV4: the
 * access key id is a client id, the secret access key its client secret, and that client's
 * grants apply exactly as on REST.
 */
export const invokeRoute = (deps: InvokeRouteDeps): Router => {
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
    const principal = localsOf(res).principal
    if (principal === undefined) throw new Error('The signature check names the caller')
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
  return router.use(invokeErrors)
}
