import fc from 'fast-check'
import { anyAuth, authRefuses } from './auth'
import { anyBody } from './bodies'
import { contentType, extraHeaders, methods, REFUSED_TYPES } from './headers'
import { decorated, ODD_PATHS, percentEncode, PRINTABLE, ROUTE_NAMES, ROUTES, segment } from './paths'
import { notSeeded, type Auth, type Spec } from './spec'
import { claim, FUZZ_KEYS, FUZZ_ORG, SEED_ORG } from './stakes'
import { hostileId, oneIn, text, validId } from './strings'


export const fuzzOrg = fc.oneof(
  { weight: 3, arbitrary: fc.constant(FUZZ_ORG) },
  { weight: 1, arbitrary: fc.constant(SEED_ORG) },
  { weight: 2, arbitrary: validId.map(claim) },
)
export const fuzzKey = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...FUZZ_KEYS) }, { weight: 3, arbitrary: hostileId })
export const bodyKeys = fuzzKey.map(claim)

/** Any method on any route, with any segments, decorations, credentials and body. */
export const routeSpecs: fc.Arbitrary<Spec> = fc
  .record({
    method: methods,
    target: fc.oneof(
      { weight: 8, arbitrary: decorated(fc.tuple(fc.constantFrom(...ROUTE_NAMES), segment, fc.oneof(segment, fuzzOrg)).map(([route, key, org]) => ROUTES[route](key, org))) },
      { weight: 1, arbitrary: decorated(fc.constantFrom(...ODD_PATHS)) },
      { weight: 1, arbitrary: fc.oneof(segment, text(40)).map((t) => `/${t}`) },
    ),
    auth: anyAuth,
    contentType,
    body: fc.option(anyBody(bodyKeys), { freq: 2 }),
    headers: extraHeaders,
  })
  .map(({ body, contentType: type, ...rest }) => ({
    family: 'routes',
    ...rest,
    ...(body === null ? {} : { body }),
    ...(type === undefined ? {} : { contentType: type }),
    seeded: false,
    mustRefuse: false,
  }))
  .filter(notSeeded)

/** Create and update bodies on the write routes, under the usual headers. */
export const bodySpecs: fc.Arbitrary<Spec> = fc
  .record({
    route: fc.constantFrom('create', 'update'),
    org: fc.option(fuzzOrg, { freq: 2 }),
    key: fuzzKey,
    body: anyBody(bodyKeys),
    auth: fc.oneof({ weight: 6, arbitrary: fc.constant<Auth>('admin') }, { weight: 1, arbitrary: anyAuth }),
    contentType: fc.oneof({ weight: 8, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: contentType }),
    encoded: fc.constantFrom('percent', 'printable', 'raw'),
    chunkSize: oneIn(8, fc.integer({ min: 1, max: 4096 })),
  })
  .map(({ route, org, key, body, auth, contentType: type, encoded, chunkSize }): Spec => {
    const segmentOf = (id: string) => (encoded === 'percent' ? percentEncode(id) : encoded === 'printable' ? percentEncode(id, PRINTABLE) : id)
    const ns = org === null ? '/secrets' : `/organizations/${segmentOf(org)}`
    const target = route === 'create' ? ns : `${ns}/${segmentOf(key)}`
    const refusedType = type === undefined || REFUSED_TYPES.includes(type)
    return {
      family: 'bodies',
      method: 'POST',
      target,
      auth,
      ...(type === undefined ? {} : { contentType: type }),
      body,
      headers: [],
      ...(chunkSize === null ? {} : { chunkSize }),
      seeded: false,
      mustRefuse: body.refused || refusedType || authRefuses(auth, org),
    }
  })
  .filter(notSeeded)
