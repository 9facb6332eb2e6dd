import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Tokens } from '../../app/clients/tokens'
import type { Operations } from '../../app/operations'
import type { SecretRequest } from '../../app/secret-requests'
import type { Logger } from '../../lib/logger'
import { requestStarter } from '../http/request-context'
import { answer, sendError } from './answers'
import { bearerPrincipal } from './authenticate'
import { badPathEncoding } from './rest-refusal'

// `GET|HEAD /secrets/{key}` and `/organizations/{organizationId}/{key}`, matched as express
// matched them (any case, one optional trailing slash, query ignored).
const READ_PATH = /^\/(?:secrets\/([^/?#]+)|organizations\/([^/?#]+)\/([^/?#]+))\/?$/i

const decoded = (segment: string): string => {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw badPathEncoding()
  }
}

// The path without its query, as sent (no dot segments resolved); of a request in absolute form
// (`GET http://host/secrets/k`) too. null: no path this route could answer.
const pathOf = (url: string): string | null => {
  let start = 0
  if (!url.startsWith('/')) {
    const authority = url.indexOf('://')
    start = authority < 0 ? -1 : url.indexOf('/', authority + 3)
    if (start < 0) return null
  }
  const query = url.indexOf('?', start)
  return url.slice(start, query < 0 ? undefined : query)
}

/** A request this route answers: a read, with its path (no query) and raw segments. */
type ReadRequest = Readonly<{ path: string; organizationId: string | undefined; key: string }>

const matchRead = (req: IncomingMessage): ReadRequest | null => {
  if (req.method !== 'GET' && req.method !== 'HEAD') return null
  const path = pathOf(req.url ?? '')
  if (path === null) return null
  const match = READ_PATH.exec(path)
  if (match === null) return null
  return match[1] !== undefined ? { path, organizationId: undefined, key: match[1] } : { path, organizationId: match[2], key: match[3] }
}

export type SecretReadRoute = (req: IncomingMessage, res: ServerResponse) => boolean

/**
 * Reading a secret, the request every service makes at start and on every credential fetch,
 * served on node:http directly: express's routing and per-request work cost more than the read
 * itself (BENCHMARKS.md). It keeps the API's order and rules: request id and security headers,
 * 401 before anything else, 400 for a bad organization id, 403 before the key is judged, and
 * its answers through the REST door's one table (answers.ts). Returns false for any other request, which express serves.
 */
const NO_BODY = () => undefined

export const secretReadRoute = (operations: Operations, tokens: Tokens, log: Logger): SecretReadRoute => {
  const startRequest = requestStarter(log)
  return (req, res) => {
    const read = matchRead(req)
    if (read === null) return false
    const locals = startRequest(req, res, read.path)
    const serve = async () => {
      const principal = await bearerPrincipal(tokens, req.headers.authorization)
      locals.principal = principal
      const { organizationId } = read
      const request: SecretRequest =
        organizationId === undefined
          ? { namespace: 'standard', address: { key: decoded(read.key) }, body: NO_BODY }
          : { namespace: 'organization', address: { organizationId: decoded(organizationId), key: decoded(read.key) }, body: NO_BODY }
      answer(res, locals, await operations.getSecret(principal, request))
    }
    serve().catch((error: unknown) => sendError(res, locals, error))
    return true
  }
}
