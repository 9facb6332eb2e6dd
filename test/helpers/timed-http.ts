// HTTP requests with a client-side timeout, for suites that break the vault or its database on
// purpose: they never hang, and the one that never throws says how long it took.

/** One request with a client-side timeout, timed, never throwing. */
export const timedRequest = async (
  url: string,
  timeoutMs: number,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any; ms: number; failure?: string }> => {
  const headers: Record<string, string> = {}
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const started = Date.now()
  try {
    const response = await fetch(`${url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    })
    const text = await response.text()
    let parsed: unknown
    try {
      parsed = text === '' ? undefined : JSON.parse(text)
    } catch {
      parsed = text
    }
    return { status: response.status, body: parsed, ms: Date.now() - started }
  } catch (error) {
    return { status: 0, body: undefined, ms: Date.now() - started, failure: error instanceof Error ? error.name : String(error) }
  }
}

/** One HTTP exchange, body read to its end: the status means the vault answered in full. */
export const statusOf = async (url: string, timeoutMs: number, token: string, method: string, route: string, body?: object): Promise<number> => {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(timeoutMs),
  })
  await response.arrayBuffer()
  return response.status
}
