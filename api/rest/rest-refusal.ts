/**
 * What the REST door refuses before any operation is asked, on what the request looks like on
 * the wire: no such route (404), a body too large (413), a body that is not JSON or not UTF-8,
 * a wrong content type, a path that does not decode (400: the guide answers every malformed
 * request with 400). Messages are fixed: they never echo what was sent.
 */
export class RestRefusal extends Error {
  constructor(
    readonly status: 400 | 404 | 413,
    message: string,
  ) {
    super(message)
    this.name = 'RestRefusal'
  }
}

export const routeNotFound = (): RestRefusal => new RestRefusal(404, 'Not found')

/** A path segment that does not percent-decode: the same 400 from express's router and from ours. */
export const badPathEncoding = (): RestRefusal => new RestRefusal(400, 'The request path is not validly encoded')

/** Errors that body-parser and the router raise for what a client sent. */
type HttpInputError = Error & { status?: number; statusCode?: number; type?: string }

/** The refusal for an error express or body-parser raised on a client's input, or null for any other error. */
export const inputRefusalOf = (error: unknown): RestRefusal | null => {
  if (error instanceof RestRefusal) return error
  if (!(error instanceof Error)) return null
  const { status = (error as HttpInputError).statusCode, type } = error as HttpInputError
  if (typeof status !== 'number' || status < 400 || status >= 500) return null
  if (status === 413) return new RestRefusal(413, 'The request body is too large')
  if (type === 'entity.parse.failed') return new RestRefusal(400, 'The request body is not valid JSON')
  if (error instanceof URIError) return badPathEncoding()
  return new RestRefusal(400, 'The request could not be read')
}
