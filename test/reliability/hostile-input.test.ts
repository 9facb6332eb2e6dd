import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'
import fc from 'fast-check'
import type pg from 'pg'
import { deriveKey, masterKeyFrom } from '../../common/encryption'
import { adminToken, clientWith, request } from '../helpers/api'
import { connectToStore, dumpStore } from '../helpers/database'
import { dataKeyOpener } from '../helpers/keys'
import { ADMIN_ID, ADMIN_SECRET, newVaultSetup, startVault, type VaultProcess } from '../helpers/vault-process'

// Hostile input, property-based: thousands of generated requests over every REST route (random
// JSON, deep nesting, huge strings, unicode and control characters, path tricks, duplicate
// attribute names, wrong types, oversized bodies, wrong and missing headers). Whatever arrives:
// never a 5xx, never a crash, an error body is JSON with a `message` and no stack or SQL, and a
// refused request changes nothing stored.
//
// Requests go out on raw sockets, so the method, target, headers and body reach the vault byte
// for byte (node:http and fetch would refuse or normalize many of them first).
//
// Writes may succeed only in the fuzzer's own namespace: every key a generated body may create
// starts with "fz". Every request aimed at a seeded secret that could write (any method but
// GET, HEAD, OPTIONS, TRACE) carries something that must make it refused: no or a bad token, a
// token without the grant, a wrong content type, or a body the contract (or the bad input suite)
// refuses. At the end the seeded secrets, their rows and their events are exactly as they were,
// and every event stored is accounted for by a write the vault answered with success.
//
// A failure names its property and prints fast-check's seed and path; replay it with
// HOSTILE_INPUT_PROPERTY=<property> HOSTILE_INPUT_SEED=<seed> HOSTILE_INPUT_PATH=<path> \
//   npx jest test/reliability/hostile-input.test.ts

const KiB = 1024

/** Cases per property; their sum is the cases of one run (at least 10,000 at scale 1). */
const SCALE = Number(process.env.HOSTILE_INPUT_SCALE ?? '1')
const RUNS = {
  routes: 2500,
  bodies: 3000,
  headers: 1500,
  clientsAndTokens: 1500,
  seeded: 1500,
} as const
const runsOf = (name: keyof typeof RUNS): number => Math.max(1, Math.round(RUNS[name] * SCALE))

/** A replay (HOSTILE_INPUT_SEED, HOSTILE_INPUT_PATH) applies to HOSTILE_INPUT_PROPERTY, or to all. */
const replayOf = (name: keyof typeof RUNS): { seed?: number; path?: string } => {
  const { HOSTILE_INPUT_PROPERTY: only, HOSTILE_INPUT_SEED: seed, HOSTILE_INPUT_PATH: replayPath } = process.env
  if (only !== undefined && only !== name) return {}
  return { ...(seed !== undefined ? { seed: Number(seed) } : {}), ...(replayPath !== undefined ? { path: replayPath } : {}) }
}

// ------------------------------------------------------------------------ what is at stake

const SEED_ORG = 'seed-org'
const FUZZ_ORG = 'fz-org'
/** Seeded in both namespaces: created, then updated. */
const KEPT = 'seeded-kept'
/** Seeded in both namespaces: created, deleted, created again, with no description. */
const REBORN = 'seeded.reborn@2'
/** Seeded in both namespaces: created, then deleted (only its history is left). */
const GONE = 'seeded-gone'
const SEEDED_KEYS = [KEPT, REBORN, GONE] as const
const LIVE_SEEDED = [KEPT, REBORN] as const
const SEEDED_NAMESPACES = ['/secrets', `/organizations/${SEED_ORG}`] as const
/** Created before the run in the fuzzer's namespace, so that updates and deletes hit something. */
const FUZZ_KEYS = ['fz-a', 'fz.b@2', 'fzC'] as const
/** In every generated secret value: it must never come back in an error, a log line or at rest. */
const MARK = `fzmark${crypto.randomBytes(4).toString('hex')}`

const ID = /^[A-Za-z0-9][A-Za-z0-9_+=.@-]{0,255}$/

/** A key a generated create may store: the fuzzer's namespace ("fz..."), never a seeded key. */
const claim = <T>(id: T): T | string => (typeof id === 'string' && ID.test(id) && !id.startsWith('fz') ? `fz${id}` : id)

/** Percent-decodes what decodes, leaves the rest: what a router could make of some text. */
const lenientDecode = (text: string): string =>
  text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run)
    } catch {
      return run
    }
  })

const SEEDED_NEEDLES = SEEDED_KEYS.map((key) => key.toLowerCase())
const mentionsSeeded = (text: string): boolean => {
  const lower = `${text}\n${lenientDecode(text)}`.toLowerCase()
  return SEEDED_NEEDLES.some((needle) => lower.includes(needle))
}

// ---------------------------------------------------------------------- the request model

/** Who the request claims to be; tokens are filled in once the vault runs. */
type Auth =
  | 'admin'
  | 'admin-lowercase-scheme'
  | 'admin-double-space'
  | 'limited'
  | 'ungranted'
  | 'none'
  | 'alg-none'
  | 'wrong-key'
  | 'tampered'
  | 'expired'
  | 'wrong-audience'
  | 'truncated'
  | 'admin-no-scheme'
  | 'admin-token-scheme'
  | 'admin-basic-scheme'
  | 'admin-twice'
  | Readonly<{ header: string }>

/** Certainly refused (401 or 403) on every secret route and on /clients, whatever the namespace. */
const REFUSED_AUTH = [
  'none',
  'alg-none',
  'wrong-key',
  'tampered',
  'expired',
  'wrong-audience',
  'truncated',
  'ungranted',
  'admin-no-scheme',
  'admin-token-scheme',
  'admin-basic-scheme',
  'admin-twice',
] as const satisfies readonly Auth[]

type Body = Readonly<{
  bytes: Buffer
  /** Refused by every secret write route (create and update), whatever the key or namespace. */
  refused: boolean
  note: string
}>

type Spec = Readonly<{
  family: string
  method: string
  /** The request-target, as sent (UTF-8 bytes). */
  target: string
  auth: Auth
  contentType?: string
  contentEncoding?: string
  body?: Body
  headers: ReadonlyArray<readonly [string, string]>
  /** Sent with Transfer-Encoding: chunked in chunks of this size, instead of Content-Length. */
  chunkSize?: number
  version?: string
  noHost?: boolean
  /** Aimed at a seeded secret on purpose. */
  seeded: boolean
  /** Must be answered with a 4xx (it could write, and carries something that must refuse it). */
  mustRefuse: boolean
}>

const clip = (text: string, length = 160): string =>
  text.length > length ? `${text.slice(0, length)}...(${text.length} chars)` : text

const describeSpec = (spec: Spec): string =>
  JSON.stringify({
    family: spec.family,
    method: spec.method,
    target: clip(spec.target),
    auth: spec.auth,
    contentType: spec.contentType,
    contentEncoding: spec.contentEncoding,
    headers: spec.headers.map(([name, value]) => `${clip(name, 40)}: ${clip(value, 80)}`),
    chunkSize: spec.chunkSize,
    version: spec.version,
    noHost: spec.noHost,
    body:
      spec.body === undefined
        ? undefined
        : { note: spec.body.note, refused: spec.body.refused, bytes: spec.body.bytes.length, text: clip(spec.body.bytes.toString('utf8'), 300) },
    seeded: spec.seeded,
    mustRefuse: spec.mustRefuse,
  })

/** Gives a spec a short printed form, so that fast-check's counterexample stays readable. */
const printable = (spec: Spec): Spec => Object.assign(spec, { [fc.toStringMethod]: () => describeSpec(spec) })

