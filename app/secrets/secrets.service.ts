import { randomUUID } from 'node:crypto'
import type { PoolClient } from 'pg'
import { CREATE_SECRET, DELETE_SECRET, UPDATE_SECRET } from '../../common/aggregates/secret.commands'
import { DataKeyMissingError, SecretAlreadyExistsError, SecretNotFoundError, ShardKeyRetiredError, StoreUnavailableError } from '../../common/errors'
import { buildHistory, type HistoryEntry } from '../../common/read-models/secret-history.projection'
import { projectSecretRow } from '../../common/read-models/secrets.projection'
import { organizationOf, type JsonObject, type Principal, type Scope, type SecretKey } from '../../common/types'
import {
  listIncarnations,
  readForWrite,
  recordPending,
  settle,
  withKeyLock,
  type KeyRef,
  type KeyWriteState,
  type ReadableSecret,
} from '../../store/secrets.repository'
import { createBatcher } from '../../lib/batcher'
import { authorizeScope } from '../authorization'
import type { DataKeyCache } from '../keys/data-key-cache'
import type { KeyHierarchy } from '../keys/key-hierarchy'
import type { ReadCache } from './read-cache'
import { finishPending, finishPendingForKey, type RecoveryDeps } from './recovery'
import type { CreateSecretInput, UpdateSecretInput } from './secret-input'
import { newArn, toMetadata, toSecretView, type NamingConfig, type SecretMetadata, type SecretView } from './secret-views'

export type SecretsServiceDeps = RecoveryDeps &
  Readonly<{ keys: KeyHierarchy; naming: NamingConfig; dataKeys: DataKeyCache; readCache: ReadCache }>

/** The most reads one query answers; more wait for the next. */
const READ_BATCH = 64

export type DeleteOutcome = 'deleted' | 'absent'

/** The one implementation of every secret rule; REST routes and functions both call it. */
export type SecretsService = Readonly<{
  create: (principal: Principal, scope: Scope, input: CreateSecretInput) => Promise<SecretMetadata>
  get: (principal: Principal, scope: Scope, key: SecretKey) => Promise<SecretView>
  update: (principal: Principal, scope: Scope, key: SecretKey, input: UpdateSecretInput) => Promise<SecretMetadata>
  remove: (principal: Principal, scope: Scope, key: SecretKey) => Promise<DeleteOutcome>
  history: (principal: Principal, scope: Scope, key: SecretKey) => Promise<HistoryEntry[]>
}>

