import fc from 'fast-check'
import { MARK } from './stakes'
import { KiB, text } from './strings'

// Pieces of hostile JSON bodies: members and objects as text, secrets good and bad, nesting.


export const j = (value: unknown): string => JSON.stringify(value)
export const member = (name: string, valueText: string): string => `${j(name)}:${valueText}`
export const objectText = (members: ReadonlyArray<string | null>): string => `{${members.filter((m): m is string => m !== null).join(',')}}`

export const markValue = fc.string({ maxLength: 12 }).map((tail) => `${MARK}${tail}`)
export const camelName = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,12}$/)

/** A secret the vault should store: camelCase names, a marked value, JSON of every kind. */
export const goodSecret: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ user: text(16), pwd: markValue }),
  fc
    .tuple(fc.dictionary(camelName, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }), markValue)
    .map(([fields, pwd]) => ({ ...fields, pwd })),
  fc
    .tuple(fc.dictionary(camelName, fc.jsonValue({ maxDepth: 2, stringUnit: 'binary' }), { maxKeys: 4 }), markValue)
    .map(([fields, pwd]) => ({ ...fields, pwd })),
)

/** A JSON value of any type but a plain object. */
export const notAnObjectValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)),
  fc.array(goodSecret, { maxLength: 2 }),
  markValue,
  goodSecret.map((secret) => j(secret)),
  fc.constantFrom('', 0, -0, 1e308, true, false, null, [], [[]]),
)

/** Nesting as text: `levels` objects, one inside the other, the innermost being `leaf`. */
export const deepObjects = (levels: number, leaf: string): string => `${'{"a":'.repeat(levels - 1)}${leaf}${'}'.repeat(levels - 1)}`
export const deepArrays = (levels: number, leaf: string): string => `${'['.repeat(levels)}${leaf}${']'.repeat(levels)}`

export const optionalKey = (keys: fc.Arbitrary<unknown>) => fc.option(keys.map((key) => member('key', j(key))))
export const optionalDescription = fc.option(
  fc.oneof(text(60), fc.constant('d'.repeat(2048)), fc.constant('é'.repeat(2048))).map((d) => member('description', j(d))),
)

/** Two attribute names that the contract says become one after camelCase conversion. */
export const collidingNames: fc.Arbitrary<[string, string]> = fc
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
export const longDescription = fc.tuple(fc.integer({ min: 2049, max: 8 * KiB }), fc.constantFrom('d', 'é')).map(([length, unit]) => unit.repeat(length))
