import { loadHttp } from './load'
import { createRequest } from './requests'
import { failures, type Measurement } from './stats'

/** An access token for the bootstrap admin (valid an hour: longer than any run). */
export const fetchToken = async (url: string, clientId: string, clientSecret: string): Promise<string> => {
  const response = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
  })
  const body = (await response.json()) as { access_token?: string }
  if (response.status !== 200 || typeof body.access_token !== 'string') {
    throw new Error(`POST /oauth/token answered ${response.status}`)
  }
  return body.access_token
}

export type Seeded = Readonly<{ keys: readonly string[]; load: Measurement }>

/** Stores `count` secrets through the API, `connections` at a time; answers the keys stored. */
export const seedSecrets = async (url: string, token: string, prefix: string, count: number, connections: number): Promise<Seeded> => {
  const keys: string[] = []
  const load = await loadHttp({ url, connections, amount: count, requests: [createRequest(token, prefix, keys)], expect: 200 })
  if (keys.length === 0) throw new Error(`seeding stored no secret (${failures(load)} failures)`)
  return { keys, load }
}

/** The size in bytes of the body of a read answer: the HTTP ceiling answers a body of that size. */
export const readAnswerBytes = async (url: string, token: string, key: string): Promise<number> => {
  const response = await fetch(`${url}/secrets/${key}`, { headers: { authorization: `Bearer ${token}` } })
  const body = Buffer.from(await response.arrayBuffer())
  if (response.status !== 200) throw new Error(`GET /secrets/${key} answered ${response.status}`)
  return body.length
}
