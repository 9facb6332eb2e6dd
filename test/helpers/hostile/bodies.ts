import fc from 'fast-check'
import { bodyOf, type Body } from './spec'
import { claim, FUZZ_ORG, MARK } from './stakes'
import { KiB, text } from './strings'
import { camelName, deepArrays, deepObjects, goodSecret, j, markValue, member, objectText, optionalDescription, optionalKey } from './json'
import { refusedBody } from './refused-bodies'


/** Bodies the vault may well accept, or may not: valid ones, random JSON, odd but legal shapes. */
export const anyBody = (keys: fc.Arbitrary<unknown>): fc.Arbitrary<Body> => {
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
