import type { PoolClient } from 'pg'
import type { SecretRow } from '../common/read-models/secrets.projection'
import type { Pool } from './database'
import { tryWithKeyLock, withKeyLock } from './key-locks'
import { shardKeyLocksOn, type ShardKeyLocks } from './keys/shard-keys.repository'
import { pendingForKey, recordPending, type Operation, type PendingOperation } from './pending-operations.repository'
import { readForWrite, settle, type KeyWriteState } from './secret-writes.repository'
import type { KeyRef } from './secret-records'

export type { KeyWriteState } from './secret-writes.repository'
export type { Operation, PendingOperation } from './pending-operations.repository'

/**
 * One key held under its cross-process lock, as the application sees it: the store steps of a
 * crash-safe write, bound to the lock's connection, which never leaves store/. A handle is
 * only good inside the work it was given to.
 */
export type LockedKey = ShardKeyLocks &
  Readonly<{
    ref: KeyRef
    /** Intents a crash left on the key, its live row and that row's wrapped data key, in one round trip. */
    read: () => Promise<KeyWriteState>
    /** The intents recorded on the key, oldest first. */
    pending: () => Promise<PendingOperation[]>
    /** Records a write's intent on this key, before its first side effect (a delete's also bumps the change stamp). */
    record: (aggregateId: string, operation: Operation, actor: string) => Promise<void>
    /**
     * One statement: the incarnation's row as its events say (null removes it and asks for a
     * shred), its incarnation recorded if asked, its intent cleared, the key's change stamp bumped.
     */
    settle: (aggregateId: string, row: SecretRow | null, recordIncarnation: boolean) => Promise<void>
  }>

const lockedKey = (client: PoolClient, ref: KeyRef): LockedKey =>
  Object.freeze({
    ref,
    ...shardKeyLocksOn(client),
    read: () => readForWrite(client, ref),
    pending: () => pendingForKey(client, ref),
    record: (aggregateId: string, operation: Operation, actor: string) => recordPending(client, { ...ref, aggregateId, operation, actor }),
    settle: (aggregateId: string, row: SecretRow | null, recordIncarnation: boolean) =>
      settle(client, ref, aggregateId, row, recordIncarnation),
  })

/** Runs `work` with the key locked against every vault process; waits for the lock (up to the statement timeout). */
export const lockKey = <T>(pool: Pool, ref: KeyRef, work: (key: LockedKey) => Promise<T>): Promise<T> =>
  withKeyLock(pool, ref, (client) => work(lockedKey(client, ref)))

/** Like lockKey, but skips the key (answers null) when another process holds its lock. */
export const tryLockKey = <T>(pool: Pool, ref: KeyRef, work: (key: LockedKey) => Promise<T>): Promise<T | null> =>
  tryWithKeyLock(pool, ref, (client) => work(lockedKey(client, ref)))
