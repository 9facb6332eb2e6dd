import type { NextFunction, Request, Response } from 'express'
import type { ClientsService } from '../../app/clients/clients.service'
import { TooManyRequestsError } from '../../common/errors'
import type { Principal } from '../../common/types'
import type { RateLimiter } from '../http/rate-limiter'
import { SigV4Error } from './sigv4-error'
import { checkCredential, checkSignature, type Credential, type SignedRequest } from './verifier'
import { localsOf } from '../http/request-context'

export type SigV4AuthenticationDeps = Readonly<{
  clients: Pick<ClientsService, 'secretOf'>
  region: string
  service: string
  /** Failed signature checks allowed per minute, per address and per access key id. */
  failedSignatureLimiter: RateLimiter
  now?: () => number
}>

/** How far a signed request's date may be from the vault's clock, as the issue fixes it. */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000

type Caller = Readonly<{ credential: Credential; principal: Principal; limiterKeys: readonly string[] }>

const signedRequestOf = (req: Request): SignedRequest => {
  const [path, search = ''] = req.originalUrl.split('?', 2)
  return { method: req.method, path, query: Object.fromEntries(new URLSearchParams(search)), headers: req.headers, body: req.body as Buffer }
}

/**
 * AWS Signature V4 where the access key id is a client id and the secret access key its client
 * secret. Two middlewares around the body reader: `beforeBody` checks what the headers alone can
 * show (a registered client, the date, the signed headers), so nobody else makes the vault read
 * a payload; `afterBody` checks the signature over the whole request and sets the principal.
 */
export const sigv4Authentication = (deps: SigV4AuthenticationDeps) => {
  const settings = { region: deps.region, service: deps.service, maxSkewMs: MAX_CLOCK_SKEW_MS, now: deps.now ?? Date.now }
  const callers = new WeakMap<Response, Caller>()

  // The limiter's refusal, in the shape the AWS SDK knows (it backs off and retries on it).
  const limited = (count: (key: string) => void) => (key: string) => {
    try {
      count(key)
    } catch (error) {
      if (!(error instanceof TooManyRequestsError)) throw error
      throw new SigV4Error(429, 'TooManyRequestsException', 'Too many failed signatures; retry later', error.retryAfterSeconds)
    }
  }
  const check = limited(deps.failedSignatureLimiter.check)
  const take = limited(deps.failedSignatureLimiter.take)

  // A failed check counts against the address and the access key; past the limit both are refused.
  const counted = async <T>(keys: readonly string[], run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } catch (error) {
      if (error instanceof SigV4Error && error.status === 403) for (const key of keys) take(key)
      throw error
    }
  }

  const beforeBody = async (req: Request, res: Response, next: NextFunction) => {
    const accessKey = /Credential=([^/,\s]{1,128})\//.exec(req.get('authorization') ?? '')?.[1] ?? ''
    const limiterKeys = [`address:${req.socket.remoteAddress ?? 'unknown'}`, `key:${accessKey}`]
    // SECURITY: a signature is a guess at the client secret, as a token request is. Past the limit
    // of failures, an address or access key is refused before its signature is even checked, so
    // a right guess looks the same as a wrong one until the window ends.
    for (const key of limiterKeys) check(key)
    // The client is looked up once: its secret checks the signature, its grants then apply.
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

  const afterBody = async (req: Request, res: Response, next: NextFunction) => {
    const caller = callers.get(res)
    if (caller === undefined) throw new Error('The caller is checked before the body is read')
    await counted(caller.limiterKeys, () => checkSignature(caller.credential, signedRequestOf(req), settings))
    localsOf(res).principal = caller.principal
    next()
  }

  return Object.freeze({ beforeBody, afterBody })
}
