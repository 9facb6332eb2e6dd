import type { Logger } from '../../lib/logger'

export type Supervision = Readonly<{ stop: () => void }>

/**
 * Keeps a server we own running: every `intervalMs`, if it is down, start it again (one attempt
 * at a time; a failed attempt is retried at the next tick). Until it is back, requests get 503.
 */
export const supervise = (
  name: string,
  isRunning: () => boolean,
  restart: () => Promise<void>,
  log: Logger,
  intervalMs = 500,
): Supervision => {
  let restarting = false
  let stopped = false
  const timer = setInterval(() => {
    if (stopped || restarting || isRunning()) return
    restarting = true
    log.warn(`${name} is down; restarting it`)
    restart().then(
      () => log.warn(`${name} restarted`),
      () => log.error(`${name} could not be restarted; retrying`),
    ).finally(() => {
      restarting = false
    })
  }, intervalMs)
  // Supervision alone must not keep the process alive.
  timer.unref()
  return Object.freeze({
    stop: () => {
      stopped = true
      clearInterval(timer)
    },
  })
}
