import fc from 'fast-check'
import { ADMIN_ID, ADMIN_SECRET } from '../vault-process'
import { anyAuth, authRefuses, b64 } from './auth'
import { anyBody } from './bodies'
import { contentType, extraHeaders, methods, ODD_TYPES } from './headers'
import { deepArrays, j } from './json'
import { decorated, percentEncode } from './paths'
import { bodyKeys } from './route-specs'
import { bodyOf, notSeeded, type Auth, type Body, type Spec } from './spec'
import { claim, FUZZ_ORG } from './stakes'
import { headerText, hostileId, KiB, sized, text, validId } from './strings'


export const FORM = 'application/x-www-form-urlencoded'
export const form = (fields: ReadonlyArray<readonly [string, string]>): string => fields.map(([n, v]) => `${percentEncode(n)}=${percentEncode(v)}`).join('&')

/** Client registrations: every field of every type. */
export const clientBody: fc.Arbitrary<Body> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc
      .record({ name: text(40), organizations: fc.array(validId.map(claim), { maxLength: 3 }), secrets: fc.boolean() }, { requiredKeys: ['name'] })
      .map((fields) => bodyOf(j(fields), false, 'a client that may be valid')),
  },
  {
    weight: 4,
    arbitrary: fc
      .record(
        {
          name: fc.oneof(text(30), sized(100, 300, ['n']), fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('', ' ', 'n'.repeat(128), 'n'.repeat(129))),
          organizations: fc.oneof(
            fc.array(hostileId, { maxLength: 5 }),
            fc.array(validId, { maxLength: 5 }),
            fc.jsonValue({ maxDepth: 2 }),
            fc.constantFrom(Array.from({ length: 1001 }, (_, i) => `org${i}`), Array.from({ length: 1000 }, () => FUZZ_ORG)),
          ),
          secrets: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })),
          admin: fc.oneof(fc.constant(false), fc.jsonValue({ maxDepth: 1 })),
          extra: fc.jsonValue({ maxDepth: 1 }),
        },
        { requiredKeys: [] },
      )
      .map((fields) => bodyOf(j(fields), false, 'client fields of random types')),
  },
  { weight: 1, arbitrary: fc.integer({ min: 33, max: 20_000 }).map((n) => bodyOf(`{"name":"deep","organizations":${deepArrays(n, '"x"')}}`, false, 'deep organizations')) },
  { weight: 1, arbitrary: sized(128 * KiB + 1, 160 * KiB, ['n']).map((name) => bodyOf(j({ name }), false, 'a body over 128 KiB')) },
  { weight: 2, arbitrary: anyBody(bodyKeys) },
)

export const tokenForm: fc.Arbitrary<string> = fc.oneof(
  fc
    .record(
      {
        grant_type: fc.oneof(fc.constant('client_credentials'), headerText(20), fc.constantFrom('password', 'CLIENT_CREDENTIALS', '')),
        client_id: fc.oneof(fc.constantFrom(ADMIN_ID, 'no-such-client', ''), text(20)),
        client_secret: fc.oneof(fc.constantFrom(ADMIN_SECRET, 'wrong', ''), text(20)),
        scope: text(10),
      },
      { requiredKeys: [] },
    )
    .map((fields) => form(Object.entries(fields))),
  fc.array(fc.tuple(text(10), text(10)), { maxLength: 30 }).map((pairs) => `grant_type=client_credentials&${form(pairs)}`),
  fc.constantFrom(
    '%E0%A4%A=1&grant_type=client_credentials&client_id=x&client_secret=y',
    'grant_type=client_credentials&grant_type=client_credentials&client_id=x&client_secret=y',
    `grant_type=client_credentials&client_id=${ADMIN_ID}&client_id=${ADMIN_ID}&client_secret=${ADMIN_SECRET}`,
    'grant_type[]=client_credentials&client_id[a]=x&client_secret=y',
    '&&&===&&',
    '%',
    '',
  ),
  sized(16 * KiB, 40 * KiB, ['a']).map((pad) => `grant_type=client_credentials&client_id=x&client_secret=y&pad=${pad}`),
  text(200),
)
export const basicAuth: fc.Arbitrary<Auth> = fc
  .oneof(
    fc.tuple(fc.oneof(fc.constant(ADMIN_ID), text(12)), fc.oneof(fc.constant(ADMIN_SECRET), text(12))).map(([id, secret]) => `Basic ${b64(`${percentEncode(id)}:${percentEncode(secret)}`)}`),
    text(30).map((s) => `Basic ${b64(s)}`),
    headerText(40).map((s) => `Basic ${s}`),
    fc.constantFrom('Basic', 'Basic ', `Basic ${b64('%E0%A4%A:x')}`, `basic ${b64(`${ADMIN_ID}:${ADMIN_SECRET}`)}`, `Basic ${'QUFB'.repeat(3000)}`),
  )
  .map((header) => ({ header }))

/** POST /clients and POST /oauth/token, and their neighbours. */
export const clientAndTokenSpecs: fc.Arbitrary<Spec> = fc.oneof(
  fc
    .record({
      method: fc.oneof({ weight: 6, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: methods }),
      target: decorated(fc.constant('/clients')),
      auth: fc.oneof({ weight: 4, arbitrary: fc.constant<Auth>('admin') }, { weight: 2, arbitrary: anyAuth }),
      contentType: fc.oneof({ weight: 6, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: contentType }),
      body: clientBody,
      headers: extraHeaders,
    })
    .map(({ contentType: type, ...rest }): Spec => ({
      family: 'clients',
      ...rest,
      ...(type === undefined ? {} : { contentType: type }),
      seeded: false,
      mustRefuse: rest.method === 'POST' && rest.target === '/clients' && (authRefuses(rest.auth, null) || rest.auth === 'limited'),
    })),
  fc
    .record({
      method: fc.oneof({ weight: 6, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: methods }),
      target: decorated(fc.constant('/oauth/token')),
      auth: fc.oneof({ weight: 3, arbitrary: fc.constant<Auth>('none') }, { weight: 2, arbitrary: basicAuth }, { weight: 1, arbitrary: anyAuth }),
      contentType: fc.oneof({ weight: 6, arbitrary: fc.constant(FORM) }, { weight: 1, arbitrary: contentType }, { weight: 1, arbitrary: fc.constantFrom(...ODD_TYPES) }),
      body: fc.oneof({ weight: 5, arbitrary: tokenForm.map((t) => bodyOf(t, false, 'a token form')) }, { weight: 1, arbitrary: anyBody(bodyKeys) }),
      headers: extraHeaders,
    })
    .map(({ contentType: type, ...rest }): Spec => ({
      family: 'token',
      ...rest,
      ...(type === undefined ? {} : { contentType: type }),
      seeded: false,
      mustRefuse: false,
    })),
).filter(notSeeded)
