import http from 'node:http'
import type { AddressInfo } from 'node:net'

const SHUTDOWN_GRACE_MS = 10_000

export type Listening = Readonly<{ url: string; port: number; close: () => Promise<void> }>

/**
 * Serves a listener on host:port. Bounded headers and slow-client timeouts: a request cannot
 * hold the server forever. Node checks the timeouts every connectionsCheckingInterval (30 s by
 * default, so a client that declares a body and never sends it was answered 408 only after 30
 * to 60 s): every second.
 */
export const listen = (listener: http.RequestListener, port: number, host: string): Promise<Listening> =>
  new Promise((resolve, reject) => {
    const server = http.createServer(
      { maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000, connectionsCheckingInterval: 1_000 },
      listener,
    )
    server.keepAliveTimeout = 5_000
    server.once('error', reject)
    server.listen(port, host, () => {
      const bound = (server.address() as AddressInfo).port
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`
      resolve(Object.freeze({ url, port: bound, close: () => closeServer(server) }))
    })
  })

/** Stops accepting, lets requests in flight finish (up to a grace period), then closes the rest. */
const closeServer = (server: http.Server): Promise<void> =>
  new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS)
    // A keep-alive connection that was busy when the stop began goes idle once it has answered:
    // close it then, rather than waiting for the keep-alive timeout.
    const sweep = setInterval(() => server.closeIdleConnections(), 50)
    server.close(() => {
      clearTimeout(force)
      clearInterval(sweep)
      resolve()
    })
    server.closeIdleConnections()
  })
