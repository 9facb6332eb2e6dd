import type { Tag } from '../../common/aggregates/secret.events'
import { SecretNotFoundError } from '../../common/errors'
import { organizationOf, type ClientId, type Scope, type SecretKey } from '../../common/types'
import { withKeyWrite, type KeyWriteDeps } from './key-write'
import { toListedSecret, type ListedSecret, type NamingConfig } from './secret-views'

export type SecretTagsDeps = KeyWriteDeps & Readonly<{ naming: NamingConfig }>

/**
 * Tags of a live secret, added (or given new values) and removed: each change is an event of
 * the incarnation, written through the same crash-safe steps as an update, and answered with
 * the secret's metadata and tags as they now are. The value is never touched.
 */
export const createSecretTags = (deps: SecretTagsDeps) => {
  const change = (actor: ClientId, scope: Scope, key: SecretKey, operation: 'tag' | 'untag', names: Tag[] | string[]) =>
    withKeyWrite(deps, { organizationId: organizationOf(scope), key }, async (locked): Promise<ListedSecret> => {
      if (locked.row === null) throw new SecretNotFoundError()
      const { row } = await locked.write(
        operation === 'tag' ? { operation, payload: { tags: names as Tag[], actor } } : { operation, payload: { tagKeys: names as string[], actor } },
      )
      if (row === null) throw new Error('A tagged secret has a row')
      return toListedSecret(deps.naming.env, row)
    })

  return Object.freeze({
    tag: (actor: ClientId, scope: Scope, key: SecretKey, tags: Tag[]) => change(actor, scope, key, 'tag', tags),
    untag: (actor: ClientId, scope: Scope, key: SecretKey, tagKeys: string[]) => change(actor, scope, key, 'untag', tagKeys),
  })
}

export type SecretTags = ReturnType<typeof createSecretTags>
