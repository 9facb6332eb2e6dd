import type { Context, Request, RequestParams } from 'autocannon'

// The requests of each operation, as autocannon builds them: setupRequest runs once per request
// sent (on that connection), onResponse once per answer, with the same per-connection context.

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]

const auth = (token: string) => ({ authorization: `Bearer ${token}` })
const json = (token: string) => ({ ...auth(token), 'content-type': 'application/json' })

/** A value of the same shape and size for every secret the benchmark stores. */
export const secretValue = (tag: string, n: number) => ({
  userName: 'bench',
  password: `${tag}-${n.toString(36).padStart(28, '0')}`,
})

/** GET of a random key among `keys` (the vault's read, and the HTTP ceiling's same-shaped request). */
export const readRequest = (token: string, keys: readonly string[]): Request => ({
  method: 'GET',
  headers: auth(token),
  setupRequest: (request: RequestParams) => ({ ...request, path: `/secrets/${pick(keys)}` }),
})

/** POST /secrets of new keys `${prefix}-0`, `${prefix}-1`, ...; pushes each key created (200) onto `created`. */
export const createRequest = (token: string, prefix: string, created: string[]): Request => {
  let next = 0
  return {
    method: 'POST',
    path: '/secrets',
    headers: json(token),
    setupRequest: (request: RequestParams, context: Context) => {
      const n = next++
      context.key = `${prefix}-${n}`
      return { ...request, body: JSON.stringify({ key: context.key, secret: secretValue('c', n), description: 'benchmark' }) }
    },
    onResponse: (status: number, _body: string, context: Context) => {
      if (status === 200 && typeof context.key === 'string') created.push(context.key)
    },
  }
}

/** POST /secrets/{key} of a random existing key, with a value never sent before. */
export const updateRequest = (token: string, keys: readonly string[]): Request => {
  let next = 0
  return {
    method: 'POST',
    headers: json(token),
    setupRequest: (request: RequestParams) => ({
      ...request,
      path: `/secrets/${pick(keys)}`,
      body: JSON.stringify({ secret: secretValue('u', next++) }),
    }),
  }
}

/** DELETE /secrets/{key}, each of `keys` once, in order (beyond them: a key that never existed, a 205). */
export const deleteRequest = (token: string, keys: readonly string[]): Request => {
  let next = 0
  return {
    method: 'DELETE',
    headers: auth(token),
    setupRequest: (request: RequestParams) => ({ ...request, path: `/secrets/${keys[next++] ?? 'never-created'}` }),
  }
}

/** POST /oauth/token, the client credentials grant in a form. */
export const tokenRequest = (clientId: string, clientSecret: string): Request => ({
  method: 'POST',
  path: '/oauth/token',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }).toString(),
})
