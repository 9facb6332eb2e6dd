import fc from 'fast-check'
import { bodyOf, type Body } from './spec'
import { ID, MARK } from './stakes'
import { hostileId, KiB, PROTO_NAMES, sized, text } from './strings'
import {
  collidingNames, deepArrays, deepObjects, goodSecret, j, longDescription, markValue, member, notAnObjectValue, objectText, optionalDescription, optionalKey,
} from './json'


/** Bodies that every secret write route must refuse, each built around a key from `keys`. */
export const refusedBody = (keys: fc.Arbitrary<unknown>): fc.Arbitrary<Body> => {
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
