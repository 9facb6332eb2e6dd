import { measurement, type Measurement } from './stats'

/** The page size of the listing row: the most a page holds. */
const PAGE = 100

/**
 * One client listing every secret under `prefix` a page at a time (`GET /secrets?prefix=&limit=100`,
 * following nextToken), again and again for `seconds`. Each page is one request of the row
 * (req/s are pages per second, p50/p99 a page's latency); a listing that does not answer each
 * seeded secret exactly once counts as a failure.
 */
export const measureListing = async (url: string, token: string, prefix: string, expected: number, seconds: number): Promise<Measurement> => {
  const latencies: number[] = []
  const unexpected: Record<string, number> = {}
  let errors = 0
  const started = performance.now()
  while (performance.now() - started < seconds * 1000) {
    const seen = new Set<string>()
    let next: string | undefined
    do {
      const query = new URLSearchParams({ prefix, limit: String(PAGE), ...(next === undefined ? {} : { nextToken: next }) })
      const at = performance.now()
      try {
        const response = await fetch(`${url}/secrets?${query}`, { headers: { authorization: `Bearer ${token}` } })
        const body = (await response.json()) as { secrets?: Array<{ id: string }>; nextToken?: string }
        if (response.status !== 200) {
          unexpected[String(response.status)] = (unexpected[String(response.status)] ?? 0) + 1
          break
        }
        latencies.push(performance.now() - at)
        for (const secret of body.secrets ?? []) seen.add(secret.id)
        next = body.nextToken
      } catch {
        errors++
        break
      }
    } while (next !== undefined)
    if (seen.size !== expected) unexpected['incomplete listing'] = (unexpected['incomplete listing'] ?? 0) + 1
  }
  return measurement(1, latencies, (performance.now() - started) / 1000, unexpected, errors)
}
