import { randomUUID } from 'node:crypto'
import {
  CANCEL_DELETION,
  CREATE_SECRET,
  SCHEDULE_DELETION,
  DELETE_SECRET,
  TAG_SECRET,
  UNTAG_SECRET,
  UPDATE_SECRET,
  type CancelDeletionPayload,
  type CreateSecretPayload,
  type ScheduleDeletionPayload,
  type DeleteSecretPayload,
  type TagSecretPayload,
  type UntagSecretPayload,
  type UpdateSecretPayload,
} from '../../common/aggregates/secret.commands'
import type { StoredSecretEvent } from '../../common/aggregates/secret.events'
import { projectSecretRow, type SecretRow } from '../../common/read-models/secrets.projection'
import { lockKey, type LockedKey } from '../../store/key-writes'
import type { KeyRef } from '../../store/secrets.repository'
import type { DataKeyCache } from '../keys/data-key-cache'
import type { KeyHierarchy } from '../keys/key-hierarchy'
import { finishPending, type RecoveryDeps } from './recovery'

export type KeyWriteDeps = RecoveryDeps & Readonly<{ keys: KeyHierarchy; dataKeys: DataKeyCache }>

/** One change of a secret, as a use case states it; the payload names its actor. */
export type SecretChange =
  | Readonly<{ operation: 'create'; payload: CreateSecretPayload }>
  | Readonly<{ operation: 'update'; payload: UpdateSecretPayload }>
  | Readonly<{ operation: 'delete'; payload: DeleteSecretPayload }>
  | Readonly<{ operation: 'tag'; payload: TagSecretPayload }>
  | Readonly<{ operation: 'untag'; payload: UntagSecretPayload }>
  | Readonly<{ operation: 'schedule'; payload: ScheduleDeletionPayload }>
  | Readonly<{ operation: 'restore'; payload: CancelDeletionPayload }>

/** What a write stored: its incarnation, its event, and the row the read model now holds (null: gone). */
export type WriteResult = Readonly<{ aggregateId: string; event: StoredSecretEvent; row: SecretRow | null }>

/** The key as a write finds it under its lock, nothing pending on it, and the one write it may make. */
export type KeyWrite = Readonly<{
  /** The key's live row (null: no secret), as of the lock: it cannot change before the write ends. */
  row: SecretRow | null
  /** Runs the crash-safe steps of the change: intent, data key (a create), command, settle. */
  write: (change: SecretChange) => Promise<WriteResult>
}>

const COMMAND = {
  create: CREATE_SECRET,
  update: UPDATE_SECRET,
  delete: DELETE_SECRET,
  tag: TAG_SECRET,
  untag: UNTAG_SECRET,
  schedule: SCHEDULE_DELETION,
  restore: CANCEL_DELETION,
} as const

// A change of metadata (tags, a scheduled delete) is recorded as an update: if cut short, it is
// settled from its events like one.
const INTENT = { create: 'create', update: 'update', delete: 'delete', tag: 'update', untag: 'update', schedule: 'update', restore: 'update' } as const

/**
 * Runs one write of a key under its cross-process lock, after finishing anything a crash left
 * pending on it. The intent is recorded before the first side effect; if the write fails
 * midway, it is settled from its events right away (or at the next start, or the next write).
 */
export const withKeyWrite = <T>(deps: KeyWriteDeps, ref: KeyRef, work: (key: KeyWrite) => Promise<T>): Promise<T> =>
  lockKey(deps.pool, ref, async (locked) => {
    let state = await locked.read()
    if (state.pending.length > 0) {
      for (const pending of state.pending) {
        await finishPending(deps, locked, pending)
        if (pending.operation === 'delete') deps.dataKeys.forget(pending.aggregateId)
      }
      state = await locked.read()
    }
    let written = false
    const write = async (change: SecretChange) => {
      if (written) throw new Error('A key write makes one change')
      written = true
      return writeSteps(deps, locked, state, change)
    }
    return work(Object.freeze({ row: state.row, write }))
  })

type Start = Readonly<{ row: SecretRow | null; wrappedDataKey: string | null }>

const writeSteps = async (deps: KeyWriteDeps, locked: LockedKey, start: Start, change: SecretChange): Promise<WriteResult> => {
  const { eventStore, dataKeys } = deps
  if ((start.row === null) !== (change.operation === 'create')) throw new Error(`No ${change.operation} of a key in this state`)
  const before = change.operation === 'create' ? null : start.row
  // A fresh id per incarnation: its data key id is never reused, even after a delete.
  const aggregateId = before?.aggregateId ?? randomUUID()
  await locked.record(aggregateId, INTENT[change.operation], change.payload.actor)
  try {
    // The wrapped key goes along with the command, so the encryption factory does not look it up.
    const wrappedDataKey =
      change.operation === 'create' ? await storeNewDataKey(deps, locked, aggregateId) : (start.wrappedDataKey ?? undefined)
    const command = { aggregateId, type: COMMAND[change.operation], payload: change.payload }
    const event = await eventStore.executeCommand(command, wrappedDataKey)
    const row = projectSecretRow(before, event)
    if (change.operation === 'delete') {
      // SECURITY: crypto-shredding, after SecretDeleted is stored. Should we die before this,
      // the pending intent makes the next start (or the next write of this key) finish it.
      await eventStore.secretsManager.deleteSecret(aggregateId)
      dataKeys.forget(aggregateId)
    }
    await locked.settle(aggregateId, row, change.operation === 'create')
    return { aggregateId, event, row }
  } catch (error) {
    // Settled from the recorded intent at once if the store lets us; otherwise the intent stays
    // for the next start or the next write of this key. A delete's key is forgotten either way.
    await settleFromIntent(deps, locked)
    if (change.operation === 'delete') dataKeys.forget(aggregateId)
    throw error
  }
}

// SECURITY: the shard cannot switch keys while its new data key is wrapped and stored.
const storeNewDataKey = async (deps: KeyWriteDeps, locked: LockedKey, aggregateId: string): Promise<string> => {
  const { wrapped, release } = await deps.keys.newDataKey(locked, aggregateId)
  try {
    await deps.eventStore.secretsManager.setSecret(aggregateId, wrapped)
  } finally {
    await release()
  }
  return wrapped
}

const settleFromIntent = async (deps: RecoveryDeps, locked: LockedKey): Promise<void> => {
  try {
    for (const pending of await locked.pending()) await finishPending(deps, locked, pending)
  } catch {
    // The store is down or failing: the intent finishes the write later.
  }
}
