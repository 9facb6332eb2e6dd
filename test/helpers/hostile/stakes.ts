import crypto from 'node:crypto'

// What is at stake in the hostile input suite: the seeded secrets it must never change, the
// fuzzer's own namespace (every key it may create starts with "fz") and the value mark.

export const SEED_ORG = 'seed-org'
export const FUZZ_ORG = 'fz-org'
/** Seeded in both namespaces: created, then updated. */
export const KEPT = 'seeded-kept'
/** Seeded in both namespaces: created, deleted, created again, with no description. */
export const REBORN = 'seeded.reborn@2'
/** Seeded in both namespaces: created, then deleted (only its history is left). */
export const GONE = 'seeded-gone'
export const SEEDED_KEYS = [KEPT, REBORN, GONE] as const
export const LIVE_SEEDED = [KEPT, REBORN] as const
export const SEEDED_NAMESPACES = ['/secrets', `/organizations/${SEED_ORG}`] as const
/** Created before the run in the fuzzer's namespace, so that updates and deletes hit something. */
export const FUZZ_KEYS = ['fz-a', 'fz.b@2', 'fzC'] as const
/** In every generated secret value: it must never come back in an error, a log line or at rest. */
export const MARK = `fzmark${crypto.randomBytes(4).toString('hex')}`

export const ID = /^[A-Za-z0-9][A-Za-z0-9_+=.@-]{0,255}$/

/** A key a generated create may store: the fuzzer's namespace ("fz..."), never a seeded key. */
export const claim = <T>(id: T): T | string => (typeof id === 'string' && ID.test(id) && !id.startsWith('fz') ? `fz${id}` : id)

/** Percent-decodes what decodes, leaves the rest: what a router could make of some text. */
export const lenientDecode = (text: string): string =>
  text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run)
    } catch {
      return run
    }
  })

export const SEEDED_NEEDLES = SEEDED_KEYS.map((key) => key.toLowerCase())
export const mentionsSeeded = (text: string): boolean => {
  const lower = `${text}\n${lenientDecode(text)}`.toLowerCase()
  return SEEDED_NEEDLES.some((needle) => lower.includes(needle))
}
