// autocannon 9 ships no typings: the part of its programmatic API the benchmark uses.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  /** Per-connection state, handed to setupRequest and then to onResponse of the same request. */
  export type Context = Record<string, unknown>

  export type RequestParams = {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string | Buffer
  }

  export type Request = RequestParams & {
    setupRequest?: (request: RequestParams, context: Context) => RequestParams
    onResponse?: (status: number, body: string, context: Context) => void
  }

  export type Options = {
    url: string
    connections: number
    duration?: number
    amount?: number
    timeout?: number
    pipelining?: number
    headers?: Record<string, string>
    requests?: Request[]
  }

  export type Result = {
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    resets: number
    statusCodeStats: Record<string, { count: number }>
    latency: { p50: number; p99: number }
    requests: { average: number; total: number; sent: number }
  }

  /** Emits 'response' (client, statusCode, bytes, responseTimeMs) for every answer. */
  export type Instance = EventEmitter & PromiseLike<Result> & { stop: () => void }

  export default function autocannon(options: Options): Instance
}
