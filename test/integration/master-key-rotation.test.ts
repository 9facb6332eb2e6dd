import crypto from 'node:crypto'
import { masterKeyFrom } from '../../common/encryption'
import { adminToken, as, clientWith, request, tokenFor } from '../helpers/api'
import { backends } from '../helpers/backends'
import { newVaultSetup, runVaultToExit, startVault, type VaultProcess, type VaultSetup } from '../helpers/vault-process'

/**
 * Online master-key rotation: a new VAULT_MASTER_KEY with the old one in
 * VAULT_MASTER_KEY_PREVIOUS serves everything at once; POST /admin/rewrap moves every shard key
 * and client secret under the new key while reads and writes go on, none failing; then the old
 * key can be dropped. A start that lacks a key something still needs stops and names it.
 */

const newKey = () => crypto.randomBytes(32).toString('base64')
const idOf = (key: string) => masterKeyFrom(Buffer.from(key, 'base64')).id
const withKeys = (setup: VaultSetup, current: string, previous?: string): VaultSetup => {
  const env: Record<string, string> = { ...setup.env, VAULT_MASTER_KEY: current }
  delete env.VAULT_MASTER_KEY_PREVIOUS
  if (previous !== undefined) env.VAULT_MASTER_KEY_PREVIOUS = previous
  return { ...setup, env }
}

type KeyUse = { id: string; shardKeys: number; clientSecrets: number; dataKeys: number }
const useOf = (report: { keys: KeyUse[] }, id: string) => report.keys.find((key) => key.id === id)

describe.each(backends())('master-key rotation on the %s store', (backend) => {
  const first = newKey()
  const second = newKey()
  let setup: VaultSetup
  let vault: VaultProcess | null = null
  const values = new Map<string, string>()
  let reader: { clientId: string; clientSecret: string; token: string }

  beforeAll(async () => {
    setup = withKeys(await newVaultSetup(backend), first)
    vault = await startVault(setup)
    const admin = as(vault.url, await adminToken(vault.url))
    for (let i = 0; i < 30; i++) {
      values.set(`rot-${i}`, `v-${i}`)
      expect((await admin.post('/secrets', { key: `rot-${i}`, secret: { v: `v-${i}` } })).status).toBe(200)
    }
    reader = await clientWith(vault.url, await adminToken(vault.url), { secrets: true })
    await vault.stop()
    vault = null
  })
  afterAll(() => vault?.stop())

  // The bootstrap admin and the reader: the check runs before the bootstrap admin is sealed anew.
  it('refuses to start with only a new key, naming the old one and what needs it', async () => {
    const refused = await runVaultToExit(withKeys(setup, second))
    expect(refused.code).toBe(1)
    expect(refused.output).toContain(`master key ${idOf(first)} is still needed by 256 shard keys, 2 client secrets`)
  })

  it('serves with the new key and the old one beside it, old tokens included', async () => {
    vault = await startVault(withKeys(setup, second, first))
    const admin = as(vault.url, await adminToken(vault.url))
    for (const [key, value] of values) expect((await admin.get(`/secrets/${key}`)).body.secret).toEqual({ v: value })
    // A token signed under the old key is good while that key is in the ring.
    expect((await as(vault.url, reader.token).get('/secrets/rot-0')).status).toBe(200)
    const report = (await admin.get('/admin/keys')).body
    expect(report.current).toBe(idOf(second))
    expect(useOf(report, idOf(first))).toMatchObject({ shardKeys: 256, clientSecrets: 1 })
  })

  it('rewraps under reads and writes with no failed request', async () => {
    const running = vault as VaultProcess
    const admin = as(running.url, await adminToken(running.url))
    let stop = false
    const failures: string[] = []
    let requests = 0
    const readLoop = async (n: number) => {
      for (let i = n; !stop; i += 3) {
        const key = `rot-${i % 30}`
        const reply = await admin.get(`/secrets/${key}`)
        requests++
        if (reply.status !== 200) failures.push(`read ${key}: ${reply.status}`)
      }
    }
    const writeLoop = async () => {
      for (let i = 0; !stop; i++) {
        const reply = await admin.post('/secrets', { key: `during-${i}`, secret: { v: i } })
        const update = await admin.post(`/secrets/rot-${i % 30}`, { secret: { v: values.get(`rot-${i % 30}`) } })
        const removed = await admin.delete(`/secrets/during-${i}`)
        requests += 3
        if (reply.status !== 200 || update.status !== 200 || removed.status !== 204) {
          failures.push(`write ${i}: ${reply.status} ${update.status} ${removed.status}`)
        }
      }
    }
    const loops = [readLoop(0), readLoop(1), readLoop(2), writeLoop()]
    await new Promise((resolve) => setTimeout(resolve, 300))
    const rewrap = await admin.post('/admin/rewrap')
    await new Promise((resolve) => setTimeout(resolve, 300))
    stop = true
    await Promise.all(loops)
    expect(rewrap.status).toBe(200)
    // Up to 256 shard keys and the reader's secret: fewer when the writers' deletes had the shredder
    // re-key a shard meanwhile (its new key is born under the new master key). What counts is below.
    expect(rewrap.body.rewrapped).toBeGreaterThan(200)
    expect(rewrap.body.rewrapped).toBeLessThanOrEqual(257)
    expect(failures).toEqual([])
    expect(requests).toBeGreaterThan(50)
    const report = (await admin.get('/admin/keys')).body
    expect(useOf(report, idOf(first))).toMatchObject({ shardKeys: 0, clientSecrets: 0, dataKeys: 0 })
    expect(useOf(report, idOf(second))?.shardKeys).toBeGreaterThanOrEqual(256)
  })

  it('serves everything without the old key once rewrapped, and refuses the tokens it signed', async () => {
    await vault?.stop()
    vault = await startVault(withKeys(setup, second))
    const admin = as(vault.url, await adminToken(vault.url))
    for (const [key, value] of values) expect((await admin.get(`/secrets/${key}`)).body.secret).toEqual({ v: value })
    expect((await request(vault.url, 'GET', '/secrets/rot-0', { token: reader.token })).status).toBe(401)
    const fresh = await tokenFor(vault.url, reader.clientId, reader.clientSecret)
    expect((await as(vault.url, fresh).get('/secrets/rot-0')).status).toBe(200)
  })
})

