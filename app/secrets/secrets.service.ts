import { DataKeyMissingError, SecretAlreadyExistsError, SecretNotFoundError, ShardKeyRetiredError, StoreUnavailableError } from '../../common/errors'
import { buildHistory, type HistoryEntry } from '../../common/read-models/secret-history.projection'
import { organizationOf, type ClientId, type JsonObject, type Scope, type SecretKey } from '../../common/types'
import { listIncarnations, type KeyRef, type ReadableSecret } from '../../store/secrets.repository'
import { createBatcher } from '../../lib/batcher'
import type { ReadCache } from './read-cache'
import { withKeyWrite, type KeyWriteDeps } from './key-write'
import type { CreateSecretInput, UpdateSecretInput } from './secret-input'
import { newArn, toMetadata, toSecretView, type NamingConfig, type SecretMetadata, type SecretView } from './secret-views'

export type SecretsServiceDeps = KeyWriteDeps & Readonly<{ naming: NamingConfig; readCache: ReadCache }>

/** The most reads one query answers; more wait for the next. */
const READ_BATCH = 64

export type DeleteOutcome = 'deleted' | 'absent'

/**
 * The one implementation of every secret rule, for a scope the caller has already authorized
 * (the operations do that); `actor` is who the events name.
 */
export type SecretsService = Readonly<{
  create: (actor: ClientId, scope: Scope, input: CreateSecretInput) => Promise<SecretMetadata>
  get: (scope: Scope, key: SecretKey) => Promise<SecretView>
  update: (actor: ClientId, scope: Scope, key: SecretKey, input: UpdateSecretInput) => Promise<SecretMetadata>
  remove: (actor: ClientId, scope: Scope, key: SecretKey) => Promise<DeleteOutcome>
  history: (scope: Scope, key: SecretKey) => Promise<HistoryEntry[]>
}>

export const createSecretsService = (deps: SecretsServiceDeps): SecretsService => {
  const { pool, eventStore, naming, log, dataKeys, readCache } = deps
  const refOf = (scope: Scope, key: string): KeyRef => ({ organizationId: organizationOf(scope), key })
  // Reads that arrive together share one query (lib/batcher.ts): at 32 connections this
  // tripled reads per second against one query each (BENCHMARKS.md). Secrets read recently
  // cost only a check of their change stamps (app/secrets/read-cache.ts).
  const readable = createBatcher<KeyRef, ReadableSecret | null>(readCache.read, READ_BATCH)

  const create: SecretsService['create'] = async (actor, scope, input) => {
    const ref = refOf(scope, input.key)
    return withKeyWrite(deps, ref, async (locked) => {
      if (locked.row !== null) throw new SecretAlreadyExistsError()
      const arn = newArn(naming, ref.organizationId, ref.key)
      const description = input.description !== undefined ? { description: input.description } : {}
      const tags = input.tags !== undefined ? { tags: input.tags } : {}
      const payload = { ...ref, arn, ...description, ...tags, secret: input.secret, actor }
      const { aggregateId, event, row } = await locked.write({ operation: 'create', payload })
      log.debug('secret created', { aggregateId, version: event.aggregateVersion })
      if (row === null) throw new Error('A created secret has a row')
      return toMetadata(naming.env, row)
    })
  }

  // One query on our pool gave both the row and its wrapped key, which decides; the cache only
  // saves unwrapping the same wrapped key again (app/keys/data-key-cache.ts).
  const decrypt = (found: ReadableSecret) =>
    dataKeys.withCipher(found.row.aggregateId, found.wrappedDataKey, (cipher) =>
      toSecretView(naming.env, found.row, JSON.parse(cipher.decrypt(found.row.value, found.row.version)) as JsonObject),
    )

  const get: SecretsService['get'] = async (scope, key) => {
    const ref = refOf(scope, key)
    try {
      let found = await readable(ref)
      // A secret scheduled for deletion reads as gone until it is restored.
      if (found === null || found.row.deletionDate !== null) throw new SecretNotFoundError()
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

  const update: SecretsService['update'] = async (actor, scope, key, input) =>
    withKeyWrite(deps, refOf(scope, key), async (locked) => {
      if (locked.row === null) throw new SecretNotFoundError()
      const payload = { secret: input.secret, description: input.description, actor }
      const { aggregateId, event, row } = await locked.write({ operation: 'update', payload })
      log.debug('secret updated', { aggregateId, version: event.aggregateVersion })
      if (row === null) throw new Error('An updated secret has a row')
      return toMetadata(naming.env, row)
    })

  const remove: SecretsService['remove'] = async (actor, scope, key) =>
    withKeyWrite(deps, refOf(scope, key), async (locked) => {
      if (locked.row === null) return 'absent'
      try {
        const { aggregateId } = await locked.write({ operation: 'delete', payload: { actor } })
        log.debug('secret deleted and its data key shredded', { aggregateId })
        return 'deleted'
      } catch (error) {
        // An incarnation that was already deleted only needed its read model settled.
        if (error instanceof SecretNotFoundError) return 'absent'
        throw error
      }
    })

  const history: SecretsService['history'] = async (scope, key) => {
    const incarnations = await listIncarnations(pool, refOf(scope, key))
    if (incarnations.length === 0) throw new SecretNotFoundError()
    return buildHistory(incarnations, await eventStore.loadSecretEvents(incarnations))
  }

  return Object.freeze({ create, get, update, remove, history })
}