const mentions = (spec: Spec): boolean =>
  mentionsSeeded(
    [spec.target, ...spec.headers.flat(), spec.contentType ?? '', typeof spec.auth === 'object' ? spec.auth.header : '', spec.body?.bytes.toString('utf8') ?? ''].join('\n'),
  )

/** A fuzz request never names a seeded key by accident: only the seeded property aims at them. */
const notSeeded = (spec: Spec): boolean => !mentions(spec)

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

// ------------------------------------------------------------------------------- strings

const ODD_UNITS = [
  '.', '..', '/', '\\', '%', '?', '#', ';', ':', ' ', '\t', '\n', '\r', '\r\n', '\u0000', '\u0001', '\u001f', '\u007f',
  '\u0085', '\u00a0', '\u200b', '\u200e', '\u202e', '\u2028', '\ufeff', '\ufffd', '\ud800', '\udfff', '\ud83d', 'é', 'e\u0301',
  'ｋ', 'İ', 'ß', 'ǅ', 'Σ', '\u{1f511}', '\u{10ffff}', '_', '-', '+', '=', '@', '~', '*', '$', '{', '}', '[', ']', '"', "'",
  '<', '>', '&', '`', 'a', 'Z', '0', '9', '__proto__', 'constructor', '%00', '%2F', '%2e',
]
const oddString = (maxLength: number) => fc.string({ unit: fc.constantFrom(...ODD_UNITS), maxLength })

/** Text of every kind: ASCII, any code point, control characters, graphemes, and the usual suspects. */
const text = (maxLength = 24): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'binary-ascii', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    oddString(maxLength),
  )

/** Printable Latin-1, the most a well-formed header value can carry. */
const headerText = (maxLength = 60): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)),
    maxLength,
  })

/** A long string of about `min`-`max` UTF-8 bytes, built by repetition (fast to generate). */
const sized = (min: number, max: number, units: readonly string[] = ['x', 'é', '\u{1f511}', 'ab ']) =>
  fc
    .tuple(fc.integer({ min, max }), fc.constantFrom(...units))
    .map(([bytes, unit]) => unit.repeat(Math.max(1, Math.ceil(bytes / Buffer.byteLength(unit)))))

/** `arbitrary`'s value once in `n` cases, null otherwise (and when shrinking). */
const oneIn = <T>(n: number, arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: n - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary })

const PROTO_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'null', 'undefined', 'NaN', '0', '-1', '1e3']

const validId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_+=.@-]{0,24}$/)

/** Keys and organization ids of every kind, valid ones included. */
const hostileId: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: validId },
  { weight: 4, arbitrary: text(24) },
  { weight: 1, arbitrary: fc.constantFrom('', '.', '..', '...', '-a', '_a', '@a', '=a', 'a/b', 'a\\b', 'a b', 'a.', 'a..', ...PROTO_NAMES) },
  { weight: 1, arbitrary: fc.constantFrom(255, 256, 257, 1000, 6 * KiB).map((n) => 'k'.repeat(n)) },
  { weight: 1, arbitrary: fc.tuple(validId, oddString(4)).map(([id, tail]) => `${id}${tail}`) },
  { weight: 1, arbitrary: fc.constantFrom(...FUZZ_KEYS) },
)

// ---------------------------------------------------------------------------------- paths

const UNRESERVED = /[A-Za-z0-9._~-]/
const PRINTABLE = /[!-~]/
/** Percent-encodes the UTF-8 bytes of `value`, keeping the characters `keep` matches. */
const percentEncode = (value: string, keep: RegExp = UNRESERVED): string =>
  [...Buffer.from(value, 'utf8')]
    .map((byte) => {
      const char = String.fromCharCode(byte)
      return byte < 0x80 && keep.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
    })
    .join('')

const PATH_TRICKS = [
  '..', '.', '%2e%2e', '%2E%2E', '%2e', '.%2e', '%2F', '%2f', '%5C', '\\', '%00', '%', '%g0', '%2', '%C0%AE', '%C0%AF',
  '%E0%80%AE', '%C1%9C', '%FF', '%ED%A0%80', '%EF%BB%BF', '%F4%90%80%80', '//', '/', ';', ';x=1', '?', '#', '%3F', '%23',
  '%20', '+', '~', '%25', '%252e', '%252F', '%u002e', '*', '%0D%0A', '%09', '%7F', '%C2%A0', '%E2%80%8B',
]

/** One path segment as sent: percent-encoded, partly encoded, raw bytes, or stitched from tricks. */
const segment: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: hostileId.map((id) => percentEncode(id)) },
  { weight: 2, arbitrary: hostileId.map((id) => percentEncode(id, PRINTABLE)) },
  { weight: 1, arbitrary: hostileId },
  {
    weight: 3,
    arbitrary: fc.array(fc.oneof(fc.constantFrom(...PATH_TRICKS), validId, fc.constantFrom(...FUZZ_KEYS)), { minLength: 1, maxLength: 5 }).map((parts) => parts.join('')),
  },
)

const ROUTES: Record<string, (key: string, org: string) => string> = {
  create: () => '/secrets',
  item: (key) => `/secrets/${key}`,
  history: (key) => `/secrets/${key}/history`,
  orgCreate: (_key, org) => `/organizations/${org}`,
  orgItem: (key, org) => `/organizations/${org}/${key}`,
  orgHistory: (key, org) => `/organizations/${org}/${key}/history`,
  clients: () => '/clients',
  token: () => '/oauth/token',
  health: () => '/health',
}
const ROUTE_NAMES = Object.keys(ROUTES)

const ODD_PATHS = [
  '/', '*', '', '/secrets/', '/organizations', '/organizations/', '/secrets/x/history/more', '/secrets/x/versions',
  '/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/secrets/..%2F..%2Fetc%2Fpasswd', '/.env', '/health/..', '/health/',
  '/HEALTH', '/clients/x', '/oauth', '/oauth/token/x', '/2015-03-31/functions/vault-dev-get-secret/invocations',
  '/favicon.ico', '/index.html', '/secrets?', '/?', '/#', '/%00', '/\u0000', '/%ff', '/secrets/%', '/secrets/%%',
  '/organizations//history', '/secrets//history', '/organizations/fz-org//', '///', '/./secrets', '/secrets/./',
]

/** Ways to dress up a path that a router may or may not see through. */
const DECORATIONS: ReadonlyArray<(target: string) => string> = [
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
const decorated = (base: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(base, oneIn(3, fc.integer({ min: 0, max: DECORATIONS.length - 1 }))).map(([target, which]) =>
    which === null ? target : DECORATIONS[which](target),
  )

// ---------------------------------------------------------------------------------- bodies

const j = (value: unknown): string => JSON.stringify(value)
const member = (name: string, valueText: string): string => `${j(name)}:${valueText}`
const objectText = (members: ReadonlyArray<string | null>): string => `{${members.filter((m): m is string => m !== null).join(',')}}`
const bodyOf = (content: string | Buffer, refused: boolean, note: string): Body => ({
  bytes: Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8'),
  refused,
  note,
})

const markValue = fc.string({ maxLength: 12 }).map((tail) => `${MARK}${tail}`)
const camelName = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,12}$/)

/** A secret the vault should store: camelCase names, a marked value, JSON of every kind. */
const goodSecret: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ user: text(16), pwd: markValue }),
  fc
    .tuple(fc.dictionary(camelName, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }), markValue)
    .map(([fields, pwd]) => ({ ...fields, pwd })),
  fc
    .tuple(fc.dictionary(camelName, fc.jsonValue({ maxDepth: 2, stringUnit: 'binary' }), { maxKeys: 4 }), markValue)
    .map(([fields, pwd]) => ({ ...fields, pwd })),
)

