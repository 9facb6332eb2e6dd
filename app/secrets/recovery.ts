import type { PoolClient } from 'pg'
import { DELETE_SECRET } from '../../common/aggregates/secret.commands'
import { foldSecretState } from '../../common/aggregates/secret.projection'
import type { Logger } from '../../lib/logger'
import { foldSecretRow } from '../../common/read-models/secrets.projection'
import type { Pool } from '../../store/database'
import type { EventStore } from '../../store/resolve/event-store'
import { allPending, pendingForKey, settle, tryWithKeyLock, type KeyRef, type PendingOperation } from '../../store/secrets.repository'

export type RecoveryDeps = Readonly<{ pool: Pool; eventStore: EventStore; log: Logger }>

/**
 * Finishes one write that was cut short, from the events alone (the caller holds the key's
 * lock): an incarnation with events is settled as its events say (a delete that was under way
 * is completed); one without events never happened and loses its data key. A deleted or
 * never-created incarnation never keeps a readable key.
 */
export const finishPending = async (deps: RecoveryDeps, client: PoolClient, pending: PendingOperation) => {
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
  await settle(client, pending, pending.aggregateId, foldSecretRow(events), state.status !== 'absent')
}

/** Before a new write of a key, whatever a crash left pending on it is finished first. */
export const finishPendingForKey = async (deps: RecoveryDeps, client: PoolClient, ref: KeyRef) => {
  for (const pending of await pendingForKey(client, ref)) await finishPending(deps, client, pending)
}

/**
 * The repair pass at start: every intent whose key no live process holds is finished.
 * Returns how many were finished.
 */
export const recoverAll = async (deps: RecoveryDeps): Promise<number> => {
  let finished = 0
  for (const pending of await allPending(deps.pool)) {
    const done = await tryWithKeyLock(deps.pool, pending, async (client) => {
      // Re-read under the lock: the write may have finished while we waited.
      const still = (await pendingForKey(client, pending)).find((p) => p.aggregateId === pending.aggregateId)
      if (still !== undefined) await finishPending(deps, client, still)
      return still !== undefined
    })
    if (done === true) {
      finished++
      deps.log.warn('finished a write interrupted by a crash', { operation: pending.operation })
    }
  }
  return finished
}
