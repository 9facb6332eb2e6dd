import { performance } from 'node:perf_hooks'
import { measurement, type Measurement } from './stats'

/**
 * What N connections of load do: each worker repeats `once` and waits for it before the next,
 * first `warmup` times unmeasured, then for `seconds`; a failed call counts as an error.
 */
export const measureClosedLoops = async <W>(
  workers: readonly W[],
  seconds: number,
  warmup: number,
  once: (worker: W) => Promise<unknown>,
): Promise<Measurement> => {
  await Promise.all(workers.map(async (worker) => {
    for (let i = 0; i < warmup; i++) await once(worker)
  }))
  const latencies: number[] = []
  let errors = 0
  const started = performance.now()
  const deadline = started + seconds * 1000
  await Promise.all(workers.map(async (worker) => {
    while (performance.now() < deadline) {
      const sent = performance.now()
      try {
        await once(worker)
        latencies.push(performance.now() - sent)
      } catch {
        errors++
      }
    }
  }))
  return measurement(workers.length, latencies, (performance.now() - started) / 1000, {}, errors)
}
