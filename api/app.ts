import type { RequestListener } from 'node:http'
import express from 'express'
import type { ClientsService } from '../app/clients/clients.service'
import type { KeysAdmin } from '../app/keys/keys-admin'
import type { SecretsService } from '../app/secrets/secrets.service'
import type { Tokens } from '../app/clients/tokens'
import { RouteNotFoundError } from '../common/errors'
import type { Logger } from '../lib/logger'
import type { FunctionId, FunctionsNaming } from './lambda/function-names'
import type { FunctionHandler } from './lambda/handlers'
import { authenticate } from './rest/authenticate'
import { createRateLimiter } from './http/rate-limiter'
import { errorHandler } from './rest/errors'
import { requestContext } from './http/request-context'
import { adminRoutes } from './rest/admin.routes'
import { clientsRoutes } from './rest/clients.routes'
import { functionsRoutes } from './lambda/invoke.route'
import { healthRoutes } from './rest/health.routes'
import { oauthRoutes } from './rest/oauth.routes'
import { secretReadRoute } from './rest/secret-read.route'
import { secretsRoutes } from './rest/secrets.routes'

export type AppDeps = Readonly<{
  secrets: SecretsService
  clients: ClientsService
  tokens: Tokens
  keysAdmin: KeysAdmin
  /** The guide's functions, served through the AWS Lambda Invoke API. */
  functions: Readonly<Record<FunctionId, FunctionHandler>>
  naming: FunctionsNaming
  storeIsReady: () => Promise<boolean>
  log: Logger
  /** Token requests (and failed function signatures) allowed per minute, per address and per client id. */
  tokenRateLimit: number
}>

/**
 * The HTTP API, built from its dependencies so tests can hand in what they like: reads of a
 * secret on node:http directly (the hot path), everything else through express.
 */
export const createApp = (deps: AppDeps): RequestListener => {
  const reads = secretReadRoute(deps.secrets, deps.tokens, deps.log)
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
  app.use(oauthRoutes(deps.clients, createRateLimiter(deps.tokenRateLimit, 60_000)))
  // Function invocations authenticate with SigV4, not with a bearer token.
  app.use(
    functionsRoutes({
      handlers: deps.functions,
      clients: deps.clients,
      naming: deps.naming,
      failedSignatureLimiter: createRateLimiter(deps.tokenRateLimit, 60_000),
    }),
  )
  app.use(authenticate(deps.tokens))
  app.use(clientsRoutes(deps.clients))
  app.use(adminRoutes(deps.keysAdmin))
  app.use(secretsRoutes(deps.secrets))
  app.use(() => {
    throw new RouteNotFoundError()
  })
  app.use(errorHandler)
  return app
}
