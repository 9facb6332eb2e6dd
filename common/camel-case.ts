import { ValidationError } from './errors'
import type { JsonObject, JsonValue } from './types'

/** How deep a secret may nest; deeper input is refused rather than risking the stack. */
export const MAX_SECRET_DEPTH = 32

// A word is a run of capitals not followed by a lower-case letter (an acronym such as "ID"),
// an optional capital followed by lower-case letters, a run of caseless letters, or of digits.
// Unicode classes, so that "contraseña" stays one word.
const WORD = /\p{Lu}+(?!\p{Ll})|\p{Lu}?\p{Ll}+|[\p{Lo}\p{Lm}\p{Lt}]+|\p{N}+/gu

/** `User_Name` -> `userName`, `pass-word` -> `passWord`, `PWD` -> `pwd`, `clientID` -> `clientId`. */
export const toCamelCase = (name: string): string => {
  const words = name.match(WORD) ?? []
  return words
    .map((word, index) => {
      const lower = word.toLowerCase()
      return index === 0 ? lower : lower.charAt(0).toUpperCase() + lower.slice(1)
    })
    .join('')
}

/**
 * Converts every attribute name of a secret to camelCase at every depth. Two names that become
 * the same name are refused: silently keeping one of them would lose part of the secret.
 */
export const camelCaseKeys = (value: JsonObject): JsonObject => convertObject(value, 1)

const convert = (value: JsonValue, depth: number): JsonValue => {
  if (Array.isArray(value)) {
    if (depth > MAX_SECRET_DEPTH) throw tooDeep()
    return value.map((item) => convert(item, depth + 1))
  }
  if (value !== null && typeof value === 'object') return convertObject(value, depth)
  return value
}

const convertObject = (value: JsonObject, depth: number): JsonObject => {
  if (depth > MAX_SECRET_DEPTH) throw tooDeep()
  const seen = new Map<string, string>()
  const entries: [string, JsonValue][] = []
  for (const [name, inner] of Object.entries(value)) {
    const converted = toCamelCase(name)
    if (converted === '') {
      throw new ValidationError('Attribute names must contain at least one letter or digit')
    }
    if (seen.has(converted)) {
      throw new ValidationError(`Attribute names collide after camelCase conversion: "${converted}"`)
    }
    seen.set(converted, name)
    entries.push([converted, convert(inner, depth + 1)])
  }
  // Object.fromEntries defines own properties, so a "__proto__" name cannot reach the prototype.
  return Object.fromEntries(entries)
}

const tooDeep = (): ValidationError =>
  new ValidationError(`secret is nested more than ${MAX_SECRET_DEPTH} levels deep`)
