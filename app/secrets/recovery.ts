import { DELETE_SECRET } from '../../common/aggregates/secret.commands'
import { foldSecretState } from '../../common/aggregates/secret.projection'
import type { Logger } from '../../lib/logger'
import { foldSecretRow } from '../../common/read-models/secrets.projection'
import type { Pool } from '../../store/database'
import type { EventStore } from '../../store/resolve/event-store'
import { tryLockKey, type LockedKey, type PendingOperation } from '../../store/key-writes'
import { allPending } from '../../store/pending-operations.repository'

export type RecoveryDeps = Readonly<{ pool: Pool; eventStore: EventStore; log: Logger }>

/**
 * Finishes one write that was cut short, from the events alone (the caller holds the key's
 * lock): an incarnation with events is settled as its events say (a delete that was under way
 * is completed); one without events never happened and loses its data key. A deleted or
 * never-created incarnation never keeps a readable key.
 */
export const finishPending = async (deps: RecoveryDeps, key: LockedKey, pending: PendingOperation) => {
  const { eventStore } = deps
  let events = await eventStore.loadSecretEvents([pending.aggregateId])
  if (pending.operation === 'delete' && foldSecretState(events).status === 'live') {
    const deleted = await eventStore.executeCommand({
      aggregateId: pending.aggregateId,
      type: DELETE_SECRET,
      payload: { actor: pending.actor },
    })
    events = [...events, deleted]
  }
  const state = foldSecretState(events)
  // SECURITY: crypto-shredding; after this no one, master key included, can read its values.
  if (state.status !== 'live') await eventStore.secretsManager.deleteSecret(pending.aggregateId)
  await key.settle(pending.aggregateId, foldSecretRow(events), state.status !== 'absent')
}

/**
 * The repair pass at start: every intent whose key no live process holds is finished.
 * Returns how many were finished.
 */
export const recoverAll = async (deps: RecoveryDeps): Promise<number> => {
  let finished = 0
  for (const pending of await allPending(deps.pool)) {
    const done = await tryLockKey(deps.pool, pending, async (key) => {
      // Re-read under the lock: the write may have finished while we waited.
      const still = (await key.pending()).find((p) => p.aggregateId === pending.aggregateId)
      if (still !== undefined) await finishPending(deps, key, still)
      return still !== undefined
    })
    if (done === true) {
      finished++
      deps.log.warn('finished a write interrupted by a crash', { operation: pending.operation })
    }
  }
  return finished
}
