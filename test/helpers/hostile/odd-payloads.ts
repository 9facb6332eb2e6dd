// Function payloads that are not what a function takes: other JSON types, junk, nesting, huge
// keys and organization ids, unknown fields. `VALUE` stands in every secret value, `HUGE_KEY` in
// every huge id.

export const oddPayloads = (VALUE: string, HUGE_KEY: string): Array<[string, string]> => [
  ['a JSON array', JSON.stringify([{ key: 'odd', secret: { pwd: VALUE } }])],
  ['a JSON string', JSON.stringify(VALUE)],
  ['a JSON number', '42'],
  ['JSON true', 'true'],
  ['JSON null', 'null'],
  ['an empty object', '{}'],
  ['nested junk', JSON.stringify({ key: { $ne: null }, organizationId: ['acme'], secret: [[[{ pwd: VALUE }]]], description: { d: VALUE } })],
  ['a secret nested 100 levels deep', JSON.stringify({ key: 'odd', organizationId: 'acme', secret: JSON.parse(`${'{"a":'.repeat(100)}"${VALUE}"${'}'.repeat(100)}`) })],
  ['a huge key', JSON.stringify({ key: HUGE_KEY, organizationId: 'acme', secret: { pwd: VALUE } })],
  ['a huge organizationId', JSON.stringify({ key: 'odd', organizationId: HUGE_KEY, secret: { pwd: VALUE } })],
  ['unknown fields', JSON.stringify({ key: 'odd', organizationId: 'acme', secret: { pwd: VALUE }, admin: true, extra: VALUE })],
  ['a __proto__ member', `{"key":"odd","organizationId":"acme","secret":{"pwd":"${VALUE}"},"__proto__":{"admin":true}}`],
  ['a description that is not a string', JSON.stringify({ key: 'odd', organizationId: 'acme', secret: { pwd: VALUE }, description: [VALUE] })],
  ['a secret attribute with no letter or digit', JSON.stringify({ key: 'odd', organizationId: 'acme', secret: { '--': VALUE } })],
]
