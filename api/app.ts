import type { RequestListener } from 'node:http'
import express from 'express'
import type { ClientsService } from '../app/clients/clients.service'
import type { Tokens } from '../app/clients/tokens'
import type { Operations } from '../app/operations'
import type { Logger } from '../lib/logger'
import { createRateLimiter } from './http/rate-limiter'
import { requestContext } from './http/request-context'
import type { FunctionsNaming } from './lambda/function-names'
import { createFunctionHandlers } from './lambda/handlers'
import { invokeRoute } from './lambda/invoke.route'
import { adminRoutes } from './rest/admin.routes'
import { errorHandler } from './rest/answers'
import { authenticate } from './rest/authenticate'
import { clientsRoutes } from './rest/clients.routes'
import { healthRoutes } from './rest/health.routes'
import { oauthRoutes } from './rest/oauth.routes'
import { routeNotFound } from './rest/rest-refusal'
import { secretReadRoute } from './rest/secret-read.route'
import { secretsRoutes } from './rest/secrets.routes'

export type AppDeps = Readonly<{
  operations: Operations
  /** Bearer tokens (REST) are checked here; SigV4 (the Invoke API) checks a client's secret. */
  tokens: Tokens
  clients: Pick<ClientsService, 'secretOf'>
  /** The environment, region and account the guide's functions are named in. */
  naming: FunctionsNaming
  storeIsReady: () => Promise<boolean>
  log: Logger
  /** Token requests (and failed function signatures) allowed per minute, per address and per client id. */
  tokenRateLimit: number
}>

/**
 * The HTTP listener of every door, built from its dependencies so tests can hand in what they
 * like: reads of a secret on node:http directly (the hot path), everything else through express.
 */
export const createApp = (deps: AppDeps): RequestListener => {
  const reads = secretReadRoute(deps.operations, deps.tokens, deps.log)
  const app = expressApp(deps)
  return (req, res) => {
    if (!reads(req, res)) app(req, res)
  }
}

const expressApp = (deps: AppDeps) => {
  const app = express()
  app.disable('x-powered-by')
  app.disable('etag')
  app.set('query parser', false)
  app.use(requestContext(deps.log))
  app.use(healthRoutes(deps.storeIsReady))
  app.use(oauthRoutes(deps.operations, createRateLimiter(deps.tokenRateLimit, 60_000)))
  // Function invocations authenticate with SigV4, not with a bearer token.
  app.use(
    invokeRoute({
      handlers: createFunctionHandlers(deps.operations, deps.log),
      clients: deps.clients,
      naming: deps.naming,
      failedSignatureLimiter: createRateLimiter(deps.tokenRateLimit, 60_000),
    }),
  )
  app.use(authenticate(deps.tokens))
  app.use(clientsRoutes(deps.operations))
  app.use(adminRoutes(deps.operations))
  app.use(secretsRoutes(deps.operations))
  app.use(() => {
    throw routeNotFound()
  })
  app.use(errorHandler)
  return app
}
