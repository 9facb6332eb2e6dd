import { DeepText, json, nestedArrays, nestedObjects, withMember, type SecretBodies } from '../bodies'

// Bad bodies, written out one by one: keys, secret values, descriptions and fields the contract
// refuses, bodies that are not a JSON object, content types other than JSON. Each entry is a
// label and what to send; values are markers, to be looked for later.

const KiB = 1024

/** Key values in a create body that are not a valid key. */
export const badBodyKeys = (key: string): Array<readonly [string, unknown]> => [
  ['that is empty', ''],
  ['of 257 characters', 'k'.repeat(257)],
  ['starting with "-"', `-${key}`],
  ['starting with "."', `.${key}`],
  ['starting with "@"', `@${key}`],
  ['starting with "_"', `_${key}`],
  ['with a leading space', ` ${key}`],
  ['with a trailing space', `${key} `],
  ['with a space inside', 'ke pt'],
  ['with a tab', `${key}\t`],
  ['with an accented letter', `${key}é`],
  ['that is an emoji', '🔑'],
  ['with a fullwidth letter', 'ｋept'],
  ['with a zero-width space', `${key}\u200b`],
  ['with a no-break space', `${key}\u00a0`],
  ['with a slash', `${key}/x`],
  ['starting with a slash', `/${key}`],
  ['with a backslash', `${key}\\x`],
  ['that is ".."', '..'],
  ['that is "%2E%2E"', '%2E%2E'],
  ['with percent-encoding', `${key}%2Fx`],
  ['with malformed percent-encoding', `${key}%E0%A4%A`],
  ['ending in NUL', `${key}\u0000`],
  ['that is NUL', '\u0000'],
  ['with a newline', `${key}\n`],
  ['with CR LF', `${key}\r\n`],
  ['with a control character', `${key}\u001f`],
  ['with DEL', `${key}\u007f`],
  ['with a lone surrogate', `${key}\ud800`],
  ['with ";"', `${key};`],
  ['with "*"', `${key}*`],
  ['that is a number', 42],
  ['that is null', null],
  ['that is true', true],
  ['that is an object', { key }],
  ['that is an array', [key]],
  ['that is missing', undefined],
]

/** `secret` values that are not a JSON object. */
export const notAnObject = ({ marker, aSecret }: SecretBodies): Array<readonly [string, () => unknown]> => [
  ['a string', () => marker('string')],
  ['a string holding JSON', () => json(aSecret('json-string'))],
  ['an empty string', () => ''],
  ['an array', () => [marker('array')]],
  ['an array of objects', () => [aSecret('array-of-objects')]],
  ['a number', () => 42],
  ['zero', () => 0],
  ['true', () => true],
  ['false', () => false],
  ['null', () => null],
  ['missing', () => undefined],
]

/** Secrets that are JSON objects, but ones the vault must refuse. */
export const badSecrets = ({ marker }: SecretBodies): Array<readonly [string, () => unknown]> => [
  ['with "user_name" and "userName", which collide', () => ({ user_name: marker('c1'), userName: marker('c2') })],
  ['with "User-Name" and "user name", which collide', () => ({ 'User-Name': marker('c3'), 'user name': marker('c4') })],
  ['with "PWD" and "pwd", which collide', () => ({ PWD: marker('c5'), pwd: marker('c6') })],
  ['with "clientID" and "clientId", which collide', () => ({ clientID: marker('c7'), clientId: marker('c8') })],
  ['with a collision one level down', () => ({ db: { pass_word: marker('c9'), PassWord: marker('c10') } })],
  ['with a collision five levels down', () => nestedObjects(5, { host_name: marker('c11'), hostName: marker('c12') })],
  ['with a collision inside an array', () => ({ hosts: [{ ok: 1 }, { host_name: marker('c13'), hostName: marker('c14') }] })],
  ['with an empty attribute name', () => ({ '': marker('n1') })],
  ['with an attribute named "___"', () => ({ ___: marker('n2') })],
  ['with an attribute named "-"', () => ({ '-': marker('n3') })],
  ['with an attribute named " "', () => ({ ' ': marker('n4') })],
  ['with an attribute named "$%&"', () => ({ '$%&': marker('n5') })],
  ['with a nameless attribute one level down', () => ({ ok: { __: marker('n6') } })],
  ['with a nameless attribute inside an array', () => ({ list: [{ '': marker('n7') }] })],
  ['nested 33 levels deep', () => nestedObjects(33, marker('d1'))],
  ['nested 33 levels deep, 32 of them arrays', () => ({ list: nestedArrays(32, marker('d2')) })],
  ['nested 10,000 levels deep', () => new DeepText(10_000, marker('d3'))],
  ['of more than 64 KiB of JSON', () => ({ blob: `${marker('s1')}${'x'.repeat(64 * KiB)}` })],
  ['of more than 64 KiB of UTF-8 in fewer than 64 Ki characters', () => ({ blob: `${marker('s2')}${'é'.repeat(33 * KiB)}` })],
  [
    'of more than 64 KiB in many small attributes',
    () => ({ first: marker('s3'), ...Object.fromEntries(Array.from({ length: 6000 }, (_, i) => [`a${i}`, i])) }),
  ],
]

