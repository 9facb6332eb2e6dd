import net from 'node:net'
import { clip } from './text'

// Requests on raw sockets: the method, target, headers and body reach the vault byte for byte
// (node:http and fetch would refuse or normalize many of them first).

/** A request as it goes out; header lines in this order: Host, `headers`, Authorization, Content-Type, Content-Encoding. */
export type RawRequest = Readonly<{
  method: string
  /** The request-target, as sent (UTF-8 bytes). */
  target: string
  version?: string
  noHost?: boolean
  headers: ReadonlyArray<readonly [string, string]>
  authorization?: string
  contentType?: string
  contentEncoding?: string
  body?: Buffer
  /** Sent with Transfer-Encoding: chunked in chunks of this size, instead of Content-Length. */
  chunkSize?: number
}>

export type Answer =
  | Readonly<{ kind: 'reply'; status: number; headers: ReadonlyMap<string, string>; text: string }>
  | Readonly<{ kind: 'none'; reason: string }>

/** The request's bytes: head (with Host, Connection: close and the framing) and body. */
export const render = (request: RawRequest, host: string): { head: Buffer; body: Buffer } => {
  const lines = [`${request.method} ${request.target} ${request.version ?? 'HTTP/1.1'}`]
  if (request.noHost !== true) lines.push(`Host: ${host}`)
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`)
  if (request.authorization !== undefined) lines.push(`Authorization: ${request.authorization}`)
  if (request.contentType !== undefined) lines.push(`Content-Type: ${request.contentType}`)
  if (request.contentEncoding !== undefined) lines.push(`Content-Encoding: ${request.contentEncoding}`)
  lines.push('Connection: close')
  let body: Buffer = Buffer.alloc(0)
  if (request.body !== undefined) {
    if (request.chunkSize === undefined) {
      lines.push(`Content-Length: ${request.body.length}`)
      body = request.body
    } else {
      lines.push('Transfer-Encoding: chunked')
      const size = Math.max(request.chunkSize, Math.ceil(request.body.length / 256))
      const parts: Buffer[] = []
      for (let at = 0; at < request.body.length; at += size) {
        const chunk = request.body.subarray(at, at + size)
        parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'))
      }
      parts.push(Buffer.from('0\r\n\r\n'))
      body = Buffer.concat(parts)
    }
  }
  return { head: Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), body }
}

export const dechunk = (raw: Buffer): Buffer => {
  const parts: Buffer[] = []
  let at = 0
  while (at < raw.length) {
    const eol = raw.indexOf('\r\n', at)
    if (eol < 0) break
    const size = parseInt(raw.subarray(at, eol).toString('latin1'), 16)
    if (!Number.isFinite(size) || size === 0) break
    parts.push(raw.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
  return Buffer.concat(parts)
}

/** The first final response in what the server sent (1xx interim responses skipped). */
export const parseAnswer = (raw: Buffer, method: string, reason: string): Answer => {
  let at = 0
  for (;;) {
    const end = raw.indexOf('\r\n\r\n', at)
    if (end < 0) return { kind: 'none', reason: raw.length === 0 ? reason : `${reason}: partial answer ${clip(raw.toString('latin1'), 200)}` }
    const [statusLine, ...headerLines] = raw.subarray(at, end).toString('latin1').split('\r\n')
    const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(statusLine)?.[1] ?? NaN)
    if (!Number.isInteger(status)) return { kind: 'none', reason: `not an HTTP answer: ${clip(statusLine, 100)}` }
    const headers = new Map<string, string>()
    for (const line of headerLines) {
      const colon = line.indexOf(':')
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
    }
    if (status >= 100 && status < 200) {
      at = end + 4
      continue
    }
    let body = raw.subarray(end + 4)
    if (method === 'HEAD' || status === 204 || status === 304) body = Buffer.alloc(0)
    else if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) body = dechunk(body)
    else if (headers.has('content-length')) body = body.subarray(0, Number(headers.get('content-length')))
    return { kind: 'reply', status, headers, text: body.toString('utf8') }
  }
}

/** Sends one request to `url` on a fresh connection and reads until the server closes it, or `timeoutMs` pass. */
export const exchange = (url: string, request: RawRequest, timeoutMs: number): Promise<{ answer: Answer; headBytes: number }> =>
  new Promise((resolve) => {
    const { hostname, port } = new URL(url)
    const { head, body } = render(request, `${hostname}:${port}`)
    const received: Buffer[] = []
    let settled = false
    const finish = (reason: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve({ answer: parseAnswer(Buffer.concat(received), request.method, reason), headBytes: head.length })
    }
    const socket = net.connect({ host: hostname, port: Number(port) })
    const timer = setTimeout(() => finish(`no answer within ${timeoutMs / 1000} s`), timeoutMs)
    socket.on('data', (chunk: Buffer) => received.push(chunk))
    socket.on('end', () => finish('closed'))
    socket.on('close', () => finish('closed'))
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message))
    socket.on('connect', () => {
      socket.write(head)
      if (body.length > 0) socket.write(body)
    })
  })
