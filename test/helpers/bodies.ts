// Body builders: JSON text that JSON.stringify alone cannot write (nesting deeper than its stack,
// members like __proto__, bytes that are not UTF-8), nested values, and secret bodies whose
// values are markers to look for later.

/** Nesting too deep for JSON.stringify's own stack: written out as text by `json`. */
export class DeepText {
  static readonly all: DeepText[] = []
  readonly token = `__deep_${DeepText.all.push(this)}__`
  constructor(readonly levels: number, readonly leaf: string) {}
  toJSON = () => this.token
  text = () => `${'{"inner":'.repeat(this.levels - 1)}{"leaf":${JSON.stringify(this.leaf)}}${'}'.repeat(this.levels - 1)}`
}
export const json = (body: unknown): string =>
  DeepText.all.reduce((text, deep) => text.replace(JSON.stringify(deep.token), deep.text), JSON.stringify(body))
/** A JSON object text with one more, literal, member (for names JSON.stringify cannot write, like __proto__). */
export const withMember = (body: object, member: string): string => json(body).replace(/}$/, `,${member}}`)

/** An object nested `levels` deep, counting the secret object itself as level 1. */
export const nestedObjects = (levels: number, leaf: unknown): Record<string, unknown> => {
  let value: Record<string, unknown> = { leaf }
  for (let level = 1; level < levels; level++) value = { inner: value }
  return value
}
/** `count` arrays, one inside the other. */
export const nestedArrays = (count: number, leaf: unknown): unknown => {
  let value: unknown = leaf
  for (let i = 0; i < count; i++) value = [value]
  return value
}

/** A JSON text whose string `value` ends in bytes that are not UTF-8 (Latin-1 "é" and "ÿ"). */
export const notUtf8Json = (shape: (value: string) => object, value: string): Buffer => {
  const [head, tail] = json(shape(value)).split(value)
  return Buffer.concat([Buffer.from(`${head}${value}`), Buffer.from([0xe9, 0xff]), Buffer.from(tail)])
}

/** Secret bodies whose values are fresh markers from `marker`. */
export const secretBodies = (marker: (name: string) => string) => {
  const aSecret = (name = 'value') => ({ user: 'someone', pwd: marker(name) })
  const createBody = (key: unknown, fields: Record<string, unknown> = {}) => ({ key, secret: aSecret('create'), ...fields })
  const updateBody = (fields: Record<string, unknown> = {}) => ({ secret: aSecret('update'), ...fields })
  return { marker, aSecret, createBody, updateBody }
}
export type SecretBodies = ReturnType<typeof secretBodies>
