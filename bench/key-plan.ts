export type KeysPlan = Readonly<{ live: number; deleted: number; passes: number; clients: number }>

const argument = (args: readonly string[], name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`)
  const value = at >= 0 ? Number(args[at + 1]) : fallback
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} takes a positive whole number`)
  return value
}

/** `npm run bench:keys [-- --live N --deleted N --passes N --clients N]`: what the run seeds and times. */
export const planFrom = (args: readonly string[]): KeysPlan => {
  const known = new Set(['--live', '--deleted', '--passes', '--clients'])
  for (let i = 0; i < args.length; i += 2) {
    if (!known.has(args[i])) throw new Error(`unknown argument ${args[i]} (usage: npm run bench:keys [-- --live N --deleted N --passes N --clients N])`)
  }
  return {
    live: argument(args, 'live', 100_000),
    deleted: argument(args, 'deleted', 10_000),
    // Passes 1 and 3 are the shredder as compose.ts wires it; pass 2 the same code with timers.
    passes: argument(args, 'passes', 3),
    clients: argument(args, 'clients', 100),
  }
}