/** A JSON value of any type but a plain object. */
const notAnObjectValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)),
  fc.array(goodSecret, { maxLength: 2 }),
  markValue,
  goodSecret.map((secret) => j(secret)),
  fc.constantFrom('', 0, -0, 1e308, true, false, null, [], [[]]),
)

/** Nesting as text: `levels` objects, one inside the other, the innermost being `leaf`. */
const deepObjects = (levels: number, leaf: string): string => `${'{"a":'.repeat(levels - 1)}${leaf}${'}'.repeat(levels - 1)}`
const deepArrays = (levels: number, leaf: string): string => `${'['.repeat(levels)}${leaf}${']'.repeat(levels)}`

const optionalKey = (keys: fc.Arbitrary<unknown>) => fc.option(keys.map((key) => member('key', j(key))))
const optionalDescription = fc.option(
  fc.oneof(text(60), fc.constant('d'.repeat(2048)), fc.constant('é'.repeat(2048))).map((d) => member('description', j(d))),
)

/** Two attribute names that the contract says become one after camelCase conversion. */
const collidingNames: fc.Arbitrary<[string, string]> = fc
  .tuple(fc.array(fc.stringMatching(/^[a-z]{2,6}$/), { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 4 }))
  .map(([words, first, shift]) => {
    const cap = (w: string) => w.charAt(0).toUpperCase() + w.slice(1)
    const forms = [
      words.join('_'),
      words.join('-'),
      words[0] + words.slice(1).map(cap).join(''),
      words.map(cap).join(''),
      words.join(' '),
    ]
    // Words of two letters or more: "aB" reads as "a" + the acronym "B". One word has fewer
    // distinct forms: "pwd" and "PWD" (the contract's own example) collide.
    if (words.length === 1) return [words[0], words[0].toUpperCase()] as [string, string]
    return [forms[first], forms[(first + shift) % forms.length]] as [string, string]
  })
  .filter(([a, b]) => a !== b)

/** Past the 2048 characters a description may have (the bad input suite's limit). */
const longDescription = fc.tuple(fc.integer({ min: 2049, max: 8 * KiB }), fc.constantFrom('d', 'é')).map(([length, unit]) => unit.repeat(length))

/** Bodies that every secret write route must refuse, each built around a key from `keys`. */
const refusedBody = (keys: fc.Arbitrary<unknown>): fc.Arbitrary<Body> => {
  const key = optionalKey(keys)
  const good = fc.tuple(key, goodSecret, optionalDescription).map(([k, secret, d]) => objectText([k, member('secret', j(secret)), d]))
  return fc.oneof(
    notAnObjectValue.map((value) => bodyOf(j(value), true, 'not a JSON object')),
    fc.constantFrom('', '  \n ', 'null', '[]', '"{}"', '1').map((t) => bodyOf(t, true, 'empty or not an object')),
    fc
      .tuple(good, fc.integer({ min: 0, max: 9 }), fc.nat())
      .map(([t, how, at]) => {
        const damaged = [
          () => t.slice(0, 1 + (at % (t.length - 1))),
          () => `${t}}`,
          () => `${t}{}`,
          () => `${t} 1`,
          () => t.replace(/}$/, ',}'),
          () => t.replace(/"/g, "'"),
          () => t.replace(/}$/, ',"n":NaN}'),
          () => t.replace(/^{/, '{ /* comment */ '),
          () => t.replace(MARK, `${MARK}\u0001`),
          () => t.replace(/^{/, '{"'),
        ][how]()
        return bodyOf(damaged, true, 'malformed JSON')
      }),
    fc.tuple(key, optionalDescription).map(([k, d]) => bodyOf(objectText([k, d]), true, 'no secret')),
    fc.tuple(key, notAnObjectValue, optionalDescription).map(([k, s, d]) => bodyOf(objectText([k, member('secret', j(s)), d]), true, 'secret not an object')),
    fc
      .tuple(key, collidingNames, markValue, fc.integer({ min: 1, max: 6 }), fc.boolean())
      .map(([k, [a, b], value, depth, inArray]) => {
        const colliding = objectText([member(a, j(value)), member(b, j(value))])
        const secret = inArray ? objectText([member('list', `[{"ok":1},${colliding}]`)]) : deepObjects(depth, colliding)
        return bodyOf(objectText([k, member('secret', secret)]), true, 'attribute names that collide after camelCase')
      }),
    fc
      .tuple(key, sized(64 * KiB + 16, 110 * KiB, ['x', 'é', 'ab']))
      .map(([k, blob]) => bodyOf(objectText([k, member('secret', j({ blob, pwd: MARK }))]), true, 'a secret over 64 KiB')),
    fc
      .tuple(key, sized(128 * KiB + 1, 200 * KiB), fc.boolean())
      .map(([k, blob, asPadding]) =>
        bodyOf(asPadding ? `${objectText([k, member('secret', j({ pwd: MARK }))])}${' '.repeat(Buffer.byteLength(blob))}` : objectText([k, member('secret', j({ blob, pwd: MARK }))]), true, 'a body over 128 KiB'),
      ),
    fc
      .tuple(key, goodSecret, fc.oneof(text(16), fc.constantFrom(...PROTO_NAMES, 'Secret', 'SECRET', 'secret ', 'keys', 'value', 'id', 'arn', 'ern')), fc.jsonValue({ maxDepth: 2 }))
      .filter(([, , name]) => !['key', 'secret', 'description', 'organizationId'].includes(name))
      .map(([k, secret, name, value]) => bodyOf(objectText([k, member('secret', j(secret)), member(name, j(value))]), true, 'an unknown field')),
    fc
      .tuple(key, fc.integer({ min: 33, max: 5000 }), fc.boolean())
      .map(([k, levels, arrays]) =>
        bodyOf(
          objectText([k, member('secret', arrays ? `{"list":${deepArrays(levels, j(MARK))}}` : deepObjects(levels, j({ pwd: MARK })))]),
          true,
          'a secret nested too deep',
        ),
      ),
    fc
      .tuple(key, goodSecret, fc.constantFrom('key', 'description', 'unknown', 'body'), fc.integer({ min: 100, max: 60_000 }))
      .map(([k, secret, where, levels]) => {
        const deep = deepArrays(levels, j(MARK))
        const members = [where === 'key' ? null : k, member('secret', j(secret))]
        if (where === 'body') return bodyOf(deep, true, 'nesting too deep outside the secret')
        const name = where === 'unknown' ? 'extra' : where
        return bodyOf(objectText([...members, member(name, deep)]), true, 'nesting too deep outside the secret')
      }),
    fc
      .tuple(key, goodSecret, fc.oneof(fc.jsonValue({ maxDepth: 2 }).filter((v) => typeof v !== 'string'), longDescription))
      .map(([k, secret, d]) => bodyOf(objectText([k, member('secret', j(secret)), member('description', j(d))]), true, 'a bad description')),
    fc
      .tuple(key, fc.constantFrom('', '_', '-', '___', ' ', '$', '%', '.', '\u{1f511}', '\u0000', '\t', '@@', '!?'), markValue)
      .map(([k, name, value]) => bodyOf(objectText([k, member('secret', objectText([member('ok', '1'), member(name, j(value))]))]), true, 'an attribute name with no letter or digit')),
    fc
      .tuple(key, goodSecret, fc.constantFrom([0xff], [0xc0, 0xaf], [0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]))
      .map(([k, secret, bytes]) => {
        const [head, tail] = objectText([k, member('secret', j(secret))]).split(MARK)
        return bodyOf(Buffer.concat([Buffer.from(`${head}${MARK}`), Buffer.from(bytes), Buffer.from(tail)]), true, 'bytes that are not UTF-8')
      }),
    fc
      .tuple(key, notAnObjectValue, notAnObjectValue)
      .map(([k, a, b]) => bodyOf(objectText([k, member('secret', j(a)), member('secret', j(b))]), true, 'duplicate "secret" members, neither an object')),
    fc
      .tuple(goodSecret, fc.oneof(hostileId, notAnObjectValue, fc.jsonValue({ maxDepth: 2 })).filter((k) => typeof k !== 'string' || !ID.test(k)))
      .map(([secret, badKey]) => bodyOf(objectText([member('key', j(badKey)), member('secret', j(secret))]), true, 'a bad key')),
    fc
      .tuple(key, goodSecret, fc.oneof(fc.jsonValue({ maxDepth: 1 }).filter((v) => typeof v !== 'string'), fc.constantFrom('-fz-elsewhere', '', '..')))
      .map(([k, secret, org]) => bodyOf(objectText([k, member('secret', j(secret)), member('organizationId', j(org))]), true, 'an organizationId that does not match')),
  )
}

/** Bodies the vault may well accept, or may not: valid ones, random JSON, odd but legal shapes. */
const anyBody = (keys: fc.Arbitrary<unknown>): fc.Arbitrary<Body> => {
  const key = optionalKey(keys)
  const claimKeyField = (value: unknown): unknown =>
    typeof value === 'object' && value !== null && !Array.isArray(value) && 'key' in value
      ? { ...value, key: claim((value as { key: unknown }).key) }
      : value
  return fc.oneof(
    { weight: 4, arbitrary: refusedBody(keys) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(key, goodSecret, optionalDescription, fc.constantFrom('', ' ', '\n\t ', '\ufeff'))
        .map(([k, secret, d, pad]) => bodyOf(`${pad}${objectText([k, member('secret', j(secret)), d])}${pad.trim()}`, false, 'a valid body')),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(key, fc.integer({ min: 1, max: 32 }), fc.integer({ min: 0, max: 31 }), fc.boolean())
        .map(([k, levels, arrays, useArrays]) =>
          bodyOf(objectText([k, member('secret', useArrays ? `{"list":${deepArrays(arrays, j(MARK))}}` : deepObjects(levels, j({ pwd: MARK })))]), false, 'a secret nested up to the limit'),
        ),
    },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => bodyOf(j(claimKeyField(v)), false, 'random JSON')) },
    {
      weight: 1,
      arbitrary: fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }).map((v) => bodyOf(j(claimKeyField(v)), false, 'random JSON, any code point')),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(key, fc.dictionary(text(12), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }), markValue)
        .map(([k, names, pwd]) => bodyOf(objectText([k, member('secret', j({ ...names, pwd }))]), false, 'a secret with random attribute names')),
    },
    {
      weight: 2,
      arbitrary: fc
        .record(
          {
            key: fc.oneof(keys, fc.jsonValue({ maxDepth: 2 })).map(claim),
            secret: fc.oneof(goodSecret, fc.jsonValue({ maxDepth: 2 })),
            description: fc.oneof(text(20), fc.jsonValue({ maxDepth: 2 })),
            organizationId: fc.oneof(fc.constant(FUZZ_ORG), fc.jsonValue({ maxDepth: 1 })),
          },
          { requiredKeys: [] },
        )
        .map((fields) => bodyOf(j(fields), false, 'fields of random types')),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(keys, keys, goodSecret, text(20), camelName, fc.jsonValue({ maxDepth: 1 }), fc.jsonValue({ maxDepth: 1 }))
        .map(([k1, k2, s1, description, name, v1, v2]) =>
          bodyOf(
            objectText([
              member('key', j(claim(k1))),
              member('key', j(claim(k2))),
              member('secret', j(s1)),
              member('secret', objectText([member(name, j(v1)), member(name, j(v2)), member('pwd', j(MARK))])),
              member('description', j(description)),
            ]),
            false,
            'duplicate attribute names',
          ),
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(key, fc.constantFrom('1e400', '-1e400', '-0', '123456789012345678901234567890', '1E-400', '0.1e1', '[]', '{}', '""', 'null'))
        .map(([k, number]) => bodyOf(objectText([k, member('secret', `{"n":${number},"pwd":${j(MARK)}}`)]), false, 'odd numbers and empty values')),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => bodyOf(Buffer.from(bytes), false, 'random bytes')) },
    { weight: 1, arbitrary: text(300).map((t) => bodyOf(t, false, 'random text')) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(key, fc.integer({ min: 60 * KiB, max: 64 * KiB }))
        .map(([k, size]) => bodyOf(objectText([k, member('secret', j({ blob: 'x'.repeat(size - 20), pwd: MARK }))]), false, 'a secret near 64 KiB')),
    },
  )
}

