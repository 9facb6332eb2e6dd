import fc from 'fast-check'
import { FUZZ_KEYS } from './stakes'

// Hostile strings: text of every kind, header text, long strings, and ids valid or not.

export const KiB = 1024


export const ODD_UNITS = [
  '.', '..', '/', '\\', '%', '?', '#', ';', ':', ' ', '\t', '\n', '\r', '\r\n', '\u0000', '\u0001', '\u001f', '\u007f',
  '\u0085', '\u00a0', '\u200b', '\u200e', '\u202e', '\u2028', '\ufeff', '\ufffd', '\ud800', '\udfff', '\ud83d', 'é', 'e\u0301',
  'ｋ', 'İ', 'ß', 'ǅ', 'Σ', '\u{1f511}', '\u{10ffff}', '_', '-', '+', '=', '@', '~', '*', '$', '{', '}', '[', ']', '"', "'",
  '<', '>', '&', '`', 'a', 'Z', '0', '9', '__proto__', 'constructor', '%00', '%2F', '%2e',
]
export const oddString = (maxLength: number) => fc.string({ unit: fc.constantFrom(...ODD_UNITS), maxLength })

/** Text of every kind: ASCII, any code point, control characters, graphemes, and the usual suspects. */
export const text = (maxLength = 24): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'binary-ascii', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    oddString(maxLength),
  )

/** Printable Latin-1, the most a well-formed header value can carry. */
export const headerText = (maxLength = 60): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)),
    maxLength,
  })

/** A long string of about `min`-`max` UTF-8 bytes, built by repetition (fast to generate). */
export const sized = (min: number, max: number, units: readonly string[] = ['x', 'é', '\u{1f511}', 'ab ']) =>
  fc
    .tuple(fc.integer({ min, max }), fc.constantFrom(...units))
    .map(([bytes, unit]) => unit.repeat(Math.max(1, Math.ceil(bytes / Buffer.byteLength(unit)))))

/** `arbitrary`'s value once in `n` cases, null otherwise (and when shrinking). */
export const oneIn = <T>(n: number, arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: n - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary })

export const PROTO_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'null', 'undefined', 'NaN', '0', '-1', '1e3']

export const validId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_+=.@-]{0,24}$/)

/** Keys and organization ids of every kind, valid ones included. */
export const hostileId: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: validId },
  { weight: 4, arbitrary: text(24) },
  { weight: 1, arbitrary: fc.constantFrom('', '.', '..', '...', '-a', '_a', '@a', '=a', 'a/b', 'a\\b', 'a b', 'a.', 'a..', ...PROTO_NAMES) },
  { weight: 1, arbitrary: fc.constantFrom(255, 256, 257, 1000, 6 * KiB).map((n) => 'k'.repeat(n)) },
  { weight: 1, arbitrary: fc.tuple(validId, oddString(4)).map(([id, tail]) => `${id}${tail}`) },
  { weight: 1, arbitrary: fc.constantFrom(...FUZZ_KEYS) },
)
