import { performance } from 'node:perf_hooks'
import pg from 'pg'
import type { KeyHierarchy } from '../app/keys/key-hierarchy'
import type { ShardKey } from '../common/encryption'
import type { KeyStore } from '../store/keys/key-store'
import { EVENTSTORE_SCHEMA } from '../store/resolve/tables'

/** Where a timed pass spent its wall time: milliseconds and calls per kind of step. */
export type Timings = Map<string, { ms: number; calls: number }>

export const createTimings = (): Timings => new Map()

const add = (timings: Timings, name: string, ms: number) => {
  const entry = timings.get(name) ?? { ms: 0, calls: 0 }
  entry.ms += ms
  entry.calls++
  timings.set(name, entry)
}

const timed = async <T>(timings: Timings, name: string, work: () => Promise<T>): Promise<T> => {
  const started = performance.now()
  try {
    return await work()
  } finally {
    add(timings, name, performance.now() - started)
  }
}

// The statements the shredder and the rewrap send (store/keys/shard-keys.repository.ts,
// store/clients.repository.ts, store/database.ts), named by what they do.
const STATEMENTS: Array<[RegExp, string]> = [
  [/^(BEGIN|COMMIT|ROLLBACK)$|pg_advisory_xact_lock\(|^(UPDATE|INSERT INTO) vault\.shard_keys/, 'SQL: key switch transactions (BEGIN..COMMIT)'],
  [/pg_try_advisory_lock\(|pg_advisory_unlock\(|pg_advisory_lock\(/, 'SQL: shred locks'],
  [/FROM vault\.shred_requests GROUP BY/, 'SQL: due shards'],
  [/^SELECT shard, generation/, 'SQL: shard generations'],
  [/^SELECT id, secret FROM/, 'SQL: read data keys (SELECT)'],
  [new RegExp(`^UPDATE ${EVENTSTORE_SCHEMA}\\.`), 'SQL: re-wrapped data keys (UPDATE, one commit per 1,000)'],
  [/^WITH covered/, 'SQL: finish shard (DELETE)'],
  [/FROM vault\.clients/, 'SQL: clients to reseal (SELECT)'],
  [/^UPDATE vault\.clients/, 'SQL: resealed clients (UPDATE, one commit each)'],
]

const statementKind = (text: string): string => {
  const trimmed = text.trim()
  for (const [pattern, name] of STATEMENTS) if (pattern.test(trimmed)) return name
  return `SQL: other (${trimmed.slice(0, 40).replace(/\s+/g, ' ')})`
}

type Query = (...args: unknown[]) => unknown

/**
 * Times every statement any `pg` client of this process sends, from the call to its answer (the
 * round trip, the server's work and, for a commit, its WAL flush), until the answered function
 * is called. Only for a pass that runs alone in the process: statements in flight at once would
 * each be counted whole.
 */
export const timeStatements = (timings: Timings): (() => void) => {
  const prototype = pg.Client.prototype as unknown as { query: Query }
  const original = prototype.query
  prototype.query = function (this: unknown, ...args: unknown[]) {
    const first = args[0] as string | { text?: string } | undefined
    const text = typeof first === 'string' ? first : (first?.text ?? '')
    const name = statementKind(text)
    const started = performance.now()
    const done = () => add(timings, name, performance.now() - started)
    const last = args.length - 1
    if (typeof args[last] === 'function') {
      const callback = args[last] as (...results: unknown[]) => unknown
      args[last] = (...results: unknown[]) => {
        done()
        return callback(...results)
      }
      return original.apply(this, args)
    }
    const result = original.apply(this, args)
    if (result instanceof Promise) result.then(done, done)
    return result
  }
  return () => {
    prototype.query = original
  }
}

const timedKeyStore = (store: KeyStore, timings: Timings): KeyStore =>
  Object.freeze({
    ...store,
    list: () => timed(timings, 'key store: list (readdir)', store.list),
    read: (slot) => timed(timings, 'key store: read', () => store.read(slot)),
    write: (slot, wrapped) => timed(timings, 'key store: write (file and directory fsync)', () => store.write(slot, wrapped)),
    destroy: (slot) => timed(timings, 'key store: destroy (two overwrites, fsync each, unlink, directory fsync)', () => store.destroy(slot)),
  })

/**
 * The same key hierarchy with its calls timed: what the shredder and the rewrap call on it. Its
 * own methods keep using the untimed store inside (createShardKey, destroyShardKey), so no
 * time is counted twice.
 */
export const timedKeys = (keys: KeyHierarchy, timings: Timings): KeyHierarchy =>
  Object.freeze({
    ...keys,
    keyStore: timedKeyStore(keys.keyStore, timings),
    withShardKey: <T>(shard: number, generation: number, use: (key: ShardKey) => T) =>
      timed(timings, 'data keys: unwrap and wrap (AES-GCM; a shard key read from the store on first use)', () =>
        keys.withShardKey(shard, generation, use),
      ),
    createShardKey: (shard: number, generation: number) =>
      timed(timings, 'key store: new shard key (write, file and directory fsync)', () => keys.createShardKey(shard, generation)),
    destroyShardKey: (shard: number, generation: number) =>
      timed(timings, 'key store: destroy old shard key (list, two overwrites with fsync, unlink, directory fsync)', () =>
        keys.destroyShardKey(shard, generation),
      ),
  })