// -------------------------------------------------------------------------------- headers

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/json;charset="UTF-8"']
/** Content types a write route must refuse for a JSON body. */
const REFUSED_TYPES = [
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
const ODD_TYPES = [
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
const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...JSON_TYPES) },
  { weight: 2, arbitrary: fc.constantFrom(...REFUSED_TYPES) },
  { weight: 1, arbitrary: fc.constantFrom(...ODD_TYPES) },
  { weight: 1, arbitrary: headerText(40) },
  { weight: 1, arbitrary: fc.constant(undefined) },
)

const RESERVED_HEADERS = new Set([
  'host', 'connection', 'content-length', 'transfer-encoding', 'expect', 'upgrade', 'keep-alive', 'authorization',
  'content-type', 'content-encoding', 'http2-settings', 'proxy-connection', 'te',
])
const headerName = fc.oneof(
  fc.constantFrom(
    'x-request-id', 'accept', 'accept-encoding', 'accept-charset', 'accept-language', 'x-forwarded-for', 'x-forwarded-proto',
    'x-forwarded-host', 'forwarded', 'x-real-ip', 'x-http-method-override', 'x-method-override', 'cookie', 'origin', 'referer',
    'range', 'if-none-match', 'if-match', 'if-modified-since', 'user-agent', 'cache-control', 'pragma', 'trailer',
    'proxy-authorization', 'x-amz-target', 'x-api-key', 'dnt', 'max-forwards', 'via', 'content-language', 'content-md5',
    'content-range', 'content-disposition', 'x-vault-token', 'x-amz-date', 'x-amz-security-token',
  ),
  fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,30}$/).filter((name) => !RESERVED_HEADERS.has(name.toLowerCase())),
)
const headerValue = fc.oneof(
  { weight: 6, arbitrary: headerText(80) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('DELETE', 'POST', 'PUT', '../../etc/passwd', '127.0.0.1', '*', 'bytes=0-1', 'gzip, br', 'text/html', 'a'.repeat(64), 'ÿ', '"', '', '__proto__'),
  },
  { weight: 1, arbitrary: validId },
)
const extraHeaders = fc.array(fc.tuple(headerName, headerValue), { maxLength: 5 })

// ---------------------------------------------------------------------------- authorization

const b64 = (value: string): string => Buffer.from(value, 'utf8').toString('base64')
const junkAuth: fc.Arbitrary<Auth> = fc
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

