import fc from 'fast-check'
import { headerText, validId } from './strings'

// Hostile headers and methods: content types accepted, refused and odd, any other header.


export const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/json;charset="UTF-8"']
/** Content types a write route must refuse for a JSON body. */
export const REFUSED_TYPES = [
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/octet-stream',
  'json',
  'text/json',
  'application/json; charset=utf-16',
  'application/json; charset=iso-8859-1',
  'application/json; charset=no-such-charset',
]
export const ODD_TYPES = [
  '',
  ' ',
  'application/json, text/plain',
  '*/*',
  'application/*',
  'application/vnd.api+json',
  'application/json;;;',
  'application/json; charset=',
  'application/json; charset=utf-8; charset=latin1',
  'application/json; boundary=x',
  'application/x-www-form-urlencoded; charset=utf-8',
  'APPLICATION/X-WWW-FORM-URLENCODED',
]
export const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...JSON_TYPES) },
  { weight: 2, arbitrary: fc.constantFrom(...REFUSED_TYPES) },
  { weight: 1, arbitrary: fc.constantFrom(...ODD_TYPES) },
  { weight: 1, arbitrary: headerText(40) },
  { weight: 1, arbitrary: fc.constant(undefined) },
)

export const RESERVED_HEADERS = new Set([
  'host', 'connection', 'content-length', 'transfer-encoding', 'expect', 'upgrade', 'keep-alive', 'authorization',
  'content-type', 'content-encoding', 'http2-settings', 'proxy-connection', 'te',
])
export const headerName = fc.oneof(
  fc.constantFrom(
    'x-request-id', 'accept', 'accept-encoding', 'accept-charset', 'accept-language', 'x-forwarded-for', 'x-forwarded-proto',
    'x-forwarded-host', 'forwarded', 'x-real-ip', 'x-http-method-override', 'x-method-override', 'cookie', 'origin', 'referer',
    'range', 'if-none-match', 'if-match', 'if-modified-since', 'user-agent', 'cache-control', 'pragma', 'trailer',
    'proxy-authorization', 'x-amz-target', 'x-api-key', 'dnt', 'max-forwards', 'via', 'content-language', 'content-md5',
    'content-range', 'content-disposition', 'x-vault-token', 'x-amz-date', 'x-amz-security-token',
  ),
  fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,30}$/).filter((name) => !RESERVED_HEADERS.has(name.toLowerCase())),
)
export const headerValue = fc.oneof(
  { weight: 6, arbitrary: headerText(80) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('DELETE', 'POST', 'PUT', '../../etc/passwd', '127.0.0.1', '*', 'bytes=0-1', 'gzip, br', 'text/html', 'a'.repeat(64), 'ÿ', '"', '', '__proto__'),
  },
  { weight: 1, arbitrary: validId },
)
export const extraHeaders = fc.array(fc.tuple(headerName, headerValue), { maxLength: 5 })

export const methods = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD') },
  { weight: 1, arbitrary: fc.constantFrom('TRACE', 'PROPFIND', 'SEARCH', 'LOCK', 'PURGE', 'MKCOL', 'get', 'Post', 'FOO', 'M-SEARCH', 'QUERY', 'DELETE ') },
)
