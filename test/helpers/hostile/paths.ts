import fc from 'fast-check'
import { FUZZ_KEYS } from './stakes'
import { hostileId, oneIn, validId } from './strings'

// Hostile paths: segments percent-encoded or not, path tricks, routes, odd paths and decorations.


export const UNRESERVED = /[A-Za-z0-9._~-]/
export const PRINTABLE = /[!-~]/
/** Percent-encodes the UTF-8 bytes of `value`, keeping the characters `keep` matches. */
export const percentEncode = (value: string, keep: RegExp = UNRESERVED): string =>
  [...Buffer.from(value, 'utf8')]
    .map((byte) => {
      const char = String.fromCharCode(byte)
      return byte < 0x80 && keep.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
    })
    .join('')

export const PATH_TRICKS = [
  '..', '.', '%2e%2e', '%2E%2E', '%2e', '.%2e', '%2F', '%2f', '%5C', '\\', '%00', '%', '%g0', '%2', '%C0%AE', '%C0%AF',
  '%E0%80%AE', '%C1%9C', '%FF', '%ED%A0%80', '%EF%BB%BF', '%F4%90%80%80', '//', '/', ';', ';x=1', '?', '#', '%3F', '%23',
  '%20', '+', '~', '%25', '%252e', '%252F', '%u002e', '*', '%0D%0A', '%09', '%7F', '%C2%A0', '%E2%80%8B',
]

/** One path segment as sent: percent-encoded, partly encoded, raw bytes, or stitched from tricks. */
export const segment: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: hostileId.map((id) => percentEncode(id)) },
  { weight: 2, arbitrary: hostileId.map((id) => percentEncode(id, PRINTABLE)) },
  { weight: 1, arbitrary: hostileId },
  {
    weight: 3,
    arbitrary: fc.array(fc.oneof(fc.constantFrom(...PATH_TRICKS), validId, fc.constantFrom(...FUZZ_KEYS)), { minLength: 1, maxLength: 5 }).map((parts) => parts.join('')),
  },
)

export const ROUTES: Record<string, (key: string, org: string) => string> = {
  create: () => '/secrets',
  item: (key) => `/secrets/${key}`,
  history: (key) => `/secrets/${key}/history`,
  orgCreate: (_key, org) => `/organizations/${org}`,
  orgItem: (key, org) => `/organizations/${org}/${key}`,
  orgHistory: (key, org) => `/organizations/${org}/${key}/history`,
  tags: (key) => `/secrets/${key}/tags`,
  orgTags: (key, org) => `/organizations/${org}/${key}/tags`,
  schedule: (key) => `/secrets/${key}/schedule-deletion`,
  restore: (key, org) => `/organizations/${org}/${key}/restore`,
  clients: () => '/clients',
  token: () => '/oauth/token',
  health: () => '/health',
}
export const ROUTE_NAMES = Object.keys(ROUTES)

export const ODD_PATHS = [
  '/', '*', '', '/secrets/', '/organizations', '/organizations/', '/secrets/x/history/more', '/secrets/x/versions',
  '/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/secrets/..%2F..%2Fetc%2Fpasswd', '/.env', '/health/..', '/health/',
  '/HEALTH', '/clients/x', '/oauth', '/oauth/token/x', '/2015-03-31/functions/vault-dev-get-secret/invocations',
  '/favicon.ico', '/index.html', '/secrets?', '/?', '/#', '/%00', '/\u0000', '/%ff', '/secrets/%', '/secrets/%%',
  '/organizations//history', '/secrets//history', '/organizations/fz-org//', '///', '/./secrets', '/secrets/./',
]

/** Ways to dress up a path that a router may or may not see through. */
export const DECORATIONS: ReadonlyArray<(target: string) => string> = [
  (p) => `${p}/`,
  (p) => p.toUpperCase(),
  (p) => `${p}?x=1&x=2`,
  (p) => `${p}?${'q'.repeat(2000)}`,
  (p) => `${p}?__proto__[admin]=true`,
  (p) => `${p}#fragment`,
  (p) => `http://localhost${p}`,
  (p) => `HTTP://[::1]:1${p}`,
  (p) => `/${p}`,
  (p) => `/x/..${p}`,
  (p) => `/.${p}`,
  (p) => p.replace(/\//g, '//'),
  (p) => p.replace(/\//g, '%2F'),
  (p) => p.replace(/\//g, '\\'),
  (p) => `${p}%00`,
  (p) => `${p}/.`,
  (p) => `${p}/..`,
  (p) => `${p};jsessionid=1`,
  (p) => p.replace(/s/g, '%73'),
]
export const decorated = (base: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(base, oneIn(3, fc.integer({ min: 0, max: DECORATIONS.length - 1 }))).map(([target, which]) =>
    which === null ? target : DECORATIONS[which](target),
  )
