import { ADMIN_ID, ADMIN_SECRET } from './vault-process'

export type Reply = Readonly<{ status: number; body: any; text: string; headers: Headers }>

type RequestOptions = Readonly<{
  token?: string
  body?: unknown
  /** Sent as is, instead of JSON.stringify(body). */
  raw?: string | Buffer
  headers?: Record<string, string>
}>

/** One HTTP request to the vault; the body is parsed as JSON when there is one. */
export const request = async (baseUrl: string, method: string, path: string, options: RequestOptions = {}): Promise<Reply> => {
  const headers: Record<string, string> = { ...options.headers }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  let body: string | Buffer | undefined = options.raw
  if (body === undefined && options.body !== undefined) {
    body = JSON.stringify(options.body)
    headers['content-type'] ??= 'application/json'
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body })
  const text = await response.text()
  let parsed: unknown = undefined
  try {
    parsed = text === '' ? undefined : JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: response.status, body: parsed, text, headers: response.headers }
}

/** A bearer token for a client, through the real token endpoint. */
export const tokenFor = async (baseUrl: string, clientId: string, clientSecret: string): Promise<string> => {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret })
  const reply = await request(baseUrl, 'POST', '/oauth/token', {
    raw: form.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  })
  if (reply.status !== 200) throw new Error(`token request failed: ${reply.status} ${reply.text}`)
  return reply.body.access_token as string
}

export const adminToken = (baseUrl: string): Promise<string> => tokenFor(baseUrl, ADMIN_ID, ADMIN_SECRET)

export type Grants = { organizations?: string[]; secrets?: boolean; admin?: boolean }

/** Registers a client through POST /clients and returns a token for it. */
export const clientWith = async (baseUrl: string, admin: string, grants: Grants) => {
  const reply = await request(baseUrl, 'POST', '/clients', { token: admin, body: { name: 'test client', ...grants } })
  if (reply.status !== 201) throw new Error(`client creation failed: ${reply.status} ${reply.text}`)
  const { clientId, clientSecret } = reply.body as { clientId: string; clientSecret: string }
  return { clientId, clientSecret, token: await tokenFor(baseUrl, clientId, clientSecret) }
}

/** A client bound to one vault and one token, for terse tests. */
export const as = (baseUrl: string, token: string) => ({
  get: (path: string) => request(baseUrl, 'GET', path, { token }),
  post: (path: string, body?: unknown) => request(baseUrl, 'POST', path, { token, body }),
  delete: (path: string) => request(baseUrl, 'DELETE', path, { token }),
  send: (method: string, path: string, options: RequestOptions = {}) => request(baseUrl, method, path, { token, ...options }),
})
