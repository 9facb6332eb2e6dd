import { authorizeScope } from '../../app/authorization'
import { isPlainObject, parseBody, parseCreateInput, parseKey, parseOrganizationId, parseUpdateInput } from '../../app/secrets/secret-input'
import type { SecretsService } from '../../app/secrets/secrets.service'
import { ValidationError } from '../../common/errors'
import type { Logger } from '../../lib/logger'
import { organizationScope, STANDARD, type Principal, type Scope } from '../../common/types'
import { failure, ok, type FunctionResult } from './function-result'
import type { FunctionId } from './function-names'

/** One function: the invocation's payload and who invokes it, in; the guide's body, out. */
export type FunctionHandler = (event: unknown, principal: Principal) => Promise<FunctionResult>

type Namespace = 'standard' | 'organization'

const required = (fields: Record<string, unknown>, name: string): unknown => {
  if (fields[name] === undefined) throw new ValidationError(`${name} is required`)
  return fields[name]
}

/**
 * The payload's scope, authorized before the rest of it is read: as on REST, a client without
 * the grant learns nothing about what else it sent.
 */
const authorizedScope = (namespace: Namespace, event: unknown, principal: Principal, fields: readonly string[]) => {
  if (!isPlainObject(event)) throw new ValidationError('The payload must be a JSON object')
  const scope: Scope =
    namespace === 'standard' ? STANDARD : organizationScope(parseOrganizationId(required(event, 'organizationId')))
  authorizeScope(principal, scope)
  const allowed = namespace === 'standard' ? fields : [...fields, 'organizationId']
  return { scope, payload: parseBody(event, allowed) }
}

/**
 * The eight functions of the guide, over the same application service as the REST routes: one
 * implementation of every rule, two doors. Payloads name the organization in `organizationId`.
 */
export const createFunctionHandlers = (secrets: SecretsService, log: Logger): Record<FunctionId, FunctionHandler> => {
  const guarded =
    (run: FunctionHandler): FunctionHandler =>
    async (event, principal) => {
      try {
        return await run(event, principal)
      } catch (error) {
        return failure(error, log)
      }
    }

  const create = (namespace: Namespace) =>
    guarded(async (event, principal) => {
      const { scope, payload } = authorizedScope(namespace, event, principal, ['key', 'secret', 'description'])
      return ok(await secrets.create(principal.clientId, scope, parseCreateInput({ ...payload, key: required(payload, 'key') })))
    })

  const get = (namespace: Namespace) =>
    guarded(async (event, principal) => {
      const { scope, payload } = authorizedScope(namespace, event, principal, ['key'])
      return ok(await secrets.get(scope, parseKey(required(payload, 'key'))))
    })

  const update = (namespace: Namespace) =>
    guarded(async (event, principal) => {
      const { scope, payload } = authorizedScope(namespace, event, principal, ['key', 'secret', 'description'])
      const key = parseKey(required(payload, 'key'))
      return ok(await secrets.update(principal.clientId, scope, key, parseUpdateInput(payload)))
    })

  const remove = (namespace: Namespace) =>
    guarded(async (event, principal) => {
      const { scope, payload } = authorizedScope(namespace, event, principal, ['key'])
      const outcome = await secrets.remove(principal.clientId, scope, parseKey(required(payload, 'key')))
      // As on REST: 204 when it existed and is gone, 205 when there was nothing to delete.
      return { statusCode: outcome === 'deleted' ? 204 : 205 }
    })

  return Object.freeze({
    'create-secret': create('standard'),
    'get-secret': get('standard'),
    'update-secret': update('standard'),
    'delete-secret': remove('standard'),
    'create-organization-secret': create('organization'),
    'get-organization-secret': get('organization'),
    'update-organization-secret': update('organization'),
    'delete-organization-secret': remove('organization'),
  })
}
