import fc from 'fast-check'
import { ADMIN_ID, ADMIN_SECRET } from '../vault-process'
import { REFUSED_AUTH, type Auth } from './spec'
import { FUZZ_ORG } from './stakes'
import { headerText, text } from './strings'

// Who a hostile request claims to be: junk, refused and any credentials.


export const b64 = (value: string): string => Buffer.from(value, 'utf8').toString('base64')
export const junkAuth: fc.Arbitrary<Auth> = fc
  .oneof(
    headerText(60),
    headerText(60).map((s) => `Bearer ${s}`),
    text(40).map((s) => `Basic ${b64(s)}`),
    fc.base64String({ maxLength: 200 }).map((s) => `Bearer ${s}`),
    fc.tuple(fc.base64String({ maxLength: 60 }), fc.base64String({ maxLength: 200 }), fc.base64String({ maxLength: 60 })).map(([a, b, c]) => `Bearer ${a}.${b}.${c}`),
    fc.constantFrom(
      'Bearer',
      'Bearer ',
      'Basic',
      'Basic !!!',
      'Bearer null',
      'Bearer undefined',
      'Bearer ..',
      'Bearer a.b.c',
      'Bearer eyJhbGciOiJub25lIn0.e30.',
      'Digest username="x"',
      'Negotiate abc',
      `Basic ${b64(`${ADMIN_ID}:${ADMIN_SECRET}`)}`,
      `Basic ${b64(':')}`,
      'Bearer \u00e9\u00ff',
    ),
  )
  .map((header) => ({ header }))

export const refusedAuth: fc.Arbitrary<Auth> = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...REFUSED_AUTH) }, { weight: 2, arbitrary: junkAuth })
export const anyAuth: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<Auth>('admin') },
  { weight: 2, arbitrary: fc.constantFrom<Auth>('limited', 'admin-lowercase-scheme', 'admin-double-space') },
  { weight: 3, arbitrary: refusedAuth },
)

/** Refused on a secret route of `organizationId` (null: the standard namespace) or on /clients. */
export const authRefuses = (auth: Auth, organizationId: string | null): boolean =>
  typeof auth === 'object' || (REFUSED_AUTH as readonly Auth[]).includes(auth) || (auth === 'limited' && organizationId !== FUZZ_ORG)
