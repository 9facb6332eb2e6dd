import { ValidationError } from '../common/errors'
import { organizationScope, STANDARD, type Principal, type Scope } from '../common/types'
import { authorizeScope } from './authorization'
import { readInput } from './outcomes'
import { isPlainObject, parseBody, parseOrganizationId } from './secrets/secret-input'

export type Namespace = 'standard' | 'organization'

/**
 * A request for a secret operation as a door hands it over, still raw: the namespace its route
 * or function names, the fields that say where the secret is when the door found them outside
 * the body (REST: the path), and the body, which is read only once the caller is authorized.
 * Without `address`, everything is in the body (a function's payload).
 */
export type SecretRequest = Readonly<{
  namespace: Namespace
  address?: Readonly<{ organizationId?: unknown; key?: unknown }>
  body: () => unknown
}>

/** What an operation reads: where the secret is beside its organization, and the body's fields. */
export type SecretFields = Readonly<{ address: readonly 'key'[]; body: readonly string[] }>

/** An authorized request: its scope, and its fields (the address included), not yet parsed. */
export type AuthorizedRequest = Readonly<{ scope: Scope; fields: Readonly<Record<string, unknown>> }>

const required = (fields: Readonly<Record<string, unknown>>, name: string): unknown => {
  if (fields[name] === undefined) throw new ValidationError(`${name} is required`)
  return fields[name]
}

// A standard secret has no organization: the field exists in the organization namespace only.
const inNamespace = (namespace: Namespace, names: readonly string[]) =>
  namespace === 'organization' ? names : names.filter((name) => name !== 'organizationId')

const scopeOf = (namespace: Namespace, where: Readonly<Record<string, unknown>>): Scope =>
  namespace === 'standard' ? STANDARD : organizationScope(parseOrganizationId(required(where, 'organizationId')))

// A function's payload: the scope comes from the payload, which must be an object, then every field.
const authorizePayload = async (principal: Principal, request: SecretRequest, fields: SecretFields): Promise<AuthorizedRequest> => {
  const payload = await readInput(request.body)
  if (!isPlainObject(payload)) throw new ValidationError('The payload must be a JSON object')
  const scope = scopeOf(request.namespace, payload)
  authorizeScope(principal, scope)
  return { scope, fields: parseBody(payload, inNamespace(request.namespace, ['organizationId', ...fields.address, ...fields.body])) }
}

// The body of a request whose address the door gave: read once authorized, its fields agreeing with the address.
const withBody = async (request: SecretRequest, address: Readonly<Record<string, unknown>>, scope: Scope, fields: SecretFields): Promise<AuthorizedRequest> => {
  const body = parseBody(await readInput(request.body), inNamespace(request.namespace, fields.body))
  for (const [name, given] of Object.entries(address)) {
    if (body[name] !== undefined && body[name] !== given) throw new ValidationError(`${name} in the body does not match the path`)
  }
  return { scope, fields: { ...body, ...address } }
}

/**
 * The scope rules, once for every door: the scope is parsed and authorized (deny by default)
 * before anything else of the request is read, so a client without the grant learns nothing
 * more; then the body may hold only the operation's fields. A field the door gave and the body
 * repeats (a create's organizationId, as the functions' payload names it) must agree. A request
 * with nothing to read (a REST read, delete or history) is answered without a turn of the event
 * loop: the hot path of every read.
 */
export const authorizeRequest = (
  principal: Principal,
  request: SecretRequest,
  fields: SecretFields,
): AuthorizedRequest | Promise<AuthorizedRequest> => {
  const { address } = request
  if (address === undefined) return authorizePayload(principal, request, fields)
  const scope = scopeOf(request.namespace, address)
  authorizeScope(principal, scope)
  return fields.body.length === 0 ? { scope, fields: address } : withBody(request, address, scope, fields)
}
