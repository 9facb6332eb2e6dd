import path from 'node:path'

/**
 * `node dist/bench/paired.js OLD_DIST NEW_DIST [rounds] [seconds]`: two builds of the vault (each
 * a `dist/` directory, e.g. of a `git worktree` of an older commit), started side by side, each
 * on its own embedded PostgreSQL, and loaded in turn with the same autocannon runs, the order
 * swapped every round, so that the machine's drift hits both alike. Each build runs with its own
 * bench code (vault.js, seed.js, load.js, requests.js). OPS='[["read",8]]' picks the runs.
 * Prints one line per run on stderr and every run as JSON on stdout. Not part of any npm script.
 */
type Measurement = { perSecond: number; p50Ms: number; p99Ms: number; errors: number; unexpected: Record<string, number> }
type Vault = { url: string; adminSecret: string; stop: () => Promise<void> }
type Bench = {
  startVault: (databaseUrl: string | null) => Promise<Vault>
  ADMIN_ID: string
  fetchToken: (url: string, id: string, secret: string) => Promise<string>
  seedSecrets: (url: string, token: string, prefix: string, n: number, connections: number) => Promise<{ keys: string[]; load: Measurement }>
  loadHttp: (spec: { url: string; connections: number; seconds: number; requests: unknown[]; expect: number }) => Promise<Measurement>
  readRequest: (token: string, keys: readonly string[]) => unknown
  updateRequest: (token: string, keys: readonly string[]) => unknown
  createRequest: (token: string, prefix: string, created: string[]) => unknown
}

const benchOf = (dist: string): Bench => {
  const load = (name: string) => require(path.resolve(dist, 'bench', name)) as Record<string, unknown>
  return { ...load('vault'), ...load('seed'), ...load('load'), ...load('requests') } as unknown as Bench
}

const SEEDED = 2_000
const DEFAULT_OPS: Array<[string, number]> = [['read', 1], ['read', 8], ['read', 32], ['update', 32], ['create', 32]]

const main = async () => {
  const [oldDist, newDist, rounds = '4', seconds = '6'] = process.argv.slice(2)
  if (oldDist === undefined || newDist === undefined) throw new Error('usage: node dist/bench/paired.js OLD_DIST NEW_DIST [rounds] [seconds]')
  const ops = (process.env.OPS === undefined ? DEFAULT_OPS : JSON.parse(process.env.OPS)) as Array<[string, number]>
  const builds = { old: benchOf(oldDist), new: benchOf(newDist) }
  const running: Record<string, { bench: Bench; vault: Vault; token: string; keys: string[] }> = {}
  const results: unknown[] = []
  try {
    for (const [name, bench] of Object.entries(builds)) {
      const vault = await bench.startVault(null)
      const token = await bench.fetchToken(vault.url, bench.ADMIN_ID, vault.adminSecret)
      running[name] = { bench, vault, token, keys: [] }
      running[name].keys = (await bench.seedSecrets(vault.url, token, `p${name}`, SEEDED, 16)).keys
    }
    for (let round = 0; round < Number(rounds); round++) {
      for (const [op, connections] of ops) {
        for (const name of round % 2 === 0 ? ['old', 'new'] : ['new', 'old']) {
          const { bench, vault, token, keys } = running[name]
          const created: string[] = []
          const requests = () => [
            op === 'read'
              ? bench.readRequest(token, keys)
              : op === 'update'
                ? bench.updateRequest(token, keys)
                : bench.createRequest(token, `c${round}${name}${Math.random().toString(36).slice(2, 6)}`, created),
          ]
          await bench.loadHttp({ url: vault.url, connections, seconds: 1, requests: requests(), expect: 200 })
          const m = await bench.loadHttp({ url: vault.url, connections, seconds: Number(seconds), requests: requests(), expect: 200 })
          const failures = m.errors + Object.values(m.unexpected).reduce((a, b) => a + b, 0)
          results.push({ round, op, connections, build: name, perSecond: m.perSecond, p50Ms: m.p50Ms, p99Ms: m.p99Ms, failures })
          process.stderr.write(
            `[paired] round ${round} ${op} c=${connections} ${name}: ${Math.round(m.perSecond)}/s p50 ${m.p50Ms.toFixed(2)} p99 ${m.p99Ms.toFixed(2)}` +
              `${failures > 0 ? ` FAILURES ${failures}` : ''}\n`,
          )
        }
      }
    }
  } finally {
    for (const { vault } of Object.values(running)) await vault.stop()
  }
  process.stdout.write(`${JSON.stringify(results)}\n`)
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`[paired] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  },
)