describe.each(backends())('a rewrap on the %s store cut short by SIGKILL', (backend) => {
  it('is finished by the next rewrap, and no secret is lost', async () => {
    const first = newKey()
    const second = newKey()
    const setup = withKeys(await newVaultSetup(backend), first)
    let vault = await startVault(setup)
    let admin = as(vault.url, await adminToken(vault.url))
    for (let i = 0; i < 10; i++) expect((await admin.post('/secrets', { key: `k-${i}`, secret: { v: i } })).status).toBe(200)
    await vault.stop()

    vault = await startVault(withKeys(setup, second, first))
    admin = as(vault.url, await adminToken(vault.url))
    const cut = admin.post('/admin/rewrap').catch(() => null)
    // Killed while it works (it writes and destroys 512 slot files, each fsynced).
    await new Promise((resolve) => setTimeout(resolve, 150))
    await vault.stop('SIGKILL')
    await cut
    vault = await startVault(withKeys(setup, second, first))
    admin = as(vault.url, await adminToken(vault.url))
    const report = (await admin.get('/admin/keys')).body
    const left = report.keys.find((key: KeyUse) => key.id === idOf(first))
    const moved = report.keys.find((key: KeyUse) => key.id === idOf(second))
    // Every shard key has at least one copy: none was destroyed before its new copy was written.
    expect(left.shardKeys + moved.shardKeys).toBeGreaterThanOrEqual(256)
    expect((await admin.post('/admin/rewrap')).status).toBe(200)
    await vault.stop()

    vault = await startVault(withKeys(setup, second))
    admin = as(vault.url, await adminToken(vault.url))
    for (let i = 0; i < 10; i++) expect((await admin.get(`/secrets/k-${i}`)).body.secret).toEqual({ v: i })
    await vault.stop()
  })
})
