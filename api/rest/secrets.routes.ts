import { Router, type NextFunction, type Request, type Response } from 'express'
import { authorizeScope } from '../../app/authorization'
import { parseBody, parseCreateInput, parseKey, parseScope, parseUpdateInput } from '../../app/secrets/secret-input'
import type { SecretsService } from '../../app/secrets/secrets.service'
import { ValidationError } from '../../common/errors'
import type { Scope } from '../../common/types'
import { jsonBody } from './json-body'
import { principalOf } from './principal'

/** The two namespaces share every route shape; the organization's id comes from the path. */
const NAMESPACES = ['/secrets', '/organizations/:organizationId'] as const

const scopeOf = (req: Request): Scope => parseScope(req.params.organizationId)

// Deny by default, before the body is even read: a client without the grant learns nothing more.
const authorize = (req: Request, res: Response, next: NextFunction) => {
  authorizeScope(principalOf(res), scopeOf(req))
  next()
}

const createFields = (req: Request): Record<string, unknown> => {
  const organizationId = req.params.organizationId
  const fields = parseBody(req.body, organizationId === undefined ? ['key', 'secret', 'description'] : ['key', 'secret', 'description', 'organizationId'])
  // The functions' payload names the organization in the body; here the path decides.
  if (fields.organizationId !== undefined && fields.organizationId !== organizationId) {
    throw new ValidationError('organizationId in the body does not match the path')
  }
  return fields
}

// `/secrets//history` or `/organizations//key`: an empty key or organization id is bad input
// (400), not an unknown route. A trailing slash alone is left to the router.
const refuseEmptyIds = (req: Request, _res: Response, next: NextFunction) => {
  if (/^\/(secrets|organizations)\//.test(req.path) && req.path.slice(1, -1).includes('//')) {
    return next(new ValidationError('key and organizationId must not be empty'))
  }
  next()
}

/** Create, update, delete and history of standard and organization secrets (reads: secret-read.route.ts). */
export const secretsRoutes = (secrets: SecretsService): Router => {
  const router = Router()
  router.use(refuseEmptyIds)
  for (const base of NAMESPACES) {
    router.post(base, authorize, jsonBody, async (req, res) => {
      res.json(await secrets.create(principalOf(res).clientId, scopeOf(req), parseCreateInput(createFields(req))))
    })
    router.post(`${base}/:key`, authorize, jsonBody, async (req, res) => {
      const input = parseUpdateInput(parseBody(req.body, ['secret', 'description']))
      res.json(await secrets.update(principalOf(res).clientId, scopeOf(req), parseKey(req.params.key), input))
    })
    router.delete(`${base}/:key`, authorize, async (req, res) => {
      const outcome = await secrets.remove(principalOf(res).clientId, scopeOf(req), parseKey(req.params.key))
      // 204: it existed and is gone; 205: there was nothing to delete. Either way it is gone.
      res.status(outcome === 'deleted' ? 204 : 205).end()
    })
    router.get(`${base}/:key/history`, authorize, async (req, res) => {
      res.json({ events: await secrets.history(scopeOf(req), parseKey(req.params.key)) })
    })
  }
  return router
}
