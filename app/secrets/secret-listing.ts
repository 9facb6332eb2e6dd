import { organizationOf, type Scope } from '../../common/types'
import type { Pool } from '../../store/database'
import { listSecretRows } from '../../store/secret-listing.repository'
import { ns } from '../../store/secret-records'
import type { ListTokens } from './list-token'
import type { ListInput } from './secret-input'
import { toListedSecret, type ListedSecret, type NamingConfig } from './secret-views'

export type SecretPage = Readonly<{ secrets: ListedSecret[]; nextToken?: string }>

/**
 * Lists a namespace's live secrets in key order, a page at a time: metadata and tags, never a
 * value. One row more than asked tells whether a next page exists, so the last page has no
 * `nextToken` and no empty page follows it.
 */
export const createSecretListing = (pool: Pool, naming: NamingConfig, tokens: ListTokens) =>
  async (scope: Scope, input: ListInput): Promise<SecretPage> => {
    const query = { namespace: ns(organizationOf(scope)), prefix: input.prefix, tag: input.tag === null ? null : `${input.tag.key}:${input.tag.value}` }
    const after = input.nextToken === null ? '' : tokens.decode(query, input.nextToken)
    const rows = await listSecretRows(pool, { namespace: query.namespace, prefix: input.prefix, tag: input.tag, after, limit: input.limit + 1 })
    const page = rows.slice(0, input.limit)
    const secrets = page.map((row) => toListedSecret(naming.env, row))
    return rows.length > input.limit ? { secrets, nextToken: tokens.encode(query, page[page.length - 1].key) } : { secrets }
  }

export type SecretListing = ReturnType<typeof createSecretListing>
