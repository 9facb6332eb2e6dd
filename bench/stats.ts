/** One measured run: a load at a fixed concurrency, whatever was under it. */
export type Measurement = Readonly<{
  connections: number
  /** Answers that were what the operation should answer (e.g. 200, or 204 for a delete). */
  ok: number
  seconds: number
  /** ok answers per second of the run. */
  perSecond: number
  p50Ms: number
  p99Ms: number
  /** Answers with another status (non-2xx, or a 205 "nothing to delete"), by status. */
  unexpected: Readonly<Record<string, number>>
  /** Connection errors and timeouts (HTTP), or failed statements (PostgreSQL). */
  errors: number
}>

/** Nearest-rank percentile of latencies in milliseconds; NaN when there are none. */
export const percentile = (sorted: readonly number[], p: number): number => {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]
}

export const measurement = (
  connections: number,
  latenciesMs: number[],
  seconds: number,
  unexpected: Record<string, number>,
  errors: number,
): Measurement => {
  const sorted = Float64Array.from(latenciesMs).sort()
  const values = Array.from(sorted)
  return Object.freeze({
    connections,
    ok: values.length,
    seconds,
    perSecond: seconds > 0 ? values.length / seconds : 0,
    p50Ms: percentile(values, 50),
    p99Ms: percentile(values, 99),
    unexpected: Object.freeze({ ...unexpected }),
    errors,
  })
}

/** Everything that went wrong in a run, counted together. */
export const failures = (m: Measurement): number =>
  m.errors + Object.values(m.unexpected).reduce((sum, count) => sum + count, 0)
