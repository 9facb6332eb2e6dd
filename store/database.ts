import pg from 'pg'
import type { ConnectionSettings } from './connection'

export type Pool = pg.Pool
export type Db = pg.Pool | pg.PoolClient

export const VAULT_SCHEMA = 'vault'

/** Queries give up after this long, so an outage turns into a 503 instead of a hang. */
const STATEMENT_TIMEOUT_MS = 10_000

/** Our own pool, beside the adapter's single connection: reads, locks and read models. */
export const createPool = (connection: ConnectionSettings): Pool => {
  const pool = new pg.Pool({
    ...connection,
    // Sized to a 2-core machine: reads hold a connection for one query; a write holds one for
    // its whole span (it carries the key's advisory lock) while it mostly waits on the event
    // store's four connections (event-store.ts), so more would only queue there.
    max: 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: STATEMENT_TIMEOUT_MS + 1_000,
    application_name: 'event-vault',
    // Every statement on this pool finds rows by key, so a generic plan is right for each and
    // planning again per execution is pure cost. Left to itself, PostgreSQL decides per
    // connection from a statement's first five executions: a connection whose first reads were
    // of one key each (a quiet start) re-planned every batched read for the rest of its life,
    // 390 µs a query instead of 160 (BENCHMARKS.md, "Fourth round").
    options: '-c plan_cache_mode=force_generic_plan',
  })
  // A connection lost while idle, or while checked out (holding a key's lock, say), must not
  // crash the process: pg emits 'error' on it, and pg-pool listens only while it is idle. The
  // query on it fails instead (a 503), and the connection is discarded when it is released.
  pool.on('error', () => undefined)
  pool.on('connect', (client) => client.on('error', () => undefined))
  return pool
}

/** Runs `work` in one transaction on a connection of its own: committed if it resolves, rolled back if not. */
export const withTransaction = async <T>(pool: Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    client.release()
  }
}

// Two vault processes may start at once on one server: schema changes run under this lock.
const MIGRATION_LOCK = 7_146_953_201

/** Creates our schema and tables if missing, serialized across processes. */
export const migrate = async (pool: Pool, initEventStore: (db: Db) => Promise<void>): Promise<void> => {
  const client = await pool.connect()
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
    await initEventStore(client)
    await client.query(SCHEMA_SQL)
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined)
    client.release()
  }
}

const SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS ${VAULT_SCHEMA};

-- Settings of the store itself, e.g. the id of the master key it was created with.
CREATE TABLE IF NOT EXISTS ${VAULT_SCHEMA}.meta (
  name text PRIMARY KEY,
  value text NOT NULL
);

-- Read model: one row per live secret; organization_id '' is the standard namespace.
-- The primary key is what keeps a key unique across processes.
CREATE TABLE IF NOT EXISTS ${VAULT_SCHEMA}.secrets (
  organization_id text NOT NULL,
  key text NOT NULL,
  aggregate_id text NOT NULL UNIQUE,
  arn text NOT NULL,
  description text,
  version integer NOT NULL,
  value text NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (organization_id, key)
);
-- Tags (metadata in clear, for listing): added after the first release, so added if missing,
-- checked first so that a start does not take the table's exclusive lock when it is there.
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                 WHERE table_schema = '${VAULT_SCHEMA}' AND table_name = 'secrets' AND column_name = 'tags') THEN
    ALTER TABLE ${VAULT_SCHEMA}.secrets ADD COLUMN tags jsonb NOT NULL DEFAULT '[]'::jsonb;
  END IF;
  -- A scheduled delete's date (ms since the epoch); the sweeper finds due ones by this index.
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                 WHERE table_schema = '${VAULT_SCHEMA}' AND table_name = 'secrets' AND column_name = 'deletion_date') THEN
    ALTER TABLE ${VAULT_SCHEMA}.secrets ADD COLUMN deletion_date bigint;
    CREATE INDEX secrets_deletion_date ON ${VAULT_SCHEMA}.secrets (deletion_date) WHERE deletion_date IS NOT NULL;
  END IF;
END $$;

-- Every incarnation a key ever had, in creation order: where its history is replayed from.
CREATE TABLE IF NOT EXISTS ${VAULT_SCHEMA}.incarnations (
  seq bigserial PRIMARY KEY,
  organization_id text NOT NULL,
  key text NOT NULL,
  aggregate_id text NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS incarnations_by_key ON ${VAULT_SCHEMA}.incarnations (organization_id, key, seq);

-- Change stamps (store/change-stamps.ts): a counter per shard of the key space, bumped with
-- every write that changes what a read answers, so a process can check cheaply that a secret
-- it remembers is still current.
CREATE TABLE IF NOT EXISTS ${VAULT_SCHEMA}.change_stamps (
  shard integer PRIMARY KEY,
  n bigint NOT NULL
);

-- Write-ahead intents: a create or delete spans the secrets manager, the event store and the
-- read model, which share no transaction. An intent left behind by a crash is finished at the
-- next start (or the next write of that key).
CREATE TABLE IF NOT EXISTS ${VAULT_SCHEMA}.pending_operations (
  aggregate_id text PRIMARY KEY,
  organization_id text NOT NULL,
  key text NOT NULL,
  operation text NOT NULL CHECK (operation IN ('create', 'update', 'delete')),
  actor text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS pending_by_key ON ${VAULT_SCHEMA}.pending_operations (organization_id, key);

-- The key hierarchy (app/keys/): which generation of each shard's key is current, and which
-- are being retired. The keys themselves never enter PostgreSQL: they live in the key store
-- (store/keys/). "covers" is the last shred request the generation's switch took in.
CREATE TABLE IF NOT EXISTS ${VAULT_SCHEMA}.shard_keys (
  shard integer NOT NULL,
  generation integer NOT NULL,
  retiring boolean NOT NULL DEFAULT false,
  covers bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (shard, generation)
);

-- Shards whose key must be retired because a data key wrapped under it was deleted: written in
-- the same statement that settles the delete, finished by the shredder (app/keys/shredder.ts).
CREATE TABLE IF NOT EXISTS ${VAULT_SCHEMA}.shred_requests (
  id bigserial PRIMARY KEY,
  shard integer NOT NULL,
  requested_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS shred_requests_by_shard ON ${VAULT_SCHEMA}.shred_requests (shard, id);

-- Shard keys when the key store is the database (VAULT_KEYSTORE=database: the weaker promise).
CREATE TABLE IF NOT EXISTS ${VAULT_SCHEMA}.shard_key_slots (
  shard integer NOT NULL,
  generation integer NOT NULL,
  master_key_id text NOT NULL,
  wrapped text NOT NULL,
  PRIMARY KEY (shard, generation, master_key_id)
);

-- API clients. The client secret is stored sealed under a key derived from the master key
-- (the functions interface must recover it to check request signatures).
CREATE TABLE IF NOT EXISTS ${VAULT_SCHEMA}.clients (
  client_id text PRIMARY KEY,
  name text NOT NULL,
  sealed_secret text NOT NULL,
  admin boolean NOT NULL DEFAULT false,
  secrets boolean NOT NULL DEFAULT false,
  organizations text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
`
