import { Router, type NextFunction, type Request, type Response } from 'express'
import type { Operations, SecretOperationName } from '../../app/operations'
import type { SecretRequest } from '../../app/secret-requests'
import { localsOf } from '../http/request-context'
import { answer } from './answers'
import { readJsonBody } from './json-body'
import { principalOf } from './principal'
import { RestRefusal } from './rest-refusal'

/** The two namespaces share every route shape; the organization's id comes from the path. */
const NAMESPACES = [
  { base: '/secrets', namespace: 'standard' },
  { base: '/organizations/:organizationId', namespace: 'organization' },
] as const

// The path names where the secret is; the body (JSON, read once the caller is authorized) the rest.
const requestOf = (req: Request, res: Response, namespace: SecretRequest['namespace']): SecretRequest => {
  const { organizationId, key } = req.params
  const address = namespace === 'organization' ? { organizationId } : {}
  return { namespace, address: key === undefined ? address : { ...address, key }, body: () => readJsonBody(req, res) }
}

// A listing's query string, as the fields of its request: each parameter at most once.
const queryOf = (req: Request): Record<string, string> => {
  const fields: Record<string, string> = {}
  for (const [name, value] of new URLSearchParams(req.originalUrl.split('?', 2)[1] ?? '')) {
    if (Object.hasOwn(fields, name)) throw new RestRefusal(400, 'A query parameter is repeated')
    fields[name] = value
  }
  return fields
}

const listingOf = (req: Request, namespace: SecretRequest['namespace']): SecretRequest => {
  const { organizationId } = req.params
  return { namespace, address: namespace === 'organization' ? { organizationId } : {}, body: () => queryOf(req) }
}

// `/secrets//history` or `/organizations//key`: an empty key or organization id is bad input
// (400), not an unknown route. A trailing slash alone is left to the router.
const refuseEmptyIds = (req: Request, _res: Response, next: NextFunction) => {
  if (/^\/(secrets|organizations)\//.test(req.path) && req.path.slice(1, -1).includes('//')) {
    return next(new RestRefusal(400, 'key and organizationId must not be empty'))
  }
  next()
}

/**
 * Create, update, delete, history, listing and tags of standard and organization secrets
 * (reads of one secret: secret-read.route.ts).
 */
export const secretsRoutes = (operations: Operations): Router => {
  const router = Router()
  router.use(refuseEmptyIds)
  const route = (name: SecretOperationName, namespace: SecretRequest['namespace']) => async (req: Request, res: Response) =>
    answer(res, localsOf(res), await operations[name](principalOf(res), requestOf(req, res, namespace)))
  for (const { base, namespace } of NAMESPACES) {
    router.get(base, async (req, res) => answer(res, localsOf(res), await operations.listSecrets(principalOf(res), listingOf(req, namespace))))
    router.post(base, route('createSecret', namespace))
    router.put(`${base}/:key/tags`, route('tagSecret', namespace))
    router.delete(`${base}/:key/tags`, route('untagSecret', namespace))
    router.post(`${base}/:key/schedule-deletion`, route('scheduleSecretDeletion', namespace))
    router.post(`${base}/:key/restore`, route('restoreSecret', namespace))
    router.post(`${base}/:key`, route('updateSecret', namespace))
    router.delete(`${base}/:key`, route('deleteSecret', namespace))
    router.get(`${base}/:key/history`, route('secretHistory', namespace))
  }
  return router
}
