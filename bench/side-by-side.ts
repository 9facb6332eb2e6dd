import path from 'node:path'

/**
 * `node dist/bench/side-by-side.js OLD_DIST NEW_DIST [read|update|create] [connections] [rounds]`:
 * two builds of the vault (each a `dist/`, e.g. of a `git worktree` of an older commit), each on
 * its own embedded PostgreSQL, loaded at the same time with the same autocannon run (the given
 * connections each), so that whatever the machine does to one it does to the other in the same
 * seconds. On this 2-core VM, runs taken in turn (bench/paired.ts) drift by 10-20% from one
 * 6 s run to the next; the ratio of two loads run together moved by about 5%. Prints one line
 * per round and the mean ratio new/old. Not part of any npm script.
 */
type Measurement = { perSecond: number; p99Ms: number }
type Vault = { url: string; adminSecret: string; stop: () => Promise<void> }
type Bench = {
  startVault: (databaseUrl: string | null) => Promise<Vault>
  ADMIN_ID: string
  fetchToken: (url: string, id: string, secret: string) => Promise<string>
  seedSecrets: (url: string, token: string, prefix: string, n: number, connections: number) => Promise<{ keys: string[] }>
  loadHttp: (spec: { url: string; connections: number; seconds: number; requests: unknown[]; expect: number }) => Promise<Measurement>
  readRequest: (token: string, keys: readonly string[]) => unknown
  updateRequest: (token: string, keys: readonly string[]) => unknown
  createRequest: (token: string, prefix: string, created: string[]) => unknown
}
type Running = { bench: Bench; vault: Vault; token: string; keys: string[] }

const benchOf = (dist: string): Bench => {
  const load = (name: string) => require(path.resolve(dist, 'bench', name)) as Record<string, unknown>
  return { ...load('vault'), ...load('seed'), ...load('load'), ...load('requests') } as unknown as Bench
}

const SEEDED = 2_000
const SECONDS = 8

const requestOf = (op: string, { bench, token, keys }: Running, tag: string): unknown =>
  op === 'read' ? bench.readRequest(token, keys) : op === 'update' ? bench.updateRequest(token, keys) : bench.createRequest(token, tag, [])

const main = async () => {
  const [oldDist, newDist, op = 'read', connections = '16', rounds = '5'] = process.argv.slice(2)
  if (oldDist === undefined || newDist === undefined || !['read', 'update', 'create'].includes(op)) {
    throw new Error('usage: node dist/bench/side-by-side.js OLD_DIST NEW_DIST [read|update|create] [connections] [rounds]')
  }
  const running: Record<'old' | 'new', Running> = {} as Record<'old' | 'new', Running>
  const ratios: number[] = []
  try {
    for (const [name, dist] of [['old', oldDist], ['new', newDist]] as const) {
      const bench = benchOf(dist)
      const vault = await bench.startVault(null)
      const token = await bench.fetchToken(vault.url, bench.ADMIN_ID, vault.adminSecret)
      running[name] = { bench, vault, token, keys: [] }
      running[name].keys = (await bench.seedSecrets(vault.url, token, `s${name}`, SEEDED, 16)).keys
    }
    for (let round = 0; round < Number(rounds); round++) {
      const [old, neu] = await Promise.all(
        (['old', 'new'] as const).map((name) =>
          running[name].bench.loadHttp({
            url: running[name].vault.url,
            connections: Number(connections),
            seconds: SECONDS,
            requests: [requestOf(op, running[name], `c${round}${name}${Math.random().toString(36).slice(2, 6)}`)],
            expect: 200,
          }),
        ),
      )
      ratios.push(neu.perSecond / old.perSecond)
      process.stdout.write(
        `round ${round} ${op} c=${connections} each: old ${Math.round(old.perSecond)}/s new ${Math.round(neu.perSecond)}/s ` +
          `ratio ${(neu.perSecond / old.perSecond).toFixed(3)}, p99 old ${old.p99Ms.toFixed(2)} new ${neu.p99Ms.toFixed(2)} ms\n`,
      )
    }
  } finally {
    for (const { vault } of Object.values(running)) await vault.stop()
  }
  const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length
  process.stdout.write(`mean ratio new/old ${mean.toFixed(3)} (min ${Math.min(...ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)})\n`)
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`[side-by-side] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  },
)
