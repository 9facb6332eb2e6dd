import http from 'node:http'
import type { Reply } from './api'
import { parseJson } from './text'

// Requests through node:http, so that the path reaches the vault byte for byte (fetch would
// resolve "..", "%2E%2E" and friends first), with the method and headers exactly as given.

export type RawOptions = Readonly<{
  /** The client's token unless given; null sends no Authorization header. */
  token?: string | null
  headers?: Record<string, string>
  body?: string | Buffer
  /** Sent with chunked transfer encoding and no Content-Length. */
  chunks?: readonly Buffer[]
}>

export type RawClient = Readonly<{
  send: (method: string, path: string, options?: RawOptions) => Promise<Reply>
  /** `send` with the body as application/json. */
  sendJson: (method: string, path: string, body: string | Buffer, options?: RawOptions) => Promise<Reply>
}>

export const toHeaders = (incoming: http.IncomingHttpHeaders): Headers => {
  const headers = new Headers()
  for (const [name, value] of Object.entries(incoming)) {
    for (const one of [value ?? []].flat()) headers.append(name, one)
  }
  return headers
}

/** A client for the vault at `url()` with the bearer token `token()`, both read at each request. */
export const rawHttpClient = (url: () => string, token: () => string): RawClient => {
  /** One request with the method, path and headers exactly as given. */
  const send = (method: string, path: string, options: RawOptions = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const { hostname, port } = new URL(url())
      const headers: Record<string, string> = { ...options.headers }
      const bearer = options.token === undefined ? token() : options.token
      if (bearer !== null && headers.authorization === undefined) headers.authorization = `Bearer ${bearer}`
      if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body))
      const outgoing = http.request({ hostname, port, method, path, headers, agent: false }, (incoming) => {
        const chunks: Buffer[] = []
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
        incoming.on('error', reject)
        incoming.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({ status: incoming.statusCode ?? 0, body: parseJson(text), text, headers: toHeaders(incoming.headers) })
        })
      })
      outgoing.on('error', reject)
      if (options.chunks !== undefined) {
        for (const chunk of options.chunks) outgoing.write(chunk)
        outgoing.end()
      } else {
        outgoing.end(options.body)
      }
    })
  const sendJson = (method: string, path: string, body: string | Buffer, options: RawOptions = {}) =>
    send(method, path, { ...options, body, headers: { 'content-type': 'application/json', ...options.headers } })
  return { send, sendJson }
}
