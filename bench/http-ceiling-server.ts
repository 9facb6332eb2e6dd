import http from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * The HTTP ceiling: a bare node:http server, in a process of its own, answering every request
 * with one fixed JSON body of the given size in bytes. Prints {"port":N} once it listens.
 */
const size = Number(process.argv[2])
if (!Number.isInteger(size) || size < 32) throw new Error('usage: http-ceiling-server <body bytes, at least 32>')

const prefix = '{"id":"ceiling","secret":{"pad":"'
const suffix = '"}}'
const body = Buffer.from(prefix + 'x'.repeat(size - prefix.length - suffix.length) + suffix)

const server = http.createServer((req, res) => {
  req.resume()
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length })
  res.end(body)
})
// The vault's keep-alive timeout, so neither side closes connections the other keeps.
server.keepAliveTimeout = 5_000
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
