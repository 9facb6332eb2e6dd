import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { adminToken, as } from '../helpers/api'
import { connectToStore } from '../helpers/database'
import { attackScan, scanDirs, type AttackResult } from '../helpers/forensics'
import { untilLogged, untilShredded } from '../helpers/keys-admin'
import { hasPostgresServer } from '../helpers/own-postgres'
import { newVaultSetup, startVault, stopLeftoverPostgres, type VaultProcess, type VaultSetup } from '../helpers/vault-process'

/**
 * The proof by attack that a delete is final. The threat: an attacker later holds a copy of every
 * byte the store wrote (PostgreSQL's heap, WAL and everything else in its data directory; the
 * vault's data directory and key store directory) and every master key. The attack
 * (test/helpers/forensics.ts, independent of the product's code) scans every file for wrapped
 * shard keys, wrapped data keys and value ciphertexts and opens all it can.
 *
 * - Case A, shredder out of reach (horizon one hour), vault stopped right after the deletes: the
 *   attack recovers every version of every deleted secret from the bytes PostgreSQL keeps of the
 *   nulled data keys. This proves the attack can find what the vault does not erase.
 * - Case B, horizon 2 s, vault stopped once the shredder has re-keyed the deleted secrets' shards:
 *   the attack recovers no value of any deleted secret, and still every value of every live one
 *   (whose keys the key store still holds), so that "nothing" is not the attack failing; that
 *   includes a live secret in the same key shard as a deleted one, which the attack opens through
 *   the shard's new key only (the shredder re-wrapped it). The deleted data keys' wrapped bytes
 *   are asserted to be still in the files (heap and WAL) in both cases: only their shard key went.
 *
 * Both on the embedded store and on a Debian PostgreSQL server cluster of the suite's own (so that
 * its data directory holds this vault's bytes only).
 */

const FIGURES_FILE = path.join(os.tmpdir(), 'event-vault-forensic-figures.json')
const PG_SCRIPT = path.join(__dirname, '..', '..', 'scripts', 'postgres-server.sh')
const SHORT_HORIZON_S = 2
const LONG_HORIZON_S = 3600
const ORGANIZATION = 'forensic-org'
const UPDATES = 3
/** Values are tried with versions 1 to this: above every version the workload writes. */
const MAX_VERSION = 8

type Backend = 'embedded' | 'server'
type CaseName = 'A' | 'B'

type Written = {
  label: string
  organizationId: string
  key: string
  deleted: boolean
  aggregateId: string
  /** Its wrapped data key as the database held it before the deletes. */
  wrapped: string
  /** version -> marker of the value written at that version. */
  markers: Map<number, string>
}

type Figures = {
  backend: Backend
  case: CaseName
  horizonSeconds: number
  secrets: number
  deleted: number
  valuesWrittenDeleted: number
  valuesWrittenLive: number
  /** Live secrets in the key shard of a deleted one: the shredder re-wraps their data keys. */
  liveShardMates: number
  shredWaitMs: number | null
  /** Case B's control: the same attack given also a copy of the key store taken before the deletes. */
  valuesRecoveredDeletedWithKeyStoreBackup: number | null
  filesScanned: number
  bytesScanned: number
  wrappedDataKeysFound: number
  masterSealedFound: number
  valueCiphertextsFound: number
  shardKeysRecovered: number
  dataKeysRecoveredDeleted: number
  dataKeysRecoveredLive: number
  valuesRecoveredDeleted: number
  valuesRecoveredLive: number
  /** The deleted secrets' wrapped data keys (as the database held them) found again in the files... */
  deletedWrapsFound: number
  /** ...in these files (relative to the scanned root), copies counted... */
  deletedWrapFiles: Record<string, number>
  /** ...and how many of them had their shard key (shard, generation) recovered. */
  deletedWrapsWithShardKey: number
  /** Where the first copy of each deleted secret's recovered data key was, relative to the scanned root. */
  deletedKeySources: string[]
  attackMs: number
}

const figures: Figures[] = []

/** A throwaway cluster of the machine's PostgreSQL server, whose directory the attack then reads. */
type Cluster = Readonly<{ dir: string; url: string; stop: () => void; dispose: () => void }>

