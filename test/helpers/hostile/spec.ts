import fc from 'fast-check'
import { clip } from '../text'
import { mentionsSeeded } from './stakes'

// The request model of the hostile input suite: who a request claims to be, its body, and the
// whole request as it goes out on a raw socket.

/** Who the request claims to be; tokens are filled in once the vault runs. */
export type Auth =
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
export const REFUSED_AUTH = [
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

export type Body = Readonly<{
  bytes: Buffer
  /** Refused by every secret write route (create and update), whatever the key or namespace. */
  refused: boolean
  note: string
}>

export type Spec = Readonly<{
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

export const describeSpec = (spec: Spec): string =>
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
export const printable = (spec: Spec): Spec => Object.assign(spec, { [fc.toStringMethod]: () => describeSpec(spec) })

export const mentions = (spec: Spec): boolean =>
  mentionsSeeded(
    [spec.target, ...spec.headers.flat(), spec.contentType ?? '', typeof spec.auth === 'object' ? spec.auth.header : '', spec.body?.bytes.toString('utf8') ?? ''].join('\n'),
  )

/** A fuzz request never names a seeded key by accident: only the seeded property aims at them. */
export const notSeeded = (spec: Spec): boolean => !mentions(spec)

export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

export const bodyOf = (content: string | Buffer, refused: boolean, note: string): Body => ({
  bytes: Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8'),
  refused,
  note,
})
