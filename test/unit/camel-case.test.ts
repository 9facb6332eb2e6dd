import { camelCaseKeys, MAX_SECRET_DEPTH, toCamelCase } from '../../common/camel-case'
import { ValidationError } from '../../common/errors'
import type { JsonObject } from '../../common/types'

describe('toCamelCase', () => {
  it.each([
    ['User_Name', 'userName'],
    ['pass-word', 'passWord'],
    ['PWD', 'pwd'],
    ['clientID', 'clientId'],
    ['user', 'user'],
    ['userName', 'userName'],
    ['AWS_ACCESS_KEY_ID', 'awsAccessKeyId'],
    ['HTTPServer', 'httpServer'],
    ['api key 2', 'apiKey2'],
    ['_private', 'private'],
    ['contraseña', 'contraseña'],
    ['Über-Name', 'überName'],
  ])('turns %s into %s', (name, expected) => {
    expect(toCamelCase(name)).toBe(expected)
  })
})

const nestedOf = (depth: number): JsonObject => {
  let value: JsonObject = { leaf: 1 }
  for (let i = 1; i < depth; i++) value = { inner: value }
  return value
}

describe('camelCaseKeys', () => {
  it('converts attribute names at every depth, inside arrays too, and keeps values', () => {
    expect(camelCaseKeys({ User_Name: 'A_B', Nested: { 'pass-word': 'x', List: [{ client_ID: 1 }, 'PLAIN'] } })).toEqual({
      userName: 'A_B',
      nested: { passWord: 'x', list: [{ clientId: 1 }, 'PLAIN'] },
    })
  })

  it('refuses attribute names that collide after conversion', () => {
    expect(() => camelCaseKeys({ user_name: 1, userName: 2 })).toThrow(ValidationError)
    expect(() => camelCaseKeys({ outer: { 'a-b': 1, A_B: 2 } })).toThrow(ValidationError)
  })

  it('refuses attribute names without a letter or digit', () => {
    expect(() => camelCaseKeys({ '': 1 })).toThrow(ValidationError)
    expect(() => camelCaseKeys({ ___: 1 })).toThrow(ValidationError)
  })

  it('keeps a "__proto__" attribute as plain data, never as a prototype', () => {
    const converted = camelCaseKeys(JSON.parse('{"__proto__": {"polluted": true}, "a": 1}'))
    expect(converted).toEqual({ proto: { polluted: true }, a: 1 })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it(`accepts ${MAX_SECRET_DEPTH} levels of nesting and refuses one more`, () => {
    expect(() => camelCaseKeys(nestedOf(MAX_SECRET_DEPTH))).not.toThrow()
    expect(() => camelCaseKeys(nestedOf(MAX_SECRET_DEPTH + 1))).toThrow(ValidationError)
  })
})
