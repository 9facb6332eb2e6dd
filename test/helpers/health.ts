import { performance } from 'node:perf_hooks'
import { sleep } from './sleep'

// The vault's health as a client sees it, and waiting for it to come back.

/** ok: 200; unavailable: the vault answers, not 200; unreachable: no vault answers at all. */
export const health = async (url: string): Promise<'ok' | 'unavailable' | 'unreachable'> => {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(3_000) })
    await response.arrayBuffer()
    return response.status === 200 ? 'ok' : 'unavailable'
  } catch {
    return 'unreachable'
  }
}

/** Polls /health until it is ok, or the vault is gone for good, or 20 s pass. */
export const awaitHealth = async (url: string) => {
  const deadline = performance.now() + 20_000
  let state = await health(url)
  for (let gone = 0; state !== 'ok' && gone < 20 && performance.now() < deadline; ) {
    await sleep(100)
    state = await health(url)
    gone = state === 'unreachable' ? gone + 1 : 0
  }
  return state
}
