import type { Pool } from './database'

const HEALTH_TIMEOUT_MS = 2_000

/** Whether the store answers a trivial query within two seconds (`GET /health`). */
export const storeIsReady = async (pool: Pool): Promise<boolean> => {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS)
  })
  const probe = pool.query('SELECT 1').then(
    () => true,
    () => false,
  )
  try {
    return await Promise.race([probe, timeout])
  } finally {
    clearTimeout(timer)
  }
}