const refusedAuth: fc.Arbitrary<Auth> = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...REFUSED_AUTH) }, { weight: 2, arbitrary: junkAuth })
const anyAuth: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<Auth>('admin') },
  { weight: 2, arbitrary: fc.constantFrom<Auth>('limited', 'admin-lowercase-scheme', 'admin-double-space') },
  { weight: 3, arbitrary: refusedAuth },
)

/** Refused on a secret route of `organizationId` (null: the standard namespace) or on /clients. */
const authRefuses = (auth: Auth, organizationId: string | null): boolean =>
  typeof auth === 'object' || (REFUSED_AUTH as readonly Auth[]).includes(auth) || (auth === 'limited' && organizationId !== FUZZ_ORG)

const methods = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD') },
  { weight: 1, arbitrary: fc.constantFrom('TRACE', 'PROPFIND', 'SEARCH', 'LOCK', 'PURGE', 'MKCOL', 'get', 'Post', 'FOO', 'M-SEARCH', 'QUERY', 'DELETE ') },
)

// ------------------------------------------------------------------------------ the sender

type Answer =
  | Readonly<{ kind: 'reply'; status: number; headers: ReadonlyMap<string, string>; text: string }>
  | Readonly<{ kind: 'none'; reason: string }>

let vault: VaultProcess
const tokens: Record<string, string> = {}

const authHeader = (auth: Auth): string | undefined => {
  if (typeof auth === 'object') return auth.header
  switch (auth) {
    case 'none':
      return undefined
    case 'admin':
      return `Bearer ${tokens.admin}`
    case 'admin-lowercase-scheme':
      return `bearer ${tokens.admin}`
    case 'admin-double-space':
      return `Bearer  ${tokens.admin}`
    case 'admin-no-scheme':
      return tokens.admin
    case 'admin-token-scheme':
      return `Token ${tokens.admin}`
    case 'admin-basic-scheme':
      return `Basic ${tokens.admin}`
    case 'admin-twice':
      return `Bearer ${tokens.admin} Bearer ${tokens.admin}`
    default:
      return `Bearer ${tokens[auth]}`
  }
}

/** The request's bytes: head (with Host, Connection: close and the framing) and body. */
const render = (spec: Spec, host: string): { head: Buffer; body: Buffer } => {
  const lines = [`${spec.method} ${spec.target} ${spec.version ?? 'HTTP/1.1'}`]
  if (spec.noHost !== true) lines.push(`Host: ${host}`)
  for (const [name, value] of spec.headers) lines.push(`${name}: ${value}`)
  const authorization = authHeader(spec.auth)
  if (authorization !== undefined) lines.push(`Authorization: ${authorization}`)
  if (spec.contentType !== undefined) lines.push(`Content-Type: ${spec.contentType}`)
  if (spec.contentEncoding !== undefined) lines.push(`Content-Encoding: ${spec.contentEncoding}`)
  lines.push('Connection: close')
  let body: Buffer = Buffer.alloc(0)
  if (spec.body !== undefined) {
    if (spec.chunkSize === undefined) {
      lines.push(`Content-Length: ${spec.body.bytes.length}`)
      body = spec.body.bytes
    } else {
      lines.push('Transfer-Encoding: chunked')
      const size = Math.max(spec.chunkSize, Math.ceil(spec.body.bytes.length / 256))
      const parts: Buffer[] = []
      for (let at = 0; at < spec.body.bytes.length; at += size) {
        const chunk = spec.body.bytes.subarray(at, at + size)
        parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'))
      }
      parts.push(Buffer.from('0\r\n\r\n'))
      body = Buffer.concat(parts)
    }
  }
  return { head: Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), body }
}

const dechunk = (raw: Buffer): Buffer => {
  const parts: Buffer[] = []
  let at = 0
  while (at < raw.length) {
    const eol = raw.indexOf('\r\n', at)
    if (eol < 0) break
    const size = parseInt(raw.subarray(at, eol).toString('latin1'), 16)
    if (!Number.isFinite(size) || size === 0) break
    parts.push(raw.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
  return Buffer.concat(parts)
}

/** The first final response in what the server sent (1xx interim responses skipped). */
const parseAnswer = (raw: Buffer, method: string, reason: string): Answer => {
  let at = 0
  for (;;) {
    const end = raw.indexOf('\r\n\r\n', at)
    if (end < 0) return { kind: 'none', reason: raw.length === 0 ? reason : `${reason}: partial answer ${clip(raw.toString('latin1'), 200)}` }
    const [statusLine, ...headerLines] = raw.subarray(at, end).toString('latin1').split('\r\n')
    const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(statusLine)?.[1] ?? NaN)
    if (!Number.isInteger(status)) return { kind: 'none', reason: `not an HTTP answer: ${clip(statusLine, 100)}` }
    const headers = new Map<string, string>()
    for (const line of headerLines) {
      const colon = line.indexOf(':')
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
    }
    if (status >= 100 && status < 200) {
      at = end + 4
      continue
    }
    let body = raw.subarray(end + 4)
    if (method === 'HEAD' || status === 204 || status === 304) body = Buffer.alloc(0)
    else if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) body = dechunk(body)
    else if (headers.has('content-length')) body = body.subarray(0, Number(headers.get('content-length')))
    return { kind: 'reply', status, headers, text: body.toString('utf8') }
  }
}

// Longer than the server's requestTimeout (30 s, vault.ts): a request that declares a body it
// never sends (Content-Length: 5 and nothing) is answered 408 by Node only then.
const ANSWER_TIMEOUT_MS = 35_000

/** Sends one request on a fresh connection and reads until the server closes it. */
const exchange = (spec: Spec): Promise<{ answer: Answer; headBytes: number }> =>
  new Promise((resolve) => {
    const { hostname, port } = new URL(vault.url)
    const { head, body } = render(spec, `${hostname}:${port}`)
    const received: Buffer[] = []
    let settled = false
    const finish = (reason: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve({ answer: parseAnswer(Buffer.concat(received), spec.method, reason), headBytes: head.length })
    }
    const socket = net.connect({ host: hostname, port: Number(port) })
    const timer = setTimeout(() => finish(`no answer within ${ANSWER_TIMEOUT_MS / 1000} s`), ANSWER_TIMEOUT_MS)
    socket.on('data', (chunk: Buffer) => received.push(chunk))
    socket.on('end', () => finish('closed'))
    socket.on('close', () => finish('closed'))
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message))
    socket.on('connect', () => {
      socket.write(head)
      if (body.length > 0) socket.write(body)
    })
  })

// ------------------------------------------------------------------------------ the checks

const STACK_FRAME = /\bat \S+ \(|\bat (?:\/|file:|node:)|\.(?:js|ts):\d+:\d+/
const SQL = /\b(?:SELECT|INSERT INTO|UPDATE \S+ SET|DELETE FROM|WHERE|CREATE TABLE|ALTER TABLE)\b|\bpg_|\bsyntax error at\b|\brelation "|\beventstore\./

const parseJson = (value: string): unknown => {
  try {
    return JSON.parse(value)
  } catch {
    return undefined
  }
}

/** What is wrong with an answer: [] when nothing. */
const problemsOf = (spec: Spec, answer: Answer, headBytes: number): string[] => {
  if (answer.kind === 'none') {
    // Past the server's header limits, it may reset the connection instead of answering 431.
    const overLimits = headBytes > 15 * KiB && !answer.reason.startsWith('no answer')
    return overLimits ? [] : [`no answer (${answer.reason})`]
  }
  const problems: string[] = []
  const { status, headers, text: body } = answer
  if (status >= 500) problems.push(`answered ${status}`)
  if (spec.mustRefuse && status < 400) problems.push(`accepted (${status}) a request that must be refused`)
  if (status >= 400) {
    const parsed = parseJson(body)
    // The vault's own answers carry a request id; the HTTP parser's own 400 and 431 do not.
    if (headers.has('x-request-id') && spec.method !== 'HEAD') {
      if (!/^application\/json\b/.test(headers.get('content-type') ?? '')) problems.push('an error that is not JSON')
      if (typeof (parsed as { message?: unknown } | undefined)?.message !== 'string' || (parsed as { message: string }).message === '') {
        problems.push('an error without a string message')
      }
    }
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { message?: unknown }).message !== 'string') {
      problems.push('a JSON error without a string message')
    }
    if (typeof parsed === 'object' && parsed !== null && 'stack' in parsed) problems.push('a stack field')
    if (STACK_FRAME.test(body)) problems.push('a stack trace')
    if (SQL.test(body)) problems.push('SQL')
    if (body.includes(MARK)) problems.push('echoes a submitted secret value')
  }
  return problems
}