const startCluster = (): Cluster => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-forensic-pg-'))
  const url = execFileSync('bash', [PG_SCRIPT, 'start', dir], { encoding: 'utf8' }).trim()
  let running = true
  const stop = () => {
    if (!running) return
    execFileSync('bash', [PG_SCRIPT, 'stop', dir], { stdio: 'ignore' })
    running = false
  }
  return {
    dir,
    url,
    stop,
    dispose: () => {
      try {
        stop()
      } catch {
        // Already stopped.
      }
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

const marker = () => `forensic-${crypto.randomBytes(12).toString('hex')}`

type Spec = { label: string; organizationId: string; key: string; deleted: boolean }
type StoredKey = { aggregate_id: string; organization_id: string; key: string; secret: string }

/** The shard a wrapped data key names (`sk1:{shard}:...`), or null for a master-wrapped one. */
const shardOfWrapped = (wrapped: string): number | null => (wrapped.startsWith('sk1:') ? Number(wrapped.split(':')[1]) : null)

/**
 * Four standard and four organization secrets, each updated three times, half of each deleted;
 * then single-value fillers until one shares a key shard with an earlier secret, so that one
 * deleted secret has a live shard-mate (whose data key the shredder must re-wrap, not lose).
 */
const runWorkload = async (vault: VaultProcess, beforeDeletes: () => void): Promise<{ secrets: Written[]; shardMates: number }> => {
  const api = as(vault.url, await adminToken(vault.url))
  const specs: Spec[] = [0, 1, 2, 3].flatMap((i) => [
    { label: `std-${i}`, organizationId: '', key: `forensic-std-${i}`, deleted: i < 2 },
    { label: `org-${i}`, organizationId: ORGANIZATION, key: `forensic-org-${i}`, deleted: i < 2 },
  ])
  const base = (spec: { organizationId: string }) => (spec.organizationId === '' ? '/secrets' : `/organizations/${spec.organizationId}`)
  const values = new Map<string, string[]>()
  const create = async (spec: Spec) => {
    const first = marker()
    const created = await api.post(base(spec), { key: spec.key, secret: { pwd: first }, description: `forensic ${spec.label}` })
    expect([spec.label, created.status]).toEqual([spec.label, 200])
    values.set(spec.label, [first])
  }
  for (const spec of specs) await create(spec)
  for (let round = 0; round < UPDATES; round++) {
    for (const spec of specs) {
      const next = marker()
      const updated = await api.post(`${base(spec)}/${spec.key}`, { secret: { pwd: next } })
      expect([spec.label, updated.status]).toEqual([spec.label, 200])
      values.get(spec.label)?.push(next)
    }
  }

  const db = await connectToStore(vault.setup)
  let rows: StoredKey[]
  const stored = async () =>
    (
      await db.query<StoredKey>(
        `SELECT i.aggregate_id, i.organization_id, i.key, k.secret FROM vault.incarnations i
         JOIN eventstore.secrets k ON k.id = i.aggregate_id`,
      )
    ).rows
  const rowOf = (spec: Spec) => rows.find((it) => it.key === spec.key && it.organization_id === spec.organizationId)
  try {
    rows = await stored()
    const shards = new Map<number, Spec>()
    for (const spec of specs) {
      const shard = shardOfWrapped(rowOf(spec)?.secret ?? '')
      if (shard !== null && !shards.has(shard)) shards.set(shard, spec)
    }
    // Only with the key hierarchy (sk1 wraps) do secrets have shards.
    for (let i = 0; shards.size > 0 && i < 200; i++) {
      const filler: Spec = { label: `fill-${i}`, organizationId: '', key: `forensic-fill-${i}`, deleted: false }
      specs.push(filler)
      await create(filler)
      rows = await stored()
      const shard = shardOfWrapped(rowOf(filler)?.secret ?? '') as number
      const earlier = shards.get(shard)
      if (earlier === undefined) {
        shards.set(shard, filler)
        continue
      }
      // One of the pair deleted, the other live: the filler is the victim unless the earlier one already is.
      if (!earlier.deleted) filler.deleted = true
      break
    }

    // The version each value was written at, from the history (not assumed).
    const versions = new Map<string, number[]>()
    for (const spec of specs) {
      const history = await api.get(`${base(spec)}/${spec.key}/history`)
      expect(history.status).toBe(200)
      const events = history.body.events as Array<{ type: string; version: number }>
      versions.set(
        spec.label,
        events.filter((event) => event.type === 'SecretCreated' || event.type === 'SecretUpdated').map((event) => event.version),
      )
    }

    beforeDeletes()
    for (const spec of specs.filter((it) => it.deleted)) {
      expect([spec.label, (await api.delete(`${base(spec)}/${spec.key}`)).status]).toEqual([spec.label, 204])
    }
    // The deleted secrets' data keys are gone from the rows: what the attack finds, PostgreSQL
    // keeps elsewhere (dead tuples, WAL).
    const deletedIds = specs.filter((spec) => spec.deleted).map((spec) => rowOf(spec)?.aggregate_id)
    const held = await db.query('SELECT id FROM eventstore.secrets WHERE id = ANY($1) AND secret IS NOT NULL', [deletedIds])
    expect(held.rows).toEqual([])

    const secrets = specs.map((spec): Written => {
      const row = rowOf(spec)
      if (row === undefined) throw new Error(`no incarnation for ${spec.label}`)
      const written = values.get(spec.label) ?? []
      const at = versions.get(spec.label) ?? []
      expect([spec.label, at.length]).toEqual([spec.label, written.length])
      return { ...spec, aggregateId: row.aggregate_id, wrapped: row.secret, markers: new Map(at.map((version, i) => [version, written[i]])) }
    })
    const deletedShards = new Set(secrets.filter((it) => it.deleted).map((it) => shardOfWrapped(it.wrapped)))
    const shardMates = secrets.filter((it) => !it.deleted && shardOfWrapped(it.wrapped) !== null && deletedShards.has(shardOfWrapped(it.wrapped))).length
    return { secrets, shardMates }
  } finally {
    await db.end()
  }
}

/** The (aggregate, version) pairs whose written value the attack recovered, as `label@version`. */
const recoveredOf = (secrets: readonly Written[], result: AttackResult) =>
  secrets.flatMap((secret) =>
    [...secret.markers]
      .filter(([version, mark]) =>
        result.values.some((value) => value.aggregateId === secret.aggregateId && value.version === version && value.plaintext.includes(mark)),
      )
      .map(([version]) => `${secret.label}@${version}`),
  )
const writtenOf = (secrets: readonly Written[]) => secrets.flatMap((secret) => [...secret.markers.keys()].map((version) => `${secret.label}@${version}`))

/** What leaked, in words: the value, where its ciphertext was, which wrapped data key opened it. */
const describeLeaks = (secrets: readonly Written[], result: AttackResult, roots: readonly string[]) => {
  const relative = (file: string) => {
    const root = roots.find((it) => file.startsWith(`${it}${path.sep}`))
    return root === undefined ? file : `${path.basename(root)}/${path.relative(root, file)}`
  }
  return result.values
    .filter((value) => secrets.some((secret) => secret.deleted && secret.aggregateId === value.aggregateId))
    .map((value) => {
      const secret = secrets.find((it) => it.aggregateId === value.aggregateId) as Written
      return (
        `${secret.label}@${value.version} (${value.format} value, ${value.copies} copies) at ${relative(value.source.file)}` +
        ` offset ${value.source.offset}, opened by a ${value.dataKeyForm} data key found at ${relative(value.dataKeySource.file)}` +
        ` offset ${value.dataKeySource.offset}`
      )
    })
}

type Run = { vault?: VaultProcess; setup?: VaultSetup; cluster?: Cluster; backup?: string }

const runCase = async (backend: Backend, name: CaseName, run: Run) => {
  const horizon = name === 'A' ? LONG_HORIZON_S : SHORT_HORIZON_S
  const env = { VAULT_SHRED_HORIZON_SECONDS: String(horizon) }
  let setup: VaultSetup
  if (backend === 'server') {
    run.cluster = startCluster()
    const base = await newVaultSetup('embedded', { ...env, DATABASE_URL: run.cluster.url })
    setup = { ...base, backend: 'server' }
  } else setup = await newVaultSetup('embedded', env)
  run.setup = setup
  const vault = await startVault(setup)
  run.vault = vault

  // Case B's control: a copy of the key store taken before the deletes (a backup of it).
  const keyStoreDir = setup.env.VAULT_KEYSTORE_DIR ?? path.join(setup.dataDir, 'keys')
  const keyStoreBackup = name === 'B' ? fs.mkdtempSync(path.join(os.tmpdir(), 'vault-forensic-keys-backup-')) : null
  run.backup = keyStoreBackup ?? undefined
  const { secrets, shardMates } = await runWorkload(vault, () => {
    if (keyStoreBackup !== null) fs.cpSync(keyStoreDir, keyStoreBackup, { recursive: true })
  })
  let shredWaitMs: number | null = null
  if (name === 'B') {
    const api = as(vault.url, await adminToken(vault.url))
    shredWaitMs = await untilShredded(api, (SHORT_HORIZON_S + 5) * 1000)
    await untilLogged(vault, 'shard re-keyed', 1_000)
  }
  expect(await vault.stop('SIGTERM')).toBe(0)
  if (name === 'A') expect(vault.output()).not.toContain('"msg":"shard re-keyed"')
  if (backend === 'embedded') stopLeftoverPostgres(setup.dataDir)
  // A fast shutdown checkpoints: the heap files then hold what the WAL held.
  run.cluster?.stop()

  // Everything the store wrote: the vault's directory (data dir, embedded PostgreSQL, key store
  // beside it) and, on a server, the cluster's whole directory.
  const vaultRoot = path.dirname(setup.dataDir)
  const roots = run.cluster === undefined ? [vaultRoot] : [run.cluster.dir, vaultRoot]
  const started = performance.now()
  const scan = scanDirs(roots)
  const result = attackScan(scan, {
    masterKeys: [Buffer.from(setup.env.VAULT_MASTER_KEY, 'base64')],
    aggregateIds: secrets.map((secret) => secret.aggregateId),
    maxVersion: MAX_VERSION,
  })
  const attackMs = Math.round(performance.now() - started)
  const withBackup =
    keyStoreBackup === null
      ? null
      : attackScan(scanDirs([...roots, keyStoreBackup]), {
          masterKeys: [Buffer.from(setup.env.VAULT_MASTER_KEY, 'base64')],
          aggregateIds: secrets.map((secret) => secret.aggregateId),
          maxVersion: MAX_VERSION,
        })

  const deleted = secrets.filter((secret) => secret.deleted)
  const live = secrets.filter((secret) => !secret.deleted)
  const relative = (file: string) => {
    const root = roots.find((it) => file.startsWith(`${it}${path.sep}`))
    return root === undefined ? file : path.relative(root, file)
  }
  const deletedWraps = deleted.map((secret) => scan.shardWrapped.get(secret.wrapped) ?? scan.masterSealed.get(secret.wrapped))
  const deletedWrapFiles: Record<string, number> = {}
  for (const found of deletedWraps) {
    for (const file of found?.files ?? []) deletedWrapFiles[relative(file)] = (deletedWrapFiles[relative(file)] ?? 0) + 1
  }
  const hasShardKey = (secret: Written) => {
    const [, shard, generation] = secret.wrapped.split(':')
    return result.recoveredShardKeys.some((key) => key.shard === Number(shard) && key.generation === Number(generation))
  }
  figures.push({
    backend,
    case: name,
    horizonSeconds: horizon,
    secrets: secrets.length,
    deleted: deleted.length,
    valuesWrittenDeleted: writtenOf(deleted).length,
    valuesWrittenLive: writtenOf(live).length,
    liveShardMates: shardMates,
    shredWaitMs,
    valuesRecoveredDeletedWithKeyStoreBackup: withBackup === null ? null : recoveredOf(deleted, withBackup).length,
    filesScanned: result.scanned.files,
    bytesScanned: result.scanned.bytes,
    wrappedDataKeysFound: result.scanned.wrappedDataKeys,
    masterSealedFound: result.scanned.masterSealed,
    valueCiphertextsFound: result.scanned.valueCiphertexts,
    shardKeysRecovered: result.shardKeys,
    dataKeysRecoveredDeleted: deleted.filter((secret) => result.dataKeys.has(secret.aggregateId)).length,
    dataKeysRecoveredLive: live.filter((secret) => result.dataKeys.has(secret.aggregateId)).length,
    valuesRecoveredDeleted: recoveredOf(deleted, result).length,
    valuesRecoveredLive: recoveredOf(live, result).length,
    deletedWrapsFound: deletedWraps.filter((found) => found !== undefined).length,
    deletedWrapFiles,
    deletedWrapsWithShardKey: deleted.filter(hasShardKey).length,
    deletedKeySources: result.recoveredDataKeys
      .filter((key) => deleted.some((secret) => secret.aggregateId === key.aggregateId))
      .map((key) => `${key.form} ${relative(key.source.file)}@${key.source.offset}`),
    attackMs,
  })

  // The attack is meaningful: the store's files hold the wrapped keys and the ciphertexts, and
  // every live value opens (its keys are in the key store and the database).
  expect(result.scanned.wrappedDataKeys).toBeGreaterThanOrEqual(secrets.length)
  expect(result.scanned.valueCiphertexts).toBeGreaterThanOrEqual(writtenOf(secrets).length)
  expect(recoveredOf(live, result)).toEqual(writtenOf(live))
  // The deleted data keys' bytes are still in the files, in both cases: only their shard key can go.
  expect(deleted.filter((_secret, i) => deletedWraps[i] === undefined).map((secret) => secret.label)).toEqual([])
  if (name === 'A') {
    // Without the shredder, every version of every deleted secret comes back.
    expect(recoveredOf(deleted, result)).toEqual(writtenOf(deleted))
  } else {
    // The shredder re-wrapped the deleted secrets' live shard-mates: the attack opens them
    // through the new generation of their shard key, the old one being gone.
    expect(shardMates).toBeGreaterThanOrEqual(1)
    const deletedShards = new Set(deleted.map((secret) => shardOfWrapped(secret.wrapped)))
    for (const mate of live.filter((secret) => deletedShards.has(shardOfWrapped(secret.wrapped)))) {
      const generations = result.recoveredDataKeys
        .filter((key) => key.aggregateId === mate.aggregateId)
        .map((key) => Number(key.wrapped.split(':')[2]))
      expect([mate.label, generations]).toEqual([mate.label, [Number(mate.wrapped.split(':')[2]) + 1]])
    }
    // After the horizon: nothing of a deleted secret, not even its data key.
    expect(describeLeaks(secrets, result, roots)).toEqual([])
    expect(deleted.filter((secret) => result.dataKeys.has(secret.aggregateId)).map((secret) => secret.label)).toEqual([])
    expect(deleted.filter(hasShardKey).map((secret) => secret.label)).toEqual([])
    // Control: what stood between the attack and the deleted values is the destroyed shard key
    // file, and nothing else. Given a copy of the key store from before the deletes (a backup of
    // it, which is a backup of the secrets), the same attack recovers every deleted version.
    expect(withBackup === null ? null : recoveredOf(deleted, withBackup)).toEqual(writtenOf(deleted))
  }
}

const cleanUp = async (run: Run) => {
  if (run.vault !== undefined) await run.vault.stop('SIGKILL').catch(() => undefined)
  if (run.setup?.backend === 'embedded') stopLeftoverPostgres(run.setup.dataDir)
  run.cluster?.dispose()
  if (run.backup !== undefined) fs.rmSync(run.backup, { recursive: true, force: true })
  if (run.setup !== undefined) fs.rmSync(path.dirname(run.setup.dataDir), { recursive: true, force: true })
}

// In CI a missing server is a failure (global-setup says so), not a skip.
const withServer = hasPostgresServer() || process.env.CI === 'true'
if (!withServer) console.warn('[forensic] No PostgreSQL server installed: the server part of the forensic attack is skipped.')

describe.each<Backend>(['embedded', 'server'])('a forensic attack on every file of the %s store, with the master key', (backend) => {
  const maybe = backend === 'server' && !withServer ? it.skip : it
  const runs: Run[] = []

  afterAll(async () => {
    for (const run of runs) await cleanUp(run)
    fs.writeFileSync(FIGURES_FILE, `${JSON.stringify({ figures }, null, 2)}\n`)
    process.stdout.write(`forensic attack figures: ${FIGURES_FILE}\n`)
  })

  maybe('A: with the shredder out of reach, recovers every version of every deleted secret (the attack works)', async () => {
    const run: Run = {}
    runs.push(run)
    await runCase(backend, 'A', run)
  }, 60_000)

  maybe('B: once the shred horizon has passed, recovers no value of a deleted secret, and every live one', async () => {
    const run: Run = {}
    runs.push(run)
    await runCase(backend, 'B', run)
  }, 60_000)
})
