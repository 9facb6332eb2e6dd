import fc from 'fast-check'
import { anyAuth, refusedAuth } from './auth'
import { anyBody } from './bodies'
import { headerName, headerValue, methods, REFUSED_TYPES } from './headers'
import { goodSecret, j, member, objectText, optionalDescription } from './json'
import { DECORATIONS, percentEncode } from './paths'
import { refusedBody } from './refused-bodies'
import { bodyOf, SAFE_METHODS, type Spec } from './spec'
import { LIVE_SEEDED, SEED_ORG, SEEDED_KEYS, SEEDED_NAMESPACES } from './stakes'
import { oneIn } from './strings'


export const seededTarget: fc.Arbitrary<{ target: string; organizationId: string | null; canonicalCreate: boolean; key: string }> = fc
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

export const seededKeys = fc.constantFrom(...SEEDED_KEYS)

/**
 * Every route on the seeded secrets, every spelling of their paths: reads may succeed; anything
 * that could write carries a refusal (credentials, content type, body), or is a create of a key
 * that already exists there.
 */
export const seededSpecs: fc.Arbitrary<Spec> = fc
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