// --------------------------------------------------------------------------- bookkeeping

const stats = {
  cases: {} as Record<string, number>,
  requests: 0,
  statuses: {} as Record<string, number>,
  /** Answers by family and by kind of body, to see what the generators reach. */
  byFamily: {} as Record<string, Record<string, number>>,
  byBody: {} as Record<string, Record<string, number>>,
  closedOverLimits: 0,
  /** POST answered 200 with an ARN: a create or an update, one event each. */
  secretWrites: 0,
  /** DELETE answered 204: a deleted secret, one SecretDeleted event. */
  secretDeletes: 0,
  /** POST /clients answered 201. */
  clientsCreated: 0,
  startedAt: Date.now(),
}
/** "organizationId\u0000key" of every secret a generated request wrote with success. */
const writtenByFuzz = new Set<string>(FUZZ_KEYS.map((key) => `\u0000${key}`))

const bump = (counts: Record<string, number>, name: string | number) => (counts[name] = (counts[name] ?? 0) + 1)

const tally = (spec: Spec, answer: Answer) => {
  stats.requests++
  const outcome = answer.kind === 'none' ? 'closed' : answer.status
  bump((stats.byFamily[spec.family] ??= {}), outcome)
  if (spec.body !== undefined) bump((stats.byBody[spec.body.note] ??= {}), outcome)
  if (answer.kind === 'none') {
    stats.closedOverLimits++
    return
  }
  bump(stats.statuses, answer.status)
  const body = parseJson(answer.text) as Record<string, unknown> | undefined
  // The HTTP parser reads "DELETE " as DELETE.
  const method = spec.method.trim().toUpperCase()
  if (method === 'POST' && answer.status === 200 && typeof body?.arn === 'string') {
    stats.secretWrites++
    writtenByFuzz.add(`${typeof body.organizationId === 'string' ? body.organizationId : ''}\u0000${String(body.id)}`)
  }
  if (method === 'DELETE' && answer.status === 204) stats.secretDeletes++
  if (method === 'POST' && answer.status === 201 && typeof body?.clientId === 'string') stats.clientsCreated++
}

/** One property: every generated request answered without a problem. */
const hold = async (name: keyof typeof RUNS, specs: fc.Arbitrary<Spec>) => {
  const replay = replayOf(name)
  stats.cases[name] = 0
  await fc.assert(
    fc.asyncProperty(specs.map(printable), async (spec) => {
      stats.cases[name]++
      if (spec.seeded && !SAFE_METHODS.has(spec.method) && !spec.mustRefuse) {
        throw new Error('test bug: a write aimed at a seeded secret that nothing refuses')
      }
      const { answer, headBytes } = await exchange(spec)
      tally(spec, answer)
      const problems = problemsOf(spec, answer, headBytes)
      if (problems.length > 0) {
        const shown = answer.kind === 'reply' ? `${answer.status} ${clip(answer.text, 300)}` : answer.reason
        throw new Error(`[property ${name}] ${problems.join('; ')}\n  answer: ${shown}`)
      }
    }),
    { numRuns: runsOf(name), ...replay },
  )
  if (replay.path === undefined) expect(stats.cases[name]).toBeGreaterThanOrEqual(runsOf(name))
}

// ------------------------------------------------------------------------- the properties

const fuzzOrg = fc.oneof(
  { weight: 3, arbitrary: fc.constant(FUZZ_ORG) },
  { weight: 1, arbitrary: fc.constant(SEED_ORG) },
  { weight: 2, arbitrary: validId.map(claim) },
)
const fuzzKey = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...FUZZ_KEYS) }, { weight: 3, arbitrary: hostileId })
const bodyKeys = fuzzKey.map(claim)

/** Any method on any route, with any segments, decorations, credentials and body. */
const routeSpecs: fc.Arbitrary<Spec> = fc
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
const bodySpecs: fc.Arbitrary<Spec> = fc
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

const gzipBomb = zlib.gzipSync(Buffer.from(`{"key":"fz-bomb","secret":{"blob":"${'x'.repeat(2 * 1024 * KiB)}"}}`))

/** Headers of every kind, and the wire itself: versions, framing, encodings, missing Host. */
const headerSpecs: fc.Arbitrary<Spec> = fc
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

const FORM = 'application/x-www-form-urlencoded'
const form = (fields: ReadonlyArray<readonly [string, string]>): string => fields.map(([n, v]) => `${percentEncode(n)}=${percentEncode(v)}`).join('&')