/** Descriptions the vault must refuse. */
export const badDescriptions = ({ marker }: SecretBodies): Array<readonly [string, () => unknown]> => [
  ['a number', () => 7],
  ['zero', () => 0],
  ['an object', () => ({ text: marker('description-object') })],
  ['an array', () => [marker('description-array')]],
  ['true', () => true],
  ['null', () => null],
  ['2049 characters long', () => 'd'.repeat(2049)],
  ['2049 accented characters long', () => 'é'.repeat(2049)],
]

/** Create bodies (as JSON text) with a field the contract does not have. */
export const unknownCreateFields = ({ marker, aSecret, createBody }: SecretBodies): Array<readonly [string, (key: string) => string]> => [
  ['an unknown field', (key) => json(createBody(key, { extra: marker('extra') }))],
  ['"Secret" beside "secret"', (key) => json(createBody(key, { Secret: aSecret('Secret') }))],
  ['"value" beside "secret"', (key) => json(createBody(key, { value: marker('value-field') }))],
  ['"id"', (key) => json(createBody(key, { id: key }))],
  ['"arn"', (key) => json(createBody(key, { arn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:x-abcdef' }))],
  ['"ern"', (key) => json(createBody(key, { ern: `ern:vault:dev:${key}` }))],
  ['"__proto__"', (key) => withMember(createBody(key), '"__proto__":{"admin":true}')],
  ['"constructor"', (key) => json(createBody(key, { constructor: { name: 'x' } }))],
]

/** Update bodies (as JSON text) with a field the contract does not have. */
export const unknownUpdateFields = (
  { marker, aSecret, updateBody }: SecretBodies,
  { key, other, organizationId }: Readonly<{ key: string; other: string; organizationId: string }>,
): Array<readonly [string, () => string]> => [
  ['an unknown field', () => json(updateBody({ extra: marker('extra') }))],
  ['"key", naming another stored secret', () => json(updateBody({ key: other }))],
  ['"key", naming the same secret', () => json(updateBody({ key }))],
  ['"organizationId"', () => json(updateBody({ organizationId }))],
  ['"id"', () => json(updateBody({ id: key }))],
  ['"Secret" beside "secret"', () => json(updateBody({ Secret: aSecret('Secret') }))],
  ['"__proto__"', () => withMember(updateBody(), '"__proto__":{"admin":true}')],
]

/** Bodies sent as application/json that are not a JSON object, made from the object they spoil. */
export const NOT_JSON_OBJECTS: Array<readonly [string, (good: object) => string]> = [
  ['a lone "{"', () => '{'],
  ['cut short', (good) => json(good).slice(0, -2)],
  ['single-quoted', (good) => json(good).replace(/"/g, "'")],
  ['with a trailing comma', (good) => json(good).replace(/}$/, ',}')],
  ['with unquoted names', (good) => json(good).replace(/"(\w+)":/g, '$1:')],
  ['with a comment', (good) => json(good).replace(/^{/, '{ /* a comment */ ')],
  ['with NaN', (good) => withMember(good, '"n":NaN')],
  ['two objects', (good) => `${json(good)}${json(good)}`],
  ['with a raw NUL byte', (good) => json(good).replace(/}$/, '\u0000}')],
  ['an empty array', () => '[]'],
  ['an array holding the fields', (good) => `[${json(good)}]`],
  ['a string', (good) => json(json(good))],
  ['null', () => 'null'],
  ['a number', () => '42'],
  ['true', () => 'true'],
  ['empty', () => ''],
  ['only white space', () => '  \n '],
]

/** Content types, other than JSON, for a body that is otherwise a good JSON object. */
export const WRONG_CONTENT_TYPES: Array<readonly [string, string | undefined]> = [
  ['text/plain', 'text/plain'],
  ['text/plain with a charset', 'text/plain; charset=utf-8'],
  ['missing', undefined],
  ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
  ['multipart/form-data', 'multipart/form-data; boundary=xyz'],
  ['application/xml', 'application/xml'],
  ['application/octet-stream', 'application/octet-stream'],
  ['malformed ("json")', 'json'],
]

export const withContentType = (contentType: string | undefined): Record<string, string> =>
  contentType === undefined ? {} : { 'content-type': contentType }
