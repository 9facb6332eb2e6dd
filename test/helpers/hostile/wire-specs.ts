import zlib from 'node:zlib'
import fc from 'fast-check'
import { anyAuth } from './auth'
import { anyBody } from './bodies'
import { contentType, extraHeaders, methods } from './headers'
import { ROUTE_NAMES, ROUTES } from './paths'
import { bodyKeys } from './route-specs'
import { bodyOf, notSeeded, type Spec } from './spec'
import { FUZZ_KEYS, FUZZ_ORG } from './stakes'
import { KiB, oneIn } from './strings'


export const gzipBomb = zlib.gzipSync(Buffer.from(`{"key":"fz-bomb","secret":{"blob":"${'x'.repeat(2 * 1024 * KiB)}"}}`))

/** Headers of every kind, and the wire itself: versions, framing, encodings, missing Host. */
export const headerSpecs: fc.Arbitrary<Spec> = fc
  .record({
    method: methods,
    route: fc.constantFrom(...ROUTE_NAMES),
    key: fc.constantFrom(...FUZZ_KEYS, 'fz-none'),
    org: fc.constantFrom(FUZZ_ORG, 'fz-other'),
    auth: anyAuth,
    contentType,
    body: fc.option(anyBody(bodyKeys), { freq: 4 }),
    headers: extraHeaders,
    encoding: oneIn(4, fc.constantFrom('gzip', 'gzip-junk', 'deflate', 'br', 'identity', 'x-unknown', 'gzip, gzip', 'GZIP', 'bomb')),
    chunkSize: oneIn(5, fc.integer({ min: 1, max: 2048 })),
    wire: oneIn(
      4,
      fc.oneof(
        fc.constantFrom<Partial<Spec>>(
          { version: 'HTTP/1.0' },
          { version: 'HTTP/0.9' },
          { version: 'HTTP/2.0' },
          { version: 'HTTP/1.2' },
          { version: 'http/1.1' },
          { version: 'HTTP/1.1 extra' },
          { version: '' },
          { noHost: true },
          { headers: [['Host', 'other.example']] },
          { headers: [['Content-Length', '5']] },
          { headers: [['Transfer-Encoding', 'gzip']] },
          { headers: [['X-Folded', 'a\r\n b']] },
          { headers: [['Bad Name', 'x']] },
          { headers: [['X-Nul', 'a\u0000b']] },
          { headers: [['X-Unicode-\u00e9', 'x']] },
          { headers: [['X-Utf8', '\u{1f511}\u0301']] },
          { headers: [['Expect', '100-continue']] },
          { headers: [['Expect', 'something-else']] },
          { headers: [[':authority', 'x']] },
          { headers: [['X-Bare-Cr', 'a\rb']] },
        ),
        fc.integer({ min: 17 * KiB, max: 70 * KiB }).map((n): Partial<Spec> => ({ headers: [['X-Filler', 'x'.repeat(n)]] })),
        fc.integer({ min: 200, max: 3000 }).map((n): Partial<Spec> => ({ headers: Array.from({ length: n }, (_, i) => [`x-h-${i}`, 'v'] as const) })),
        fc.string({ unit: 'binary-ascii', maxLength: 30 }).map((value): Partial<Spec> => ({ headers: [['X-Raw', value]] })),
      ),
    ),
  })
  .map(({ method, route, key, org, auth, contentType: type, body, headers, encoding, chunkSize, wire }): Spec => {
    let content = body
    if (content !== null && encoding !== null) {
      if (encoding === 'gzip' || encoding === 'GZIP' || encoding === 'gzip, gzip') {
        const once = zlib.gzipSync(content.bytes)
        content = { ...content, bytes: encoding === 'gzip, gzip' ? zlib.gzipSync(once) : once }
      } else if (encoding === 'deflate') content = { ...content, bytes: zlib.deflateSync(content.bytes) }
      else if (encoding === 'br') content = { ...content, bytes: zlib.brotliCompressSync(content.bytes) }
      else if (encoding === 'bomb') content = bodyOf(gzipBomb, true, 'a gzip bomb')
    }
    const contentEncoding = encoding === null ? undefined : encoding === 'gzip-junk' ? 'gzip' : encoding === 'bomb' ? 'gzip' : encoding
    return {
      family: 'headers',
      method,
      target: ROUTES[route](key, org),
      auth,
      ...(type === undefined ? {} : { contentType: type }),
      ...(contentEncoding === undefined ? {} : { contentEncoding }),
      ...(content === null ? {} : { body: content }),
      ...(chunkSize === null ? {} : { chunkSize }),
      ...(wire ?? {}),
      headers: [...headers, ...(wire?.headers ?? [])],
      seeded: false,
      mustRefuse: false,
    }
  })
  .filter(notSeeded)