/** Client registrations: every field of every type. */
const clientBody: fc.Arbitrary<Body> = fc.oneof(
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

const tokenForm: fc.Arbitrary<string> = fc.oneof(
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
const basicAuth: fc.Arbitrary<Auth> = fc
  .oneof(
    fc.tuple(fc.oneof(fc.constant(ADMIN_ID), text(12)), fc.oneof(fc.constant(ADMIN_SECRET), text(12))).map(([id, secret]) => `Basic ${b64(`${percentEncode(id)}:${percentEncode(secret)}`)}`),
    text(30).map((s) => `Basic ${b64(s)}`),
    headerText(40).map((s) => `Basic ${s}`),
    fc.constantFrom('Basic', 'Basic ', `Basic ${b64('%E0%A4%A:x')}`, `basic ${b64(`${ADMIN_ID}:${ADMIN_SECRET}`)}`, `Basic ${'QUFB'.repeat(3000)}`),
  )
  .map((header) => ({ header }))

/** POST /clients and POST /oauth/token, and their neighbours. */
const clientAndTokenSpecs: fc.Arbitrary<Spec> = fc.oneof(
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

/** A seeded key's paths, as a client might spell them, tricks included. */
const seededTarget: fc.Arbitrary<{ target: string; organizationId: string | null; canonicalCreate: boolean; key: string }> = fc
  .record({
    namespace: fc.constantFrom(...SEEDED_NAMESPACES),
    key: fc.constantFrom(...SEEDED_KEYS),
    route: fc.constantFrom('create', 'item', 'history'),
    keyForm: fc.constantFrom('plain', 'percent', 'all-percent', 'lower-hex', 'upper-route', 'trailing-dot', 'nul', 'slash', 'overlong', 'malformed', 'fullwidth', 'space'),
    decoration: fc.option(fc.integer({ min: 0, max: DECORATIONS.length - 1 }), { freq: 2 }),
  })
  .map(({ namespace, key, route, keyForm, decoration }) => {
    const allPercent = [...Buffer.from(key)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('')
    const spelled = {
      plain: key,
      percent: percentEncode(key, /[a-z]/),
      'all-percent': allPercent,
      'lower-hex': allPercent.toLowerCase(),
      'upper-route': key,
      'trailing-dot': `${key}.`,
      nul: `${key}%00`,
      slash: `${key}%2F`,
      overlong: `${key}%C0%AE`,
      malformed: `${key}%`,
      fullwidth: key.replace('e', '\uff45'),
      space: `${key}%20`,
    }[keyForm]
    const ns = keyForm === 'upper-route' ? namespace.toUpperCase().replace('SEED-ORG', SEED_ORG) : namespace
    const base = route === 'create' ? ns : route === 'item' ? `${ns}/${spelled}` : `${ns}/${spelled}/history`
    return {
      target: decoration === null ? base : DECORATIONS[decoration](base),
      organizationId: namespace === '/secrets' ? null : SEED_ORG,
      canonicalCreate: route === 'create' && decoration === null && keyForm !== 'upper-route',
      key,
    }
  })

const seededKeys = fc.constantFrom(...SEEDED_KEYS)

/**
 * Every route on the seeded secrets, every spelling of their paths: reads may succeed; anything
 * that could write carries a refusal (credentials, content type, body), or is a create of a key
 * that already exists there.
 */
const seededSpecs: fc.Arbitrary<Spec> = fc
  .record({
    method: methods,
    place: seededTarget,
    spoiler: fc.constantFrom('auth', 'auth', 'body', 'body', 'body', 'content-type', 'exists'),
    refusedAuth,
    auth: anyAuth,
    refusedBody: refusedBody(seededKeys),
    body: fc.option(anyBody(seededKeys)),
    goodBody: fc.tuple(goodSecret, optionalDescription).map(([secret, d]) => ({ secret, d })),
    refusedType: fc.constantFrom(...REFUSED_TYPES, undefined),
    headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 3 }),
    chunkSize: oneIn(6, fc.integer({ min: 1, max: 4096 })),
  })
  .map(({ method, place, spoiler, refusedAuth: badAuth, auth, refusedBody: badBody, body, goodBody, refusedType, headers, chunkSize }): Spec => {
    const common = { family: 'seeded', method, target: place.target, headers, seeded: true, ...(chunkSize === null ? {} : { chunkSize }) }
    if (SAFE_METHODS.has(method)) {
      // Reads change nothing, whatever they carry (a method-override header included).
      return {
        ...common,
        headers: [...headers, ['X-HTTP-Method-Override', 'DELETE']],
        auth,
        contentType: 'application/json',
        ...(body === null ? {} : { body }),
        mustRefuse: false,
      }
    }
    const goodText = (withKey: boolean) =>
      objectText([withKey ? member('key', j(place.key)) : null, member('secret', j(goodBody.secret)), goodBody.d])
    // Only an exact POST reads a body; any other method (the HTTP parser takes "DELETE " for
    // DELETE) is refused by its credentials.
    const live = (LIVE_SEEDED as readonly string[]).includes(place.key)
    if (spoiler === 'exists' && method === 'POST' && place.canonicalCreate && live) {
      return { ...common, auth: 'admin', contentType: 'application/json', body: bodyOf(goodText(true), true, 'a create of a key that exists'), mustRefuse: true }
    }
    if (spoiler === 'body' && method === 'POST') {
      return { ...common, auth: 'admin', contentType: 'application/json', body: badBody, mustRefuse: true }
    }
    if (spoiler === 'content-type' && method === 'POST') {
      const withType = refusedType === undefined ? {} : { contentType: refusedType }
      return { ...common, auth: 'admin', ...withType, body: bodyOf(goodText(place.canonicalCreate), true, 'a valid body, wrong content type'), mustRefuse: true }
    }
    return {
      ...common,
      auth: badAuth,
      contentType: 'application/json',
      body: body ?? bodyOf(goodText(place.canonicalCreate), false, 'a valid body'),
      mustRefuse: true,
    }
  })

// ------------------------------------------------------------------------ state snapshots

const SEEDED_REFS = SEEDED_NAMESPACES.flatMap((ns) =>
  SEEDED_KEYS.map((key) => ({ ns, key, organizationId: ns === '/secrets' ? '' : SEED_ORG })),
)

let db: pg.Client

/** The seeded secrets as the API shows them: value, description, ARN, history. */
const readSeeded = () =>
  Promise.all(
    SEEDED_REFS.map(async ({ ns, key }) => {
      const item = await request(vault.url, 'GET', `${ns}/${key}`, { token: tokens.admin })
      const history = await request(vault.url, 'GET', `${ns}/${key}/history`, { token: tokens.admin })
      return { path: `${ns}/${key}`, status: item.status, body: item.body, history: history.status, events: history.body }
    }),
  )

/** The seeded secrets' rows: read model, incarnations, events and data keys. */
const seededRows = async () => {
  const orgs = SEEDED_REFS.map((ref) => ref.organizationId)
  const keys = SEEDED_REFS.map((ref) => ref.key)
  const seededWhere = `(organization_id, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`
  const secrets = await db.query(`SELECT * FROM vault.secrets WHERE ${seededWhere} ORDER BY organization_id, key`, [orgs, keys])
  const incarnations = await db.query<{ aggregate_id: string }>(`SELECT * FROM vault.incarnations WHERE ${seededWhere} ORDER BY seq`, [orgs, keys])
  const ids = incarnations.rows.map((row) => row.aggregate_id)
  const events = await db.query(
    `SELECT * FROM eventstore.events WHERE "aggregateId" = ANY($1) OR payload->>'id' = ANY($1) ORDER BY "threadId", "threadCounter"`,
    [ids],
  )
  // The data keys themselves, not their wrapping: the shredder re-wraps a live key whenever its
  // shard is re-keyed (the fuzzer's own deletes do that), which changes the text and not the key.
  const stored = await db.query<{ id: string; idx: string; secret: string | null }>('SELECT * FROM eventstore.secrets WHERE id = ANY($1) ORDER BY id', [ids])
  const open = dataKeyOpener(vault.setup)
  const dataKeys = stored.rows.map((row) => ({ id: row.id, idx: row.idx, dataKey: row.secret === null ? null : open(row.secret, row.id).toString('hex') }))
  const pending = await db.query(`SELECT * FROM vault.pending_operations WHERE ${seededWhere}`, [orgs, keys])
  return { secrets: secrets.rows, incarnations: incarnations.rows, events: events.rows, dataKeys, pending: pending.rows }
}

const eventCounts = async (): Promise<Record<string, number>> => {
  const result = await db.query<{ type: string; count: number }>('SELECT type, count(*)::int AS count FROM eventstore.events GROUP BY type')
  return Object.fromEntries(result.rows.map((row) => [row.type, row.count]))
}
const countOf = async (table: string): Promise<number> =>
  (await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${table}`)).rows[0].count

let seededBefore: Awaited<ReturnType<typeof readSeeded>>
let rowsBefore: Awaited<ReturnType<typeof seededRows>>
let eventsBefore: Record<string, number>
let clientsBefore: number

// ------------------------------------------------------------------------------ the tokens

const base64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url')
const hs256 = (key: Buffer, header: object, payload: object): string => {
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`
  return `${signingInput}.${crypto.createHmac('sha256', key).update(signingInput).digest('base64url')}`
}

/** Tokens that look right but must be refused, made from the admin's. */
const forgeTokens = (admin: string, masterKeyBase64: string) => {
  const [header, payload, signature] = admin.split('.')
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>
  const now = Math.floor(Date.now() / 1000)
  const signingKey = deriveKey(masterKeyFrom(Buffer.from(masterKeyBase64, 'base64')), 'token-signing')
  tokens['alg-none'] = `${base64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${payload}.`
  tokens['wrong-key'] = hs256(crypto.randomBytes(32), { alg: 'HS256', typ: 'JWT' }, claims)
  tokens.tampered = `${header}.${base64url(JSON.stringify({ ...claims, sub: 'someone-else', adm: true }))}.${signature}`
  tokens.expired = hs256(signingKey, { alg: 'HS256', typ: 'JWT' }, { ...claims, iat: now - 7200, exp: now - 3600 })
  tokens['wrong-audience'] = hs256(signingKey, { alg: 'HS256', typ: 'JWT' }, { ...claims, aud: 'event-vault:prd' })
  tokens.truncated = admin.slice(0, -6)
}

// ----------------------------------------------------------------------------------- suite

jest.setTimeout(180_000)

describe('hostile input, property-based, on every route', () => {
  beforeAll(async () => {
    const setup = await newVaultSetup('embedded')
    vault = await startVault(setup)
    tokens.admin = await adminToken(vault.url)
    tokens.limited = (await clientWith(vault.url, tokens.admin, { organizations: [FUZZ_ORG] })).token
    tokens.ungranted = (await clientWith(vault.url, tokens.admin, {})).token
    forgeTokens(tokens.admin, setup.env.VAULT_MASTER_KEY)

    const post = (p: string, body: unknown) => request(vault.url, 'POST', p, { token: tokens.admin, body })
    const remove = (p: string) => request(vault.url, 'DELETE', p, { token: tokens.admin })
    const seeded: number[] = []
    for (const ns of SEEDED_NAMESPACES) {
      seeded.push(
        (await post(ns, { key: KEPT, secret: { user: 'first', pwd: 'one' }, description: 'kept secret' })).status,
        (await post(`${ns}/${KEPT}`, { secret: { user: 'first', pwd: 'two' }, description: 'kept, updated' })).status,
        (await post(ns, { key: REBORN, secret: { token: 'first life' } })).status,
        (await remove(`${ns}/${REBORN}`)).status,
        (await post(ns, { key: REBORN, secret: { token: 'second life' } })).status,
        (await post(ns, { key: GONE, secret: { token: 'shredded' }, description: 'gone' })).status,
        (await remove(`${ns}/${GONE}`)).status,
      )
    }
    for (const key of FUZZ_KEYS) seeded.push((await post('/secrets', { key, secret: { pwd: 'fuzz target' } })).status)
    expect(seeded).toEqual([...[200, 200, 200, 204, 200, 200, 204, 200, 200, 200, 204, 200, 200, 204], 200, 200, 200])

    db = await connectToStore(setup)
    seededBefore = await readSeeded()
    rowsBefore = await seededRows()
    eventsBefore = await eventCounts()
    clientsBefore = await countOf('vault.clients')
    stats.startedAt = Date.now()
  })

  afterAll(async () => {
    await db?.end()
    await vault?.stop()
    const file = path.join(os.tmpdir(), 'event-vault-hostile-input.json')
    const cases = Object.values(stats.cases).reduce((sum, n) => sum + n, 0)
    fs.writeFileSync(file, `${JSON.stringify({ ...stats, totalCases: cases, seconds: (Date.now() - stats.startedAt) / 1000, scale: SCALE }, null, 2)}\n`)
    process.stdout.write(`\n[hostile-input] ${cases} cases, ${stats.requests} requests; details in ${file}\n`)
  })

  it('plans at least 10,000 cases a run', () => {
    const planned = (Object.keys(RUNS) as Array<keyof typeof RUNS>).reduce((sum, name) => sum + runsOf(name), 0)
    if (SCALE >= 1) expect(planned).toBeGreaterThanOrEqual(10_000)
  })

  it('starts from seeded secrets with their history', () => {
    expect(seededBefore.map(({ path: p, status, history, events }) => ({ p, status, history, types: (events as { events?: Array<{ type: string }> })?.events?.map((e) => e.type) }))).toEqual(
      SEEDED_REFS.map(({ ns, key }) => ({
        p: `${ns}/${key}`,
        status: key === GONE ? 404 : 200,
        history: 200,
        types: {
          [KEPT]: ['SecretCreated', 'SecretUpdated'],
          [REBORN]: ['SecretCreated', 'SecretDeleted', 'SecretCreated'],
          [GONE]: ['SecretCreated', 'SecretDeleted'],
        }[key],
      })),
    )
  })

  it('answers any method on any route and path, with any credentials and body, without a 5xx', async () => {
    await hold('routes', routeSpecs)
  })

  it('answers hostile create and update bodies with a 4xx and a message, and refuses what the contract refuses', async () => {
    await hold('bodies', bodySpecs)
  })

  it('answers hostile headers, encodings and framing without a 5xx', async () => {
    await hold('headers', headerSpecs)
  })

  it('answers hostile client registrations and token requests without a 5xx', async () => {
    await hold('clientsAndTokens', clientAndTokenSpecs)
  })

  it('refuses every write aimed at a seeded secret, however its path is spelled', async () => {
    await hold('seeded', seededSpecs)
  })

  describe('after all of it', () => {
    it('still holds every seeded secret with the same value, description, history, rows and events', async () => {
      expect(await readSeeded()).toEqual(seededBefore)
      expect(await seededRows()).toEqual(rowsBefore)
    })

    it('stored only what it answered with success, and only in the fuzzer namespace', async () => {
      const now = await eventCounts()
      const added = (type: string) => (now[type] ?? 0) - (eventsBefore[type] ?? 0)
      expect({
        writes: added('SecretCreated') + added('SecretUpdated'),
        deletes: added('SecretDeleted'),
        dataKeysSet: added('RESOLVE_SET_SECRET'),
        dataKeysDeleted: added('RESOLVE_DELETE_SECRET'),
        otherTypes: Object.keys(now).filter((type) => !['SecretCreated', 'SecretUpdated', 'SecretDeleted', 'RESOLVE_SET_SECRET', 'RESOLVE_DELETE_SECRET'].includes(type)),
      }).toEqual({
        writes: stats.secretWrites,
        deletes: stats.secretDeletes,
        dataKeysSet: added('SecretCreated'),
        dataKeysDeleted: added('SecretDeleted'),
        otherTypes: [],
      })
      expect(await countOf('vault.clients')).toBe(clientsBefore + stats.clientsCreated)
      expect(await countOf('vault.pending_operations')).toBe(0)
      const seededIds = new Set(SEEDED_REFS.map((ref) => `${ref.organizationId}\u0000${ref.key}`))
      const incarnations = await db.query<{ organization_id: string; key: string }>('SELECT organization_id, key FROM vault.incarnations')
      const others = incarnations.rows.map((row) => `${row.organization_id}\u0000${row.key}`).filter((id) => !seededIds.has(id))
      expect(others.filter((id) => !writtenByFuzz.has(id) || !id.split('\u0000')[1].startsWith('fz'))).toEqual([])
      const atRest = (await dumpStore(db)).split('\n').filter((line) => line.includes(MARK))
      expect(atRest.map((line) => clip(line.slice(Math.max(0, line.indexOf(MARK) - 300)), 400))).toEqual([])
    })

    it('is alive and healthy, logged no internal error and no secret value, and stops cleanly', async () => {
      expect((await request(vault.url, 'GET', '/health')).status).toBe(200)
      const output = vault.output()
      const errors = output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .filter((line) => (parseJson(line) as { level?: string } | undefined)?.level === 'error')
      expect(errors).toEqual([])
      expect(output.includes(MARK)).toBe(false)
      await db.end()
      db = undefined as unknown as pg.Client
      expect(await vault.stop('SIGTERM')).toBe(0)
    })
  })
})