export const createSecretsService = (deps: SecretsServiceDeps): SecretsService => {
  const { pool, eventStore, keys, naming, log, dataKeys, readCache } = deps
  const refOf = (scope: Scope, key: string): KeyRef => ({ organizationId: organizationOf(scope), key })
  // Reads that arrive together share one query (store/batcher.ts): at 32 connections this
  // tripled reads per second against one query each (BENCHMARKS.md). Secrets read recently
  // cost only a check of their change stamps (app/read-cache.ts).
  const readable = createBatcher<KeyRef, ReadableSecret | null>(readCache.read, READ_BATCH)

  /**
   * Runs one write of a key under its cross-process lock, after finishing anything a crash
   * left pending on it. The intent is recorded before the first side effect; if the write
   * fails midway, it is settled from its events right away (or at the next start).
   */
  const write = <T>(ref: KeyRef, work: (client: PoolClient, state: KeyWriteState) => Promise<T>) =>
    withKeyLock(pool, ref, async (client) => {
      let state = await readForWrite(client, ref)
      if (state.pending.length > 0) {
        for (const pending of state.pending) {
          await finishPending(deps, client, pending)
          if (pending.operation === 'delete') dataKeys.forget(pending.aggregateId)
        }
        state = await readForWrite(client, ref)
      }
      return work(client, state)
    })

  // A write that failed midway is settled from its recorded intent at once, if the store lets
  // us; otherwise the intent stays for the next start or the next write of this key.
  const settleAfterFailure = (client: PoolClient, ref: KeyRef) =>
    finishPendingForKey(deps, client, ref).catch(() => undefined)

  const create: SecretsService['create'] = async (principal, scope, input) => {
    authorizeScope(principal, scope)
    const ref = refOf(scope, input.key)
    return write(ref, async (client, { row: existing }) => {
      if (existing !== null) throw new SecretAlreadyExistsError()
      // A fresh id per incarnation: its data key id is never reused, even after a delete.
      const aggregateId = randomUUID()
      await recordPending(client, { ...ref, aggregateId, operation: 'create', actor: principal.clientId })
      try {
        // SECURITY: the shard cannot switch keys while its new data key is wrapped and stored.
        const { wrapped: wrappedDataKey, release } = await keys.newDataKey(client, aggregateId)
        try {
          await eventStore.secretsManager.setSecret(aggregateId, wrappedDataKey)
        } finally {
          await release()
        }
        const event = await eventStore.executeCommand({
          aggregateId,
          type: CREATE_SECRET,
          payload: {
            ...ref,
            arn: newArn(naming, ref.organizationId, ref.key),
            ...(input.description !== undefined ? { description: input.description } : {}),
            secret: input.secret,
            actor: principal.clientId,
          },
        }, wrappedDataKey)
        const row = projectSecretRow(null, event)
        await settle(client, ref, aggregateId, row, true)
        log.debug('secret created', { aggregateId, version: event.aggregateVersion })
        if (row === null) throw new Error('A created secret has a row')
        return toMetadata(naming.env, row)
      } catch (error) {
        await settleAfterFailure(client, ref)
        throw error
      }
    })
  }

  // One query on our pool gave both the row and its wrapped key, which decides; the cache only
  // saves unwrapping the same wrapped key again (app/keys/data-key-cache.ts).
  const decrypt = (found: ReadableSecret) =>
    dataKeys.withCipher(found.row.aggregateId, found.wrappedDataKey, (cipher) =>
      toSecretView(naming.env, found.row, JSON.parse(cipher.decrypt(found.row.value, found.row.version)) as JsonObject),
    )

  const get: SecretsService['get'] = async (principal, scope, key) => {
    authorizeScope(principal, scope)
    const ref = refOf(scope, key)
    try {
      let found = await readable(ref)
      if (found === null) throw new SecretNotFoundError()
      try {
        return await decrypt(found)
      } catch (error) {
        if (!(error instanceof ShardKeyRetiredError)) throw error
        // The shredder re-wrapped this data key after it was read: read its new wrapping.
        readCache.forget(ref)
        found = await readable(ref)
        if (found === null) throw new SecretNotFoundError()
        return await decrypt(found)
      }
    } catch (error) {
      // A delete that shredded the key but crashed before its read model caught up.
      if (error instanceof DataKeyMissingError) throw new SecretNotFoundError()
      if (error instanceof ShardKeyRetiredError) {
        log.error('a data key names a shard key the key store does not hold', { shard: error.shard, generation: error.generation })
        throw new StoreUnavailableError()
      }
      throw error
    }
  }

  const update: SecretsService['update'] = async (principal, scope, key, input) => {
    authorizeScope(principal, scope)
    const ref = refOf(scope, key)
    return write(ref, async (client, { row, wrappedDataKey }) => {
      if (row === null) throw new SecretNotFoundError()
      const { aggregateId } = row
      await recordPending(client, { ...ref, aggregateId, operation: 'update', actor: principal.clientId })
      try {
        const event = await eventStore.executeCommand({
          aggregateId,
          type: UPDATE_SECRET,
          payload: { secret: input.secret, description: input.description, actor: principal.clientId },
        }, wrappedDataKey ?? undefined)
        const updated = projectSecretRow(row, event)
        await settle(client, ref, aggregateId, updated, false)
        log.debug('secret updated', { aggregateId, version: event.aggregateVersion })
        if (updated === null) throw new Error('An updated secret has a row')
        return toMetadata(naming.env, updated)
      } catch (error) {
        await settleAfterFailure(client, ref)
        throw error
      }
    })
  }

  const remove: SecretsService['remove'] = async (principal, scope, key) => {
    authorizeScope(principal, scope)
    const ref = refOf(scope, key)
    return write(ref, async (client, { row, wrappedDataKey }) => {
      if (row === null) return 'absent'
      const pending = { ...ref, aggregateId: row.aggregateId, operation: 'delete' as const, actor: principal.clientId }
      await recordPending(client, pending)
      try {
        await eventStore.executeCommand(
          { aggregateId: row.aggregateId, type: DELETE_SECRET, payload: { actor: principal.clientId } },
          wrappedDataKey ?? undefined,
        )
      } catch (error) {
        // The recorded intent finishes the delete (now, or at the next start if the store is down);
        // an incarnation that was already deleted only needs its read model settled.
        await settleAfterFailure(client, ref)
        dataKeys.forget(row.aggregateId)
        if (error instanceof SecretNotFoundError) return 'absent'
        throw error
      }
      // SECURITY: crypto-shredding, after SecretDeleted is stored. Should we die before this,
      // the pending intent makes the next start (or the next write of this key) finish it.
      await eventStore.secretsManager.deleteSecret(row.aggregateId)
      dataKeys.forget(row.aggregateId)
      await settle(client, ref, row.aggregateId, null, false)
      log.debug('secret deleted and its data key shredded', { aggregateId: row.aggregateId })
      return 'deleted'
    })
  }

  const history: SecretsService['history'] = async (principal, scope, key) => {
    authorizeScope(principal, scope)
    const incarnations = await listIncarnations(pool, refOf(scope, key))
    if (incarnations.length === 0) throw new SecretNotFoundError()
    return buildHistory(incarnations, await eventStore.loadSecretEvents(incarnations))
  }

  return Object.freeze({ create, get, update, remove, history })
}
