import type pg from 'pg'
import { request } from '../api'
import { dataKeyOpener } from '../keys'
import type { VaultSetup } from '../vault-process'
import { SEED_ORG, SEEDED_KEYS, SEEDED_NAMESPACES } from './stakes'

// Snapshots of what the hostile input suite must leave as it was: the seeded secrets through the
// API and in the store, and the counts of everything stored.

export const SEEDED_REFS = SEEDED_NAMESPACES.flatMap((ns) =>
  SEEDED_KEYS.map((key) => ({ ns, key, organizationId: ns === '/secrets' ? '' : SEED_ORG })),
)

/** The seeded secrets as the API shows them: value, description, ARN, history. */
export const readSeeded = (url: string, token: string) =>
  Promise.all(
    SEEDED_REFS.map(async ({ ns, key }) => {
      const item = await request(url, 'GET', `${ns}/${key}`, { token })
      const history = await request(url, 'GET', `${ns}/${key}/history`, { token })
      return { path: `${ns}/${key}`, status: item.status, body: item.body, history: history.status, events: history.body }
    }),
  )

/** The seeded secrets' rows: read model, incarnations, events and data keys. */
export const seededRows = async (db: pg.Client, setup: VaultSetup) => {
  const orgs = SEEDED_REFS.map((ref) => ref.organizationId)
  const keys = SEEDED_REFS.map((ref) => ref.key)
  const seededWhere = `(organization_id, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`
  const secrets = await db.query(`SELECT * FROM vault.secrets WHERE ${seededWhere} ORDER BY organization_id, key`, [orgs, keys])
  const incarnations = await db.query<{ aggregate_id: string }>(`SELECT * FROM vault.incarnations WHERE ${seededWhere} ORDER BY seq`, [orgs, keys])
  const ids = incarnations.rows.map((row) => row.aggregate_id)
  const events = await db.query(
    `SELECT * FROM eventstore.events WHERE "aggregateId" = ANY($1) OR payload->>'id' = ANY($1) ORDER BY "threadId", "threadCounter"`,
    [ids],
  )
  // The data keys themselves, not their wrapping: the shredder re-wraps a live key whenever its
  // shard is re-keyed (the fuzzer's own deletes do that), which changes the text and not the key.
  const stored = await db.query<{ id: string; idx: string; secret: string | null }>('SELECT * FROM eventstore.secrets WHERE id = ANY($1) ORDER BY id', [ids])
  const open = dataKeyOpener(setup)
  const dataKeys = stored.rows.map((row) => ({ id: row.id, idx: row.idx, dataKey: row.secret === null ? null : open(row.secret, row.id).toString('hex') }))
  const pending = await db.query(`SELECT * FROM vault.pending_operations WHERE ${seededWhere}`, [orgs, keys])
  return { secrets: secrets.rows, incarnations: incarnations.rows, events: events.rows, dataKeys, pending: pending.rows }
}

/** How many events of each type the store holds. */
export const eventCounts = async (db: pg.Client): Promise<Record<string, number>> => {
  const result = await db.query<{ type: string; count: number }>('SELECT type, count(*)::int AS count FROM eventstore.events GROUP BY type')
  return Object.fromEntries(result.rows.map((row) => [row.type, row.count]))
}

export const countOf = async (db: pg.Client, table: string): Promise<number> =>
  (await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${table}`)).rows[0].count
