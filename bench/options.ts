/** What one run of the benchmark does: the full plan, or the quick one (`--quick`). */
export type Plan = Readonly<{
  mode: 'full' | 'quick'
  /** Concurrent connections (HTTP) or clients (PostgreSQL) of every measured series. */
  connections: readonly number[]
  /** Seconds each measured run lasts. */
  seconds: number
  /** Seconds of unmeasured load before each measured run, at its concurrency (JIT, connection set-up, caches). */
  warmupSeconds: number
  /** Secrets stored before anything is read or updated. */
  seededSecrets: number
  /** Parallel loops that store them. */
  seedConnections: number
}>

const FULL: Plan = {
  mode: 'full',
  connections: [1, 8, 32],
  seconds: 6,
  warmupSeconds: 1,
  seededSecrets: 10_000,
  seedConnections: 16,
}

const QUICK: Plan = {
  mode: 'quick',
  connections: [1, 8, 32],
  seconds: 1,
  // autocannon runs whole seconds: a shorter warm-up would last one second all the same.
  warmupSeconds: 1,
  seededSecrets: 1_000,
  seedConnections: 16,
}

/** `--quick` chooses the quick plan; anything else unknown is refused, not ignored. */
export const planFrom = (args: readonly string[]): Plan => {
  const unknown = args.filter((arg) => arg !== '--quick')
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]} (usage: npm run bench [-- --quick])`)
  return args.includes('--quick') ? QUICK : FULL
}
