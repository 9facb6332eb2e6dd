import autocannon, { type Request } from 'autocannon'
import { measurement, type Measurement } from './stats'

export type HttpLoad = Readonly<{
  url: string
  connections: number
  /** Either a duration in seconds or a fixed number of requests (spread over the connections). */
  seconds?: number
  amount?: number
  requests: Request[]
  /** The status that counts as success; any other status is counted as unexpected. */
  expect: number
}>

/**
 * Runs autocannon (one request in flight per connection, closed loop) and measures it.
 * Latencies are taken from autocannon's per-response event (sub-millisecond resolution; its
 * own histogram keeps whole milliseconds) and only for expected answers; throughput is expected
 * answers per second of the run as autocannon timed it.
 */
export const loadHttp = async (spec: HttpLoad): Promise<Measurement> => {
  const latencies: number[] = []
  const unexpected: Record<string, number> = {}
  const instance = autocannon({
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    timeout: 30,
    ...(spec.amount !== undefined ? { amount: spec.amount } : { duration: spec.seconds ?? 1 }),
    requests: spec.requests,
  })
  instance.on('response', (_client: unknown, status: number, _bytes: number, responseTimeMs: number) => {
    if (status === spec.expect) latencies.push(responseTimeMs)
    else unexpected[status] = (unexpected[status] ?? 0) + 1
  })
  const result = await instance
  return measurement(spec.connections, latencies, result.duration, unexpected, result.errors)
}
