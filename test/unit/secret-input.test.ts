import { MAX_SECRET_BYTES, parseBody, parseCreateInput, parseKey, parseScope, parseUpdateInput } from '../../app/secrets/secret-input'
import { parseNewClient } from '../../app/clients/client-input'
import { ValidationError } from '../../common/errors'

describe('keys and organization ids', () => {
  it('names the standard namespace without an organization id, else that organization', () => {
    expect(parseScope(undefined)).toEqual({ kind: 'standard' })
    expect(parseScope('acme')).toEqual({ kind: 'organization', organizationId: 'acme' })
    expect(() => parseScope('-acme')).toThrow('organizationId must be')
    expect(() => parseScope('')).toThrow(ValidationError)
  })

  it.each(['a', 'Z9', 'my.key@x+y=z_w-v', `a${'b'.repeat(255)}`])('accepts %s', (key) => {
    expect(parseKey(key)).toBe(key)
  })

  it.each(['', '-lead', '.lead', 'has space', 'slash/inside', '..', 'nul\u0000', 'ünï', `a${'b'.repeat(256)}`, 42, null])(
    'refuses %p',
    (key) => {
      expect(() => parseKey(key)).toThrow(ValidationError)
    },
  )
})

describe('request bodies', () => {
  it.each([null, [], 'text', 3])('refuses a body that is not an object: %p', (body) => {
    expect(() => parseBody(body, ['key'])).toThrow(ValidationError)
  })

  it('refuses unknown fields', () => {
    expect(() => parseBody({ key: 'a', extra: 1 }, ['key'])).toThrow('Unknown field: extra')
  })

  it.each([['a string'], [['array']], [3], [null], [true], [undefined]])('refuses a secret that is %p', (secret) => {
    expect(() => parseCreateInput({ key: 'k', secret })).toThrow(ValidationError)
  })

  it('converts the secret to camelCase and keeps the description', () => {
    expect(parseCreateInput({ key: 'k', secret: { User_Name: 'u' }, description: 'd' })).toEqual({
      key: 'k',
      secret: { userName: 'u' },
      description: 'd',
    })
  })

  it('refuses a secret over the size limit', () => {
    expect(() => parseCreateInput({ key: 'k', secret: { big: 'x'.repeat(MAX_SECRET_BYTES) } })).toThrow(ValidationError)
  })

  it('refuses a description that is not a string or too long', () => {
    expect(() => parseCreateInput({ key: 'k', secret: {}, description: 5 })).toThrow(ValidationError)
    expect(() => parseCreateInput({ key: 'k', secret: {}, description: 'x'.repeat(2049) })).toThrow(ValidationError)
  })

  it.each([['a NUL character', 'a\u0000b'], ['an unpaired high surrogate', 'a\ud800'], ['an unpaired low surrogate', '\udc00b']])(
    'refuses a description with %s, which PostgreSQL cannot store',
    (_what, description) => {
      expect(() => parseCreateInput({ key: 'k', secret: {}, description })).toThrow(ValidationError)
    },
  )

  it('accepts a description with paired surrogates (an emoji)', () => {
    expect(parseCreateInput({ key: 'k', secret: {}, description: 'keys 🔑' }).description).toBe('keys 🔑')
  })

  it('refuses an update of the description alone', () => {
    expect(() => parseUpdateInput({ description: 'only' })).toThrow(ValidationError)
  })

  it('never echoes the submitted value in a message', () => {
    try {
      parseCreateInput({ key: 'k', secret: 'marker-value-777' })
    } catch (error) {
      expect((error as Error).message).not.toContain('marker-value-777')
    }
    expect.assertions(1)
  })
})

describe('new clients', () => {
  it('fills the grants in with defaults and removes duplicate organizations', () => {
    expect(parseNewClient({ name: ' svc ', organizations: ['acme', 'acme', 'globex'] })).toEqual({
      name: 'svc',
      organizations: ['acme', 'globex'],
      secrets: false,
      admin: false,
    })
  })

  it.each([{}, { name: '' }, { name: 'x', organizations: 'acme' }, { name: 'x', organizations: ['bad id'] }, { name: 'x', admin: 'yes' }, { name: 'x', other: 1 }, { name: 'a\u0000' }, { name: '\udfff' }])(
    'refuses %p',
    (body) => {
      expect(() => parseNewClient(body)).toThrow(ValidationError)
    },
  )
})
