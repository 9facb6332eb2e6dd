import type { IncomingMessage, ServerResponse } from 'node:http'
import { authorizeScope } from '../../app/authorization'
import { parseKey, parseScope } from '../../app/secrets/secret-input'
import type { SecretsService } from '../../app/secrets/secrets.service'
import type { Tokens } from '../../app/clients/tokens'
import type { Logger } from '../../lib/logger'
import { bearerPrincipal } from './authenticate'
import { badPathEncoding, sendError } from './errors'
import { requestStarter } from '../http/request-context'
import { sendJson } from '../http/respond'

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
 * errors through the one error mapper. Returns false for any other request, which express serves.
 */
export const secretReadRoute = (secrets: SecretsService, tokens: Tokens, log: Logger): SecretReadRoute => {
  const startRequest = requestStarter(log)
  return (req, res) => {
    const read = matchRead(req)
    if (read === null) return false
    const locals = startRequest(req, res, read.path)
    const answer = async () => {
      const principal = await bearerPrincipal(tokens, req.headers.authorization)
      locals.principal = principal
      const scope = parseScope(read.organizationId === undefined ? undefined : decoded(read.organizationId))
      authorizeScope(principal, scope)
      sendJson(res, 200, await secrets.get(scope, parseKey(decoded(read.key))))
    }
    answer().catch((error: unknown) => sendError(res, locals, error))
    return true
  }
}
