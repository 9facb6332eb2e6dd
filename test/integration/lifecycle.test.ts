import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { isAlive } from '../../store/embedded/data-dir-lock'
import { adminToken, as, request, tokenFor } from '../helpers/api'
import { backends, type Backend } from '../helpers/backends'
import {
  newVaultSetup,
  runVaultToExit,
  startVault,
  stopLeftoverPostgres,
  type VaultProcess,
  type VaultSetup,
} from '../helpers/vault-process'

/**
 * The vault as an operator runs it: health, clean and brutal stops, restarts on the same data,
 * the one-process-per-data-directory rule, configuration errors, and what the first start
 * generates (master key, admin client).
 */

type Api = ReturnType<typeof as>

/** Every process a test starts; whatever a test leaves running is stopped after it. */
const running: VaultProcess[] = []
const killedDataDirs: string[] = []

const start = async (setup: VaultSetup): Promise<VaultProcess> => {
  const vault = await startVault(setup)
  running.push(vault)
  return vault
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((vault) => vault.stop('SIGTERM')))
  for (const dataDir of killedDataDirs.splice(0)) stopLeftoverPostgres(dataDir)
})

/** The same setup without some variables (newVaultSetup always sets a few). */
const without = (setup: VaultSetup, ...names: string[]): VaultSetup => ({
  ...setup,
  env: Object.fromEntries(Object.entries(setup.env).filter(([name]) => !names.includes(name))),
})

const withEnv = (setup: VaultSetup, env: Record<string, string>): VaultSetup => ({ ...setup, env: { ...setup.env, ...env } })

const postmasterPid = (dataDir: string): number =>
  Number(fs.readFileSync(path.join(dataDir, 'postgres', 'data', 'postmaster.pid'), 'utf8').split('\n')[0])


const waitFor = async (condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await condition()) return true
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return false
}

/** A small history of writes of every kind; each one is acknowledged before the next. */
const writeWorkload = async (api: Api): Promise<void> => {
  const acknowledged = async (reply: Promise<{ status: number }>, status = 200) => expect((await reply).status).toBe(status)
  await acknowledged(api.post('/secrets', { key: 'kept', secret: { v: 'one' }, description: 'first' }))
  await acknowledged(api.post('/secrets/kept', { secret: { v: 'two' }, description: 'second' }))
  await acknowledged(api.post('/secrets', { key: 'dropped', secret: { v: 'gone' } }))
  await acknowledged(api.delete('/secrets/dropped'), 204)
  await acknowledged(api.post('/secrets', { key: 'again', secret: { v: 'old' } }))
  await acknowledged(api.delete('/secrets/again'), 204)
  await acknowledged(api.post('/secrets', { key: 'again', secret: { v: 'new' } }))
  await acknowledged(api.post('/organizations/acme', { key: 'shared', secret: { v: 'org' } }))
}

/** What a vault that kept every acknowledged write of the workload answers. */
const expectWorkload = async (api: Api): Promise<void> => {
  expect((await api.get('/secrets/kept')).body.secret).toEqual({ v: 'two' })
  expect((await api.get('/secrets/dropped')).status).toBe(404)
  expect((await api.get('/secrets/again')).body.secret).toEqual({ v: 'new' })
  expect((await api.get('/organizations/acme/shared')).body.secret).toEqual({ v: 'org' })
  const types = async (route: string) => (await api.get(route)).body.events.map((event: { type: string }) => event.type)
  expect(await types('/secrets/kept/history')).toEqual(['SecretCreated', 'SecretUpdated'])
  expect(await types('/secrets/dropped/history')).toEqual(['SecretCreated', 'SecretDeleted'])
  expect(await types('/secrets/again/history')).toEqual(['SecretCreated', 'SecretDeleted', 'SecretCreated'])
  expect((await api.delete('/secrets/dropped')).status).toBe(205)
}

describe.each(backends())('stopping and restarting on the %s store', (backend: Backend) => {
  it('answers /health with 200 and status ok without a token', async () => {
    const vault = await start(await newVaultSetup(backend))
    const health = await request(vault.url, 'GET', '/health')
    expect(health.status).toBe(200)
    expect(health.body).toEqual({ status: 'ok' })
  })

  it('exits 0 on SIGTERM and a restart on the same data finds every acknowledged write', async () => {
    const setup = await newVaultSetup(backend)
    const first = await start(setup)
    await writeWorkload(as(first.url, await adminToken(first.url)))
    expect(await first.stop('SIGTERM')).toBe(0)
    expect(first.output()).toContain('"msg":"stopped"')

    const second = await start(setup)
    await expectWorkload(as(second.url, await adminToken(second.url)))
    expect(await second.stop('SIGINT')).toBe(0)
  })

  it('finishes requests in flight on SIGTERM and keeps every write it acknowledged', async () => {
    const setup = await newVaultSetup(backend)
    const first = await start(setup)
    const api = as(first.url, await adminToken(first.url))
    // Settled at once, so a request refused by the stopping server is an outcome, not a crash.
    const writes = Array.from({ length: 30 }, (_, index) =>
      api.post('/secrets', { key: `burst-${index}`, secret: { n: index } }).then(
        (reply) => reply.status,
        () => 'refused' as const,
      ),
    )
    await writes[0]
    const code = await first.stop('SIGTERM')
    const outcomes = await Promise.all(writes)
    expect(code).toBe(0)
    const acknowledged = outcomes.flatMap((outcome, index) => (outcome === 200 ? [index] : []))
    expect(acknowledged.length).toBeGreaterThan(0)
    // A request is either served in full or never taken: no answer is an error.
    expect(outcomes.filter((outcome) => outcome !== 200 && outcome !== 'refused')).toEqual([])

    const second = await start(setup)
    const again = as(second.url, await adminToken(second.url))
    for (const index of acknowledged) expect((await again.get(`/secrets/burst-${index}`)).body.secret).toEqual({ n: index })
  })

  it('restarts after SIGKILL on the same data with every acknowledged write and no manual step', async () => {
    const setup = await newVaultSetup(backend)
    const first = await start(setup)
    await writeWorkload(as(first.url, await adminToken(first.url)))
    killedDataDirs.push(setup.dataDir)
    expect(await first.stop('SIGKILL')).toBeNull()
    if (backend === 'embedded') {
      // The scenario the design names: the killed vault's postgres is still running.
      expect(isAlive(postmasterPid(setup.dataDir))).toBe(true)
    }

    const second = await start(setup)
    await expectWorkload(as(second.url, await adminToken(second.url)))
    expect((await request(second.url, 'GET', '/health')).status).toBe(200)
    expect(await second.stop()).toBe(0)
  })

  it('refuses to start with another master key than the store was created with, and serves nothing', async () => {
    const setup = await newVaultSetup(backend)
    const first = await start(setup)
    expect((await as(first.url, await adminToken(first.url)).post('/secrets', { key: 'k', secret: { v: 1 } })).status).toBe(200)
    expect(await first.stop()).toBe(0)

    const otherKey = crypto.randomBytes(32).toString('base64')
    const refused = await runVaultToExit(withEnv(setup, { VAULT_MASTER_KEY: otherKey }))
    expect(refused.code).not.toBe(0)
    expect(refused.code).not.toBeNull()
    expect(refused.output).toMatch(/master key/i)
    expect(refused.output).not.toContain('"msg":"listening"')
    expect(refused.output).not.toContain(otherKey)
    expect(refused.output).not.toContain(setup.env.VAULT_MASTER_KEY)

    // The refused start changed nothing: the right key still opens everything.
    const again = await start(setup)
    expect((await as(again.url, await adminToken(again.url)).get('/secrets/k')).body.secret).toEqual({ v: 1 })
  })
})

describe('the embedded store', () => {
  it.each(['SIGINT', 'SIGKILL'] as const)('brings its embedded postgres back after a %s, and serves again without a restart', async (signal) => {
    const setup = await newVaultSetup('embedded')
    const vault = await start(setup)
    const api = as(vault.url, await adminToken(vault.url))
    expect((await api.post('/secrets', { key: 'before', secret: { v: 1 } })).status).toBe(200)

    process.kill(postmasterPid(setup.dataDir), signal)
    // While it is down the vault answers 503 (or, once it is back, 200): never a 500, never a crash.
    const seen = new Set<number>()
    const back = await waitFor(async () => {
      const health = await request(vault.url, 'GET', '/health')
      seen.add(health.status)
      return health.status === 200 && vault.output().includes('embedded postgres restarted')
    }, 30_000)
    expect(back).toBe(true)
    expect([...seen].every((status) => status === 200 || status === 503)).toBe(true)

    expect((await api.get('/secrets/before')).body.secret).toEqual({ v: 1 })
    expect((await api.post('/secrets', { key: 'after', secret: { v: 2 } })).status).toBe(200)
    expect(await vault.stop()).toBe(0)
  })

  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0
  // Only as root does postgres run as another user (as anyone else it runs as the vault's user).
  ;(asRoot ? it : it.skip)('says plainly, as root, when the postgres user cannot reach the data directory', async () => {
    const setup = await newVaultSetup('embedded')
    const privateParent = path.dirname(setup.dataDir)
    fs.chmodSync(privateParent, 0o700)
    const refused = await runVaultToExit(setup)
    expect(refused.code).not.toBe(0)
    expect(refused.output).toContain(`cannot enter ${privateParent}`)

    fs.chmodSync(privateParent, 0o755)
    const vault = await start(setup)
    expect((await request(vault.url, 'GET', '/health')).status).toBe(200)
    expect(await vault.stop()).toBe(0)
  })

  it('refuses a second vault on a data directory another vault is using, naming VAULT_DATA_DIR', async () => {
    const setup = await newVaultSetup('embedded')
    const first = await start(setup)
    const api = as(first.url, await adminToken(first.url))
    expect((await api.post('/secrets', { key: 'k', secret: { v: 1 } })).status).toBe(200)

    const second = await runVaultToExit(setup)
    expect(second.code).not.toBe(0)
    expect(second.code).not.toBeNull()
    expect(second.output).toContain('VAULT_DATA_DIR')
    expect(second.output).not.toContain('"msg":"listening"')

    // The first one is untouched.
    expect((await request(first.url, 'GET', '/health')).status).toBe(200)
    expect((await api.get('/secrets/k')).body.secret).toEqual({ v: 1 })
    expect((await api.post('/secrets', { key: 'k2', secret: { v: 2 } })).status).toBe(200)
  })

  it('generates a master key file readable only by its owner and reuses it on restart', async () => {
    const setup = without(await newVaultSetup('embedded'), 'VAULT_MASTER_KEY')
    const first = await start(setup)
    const file = path.join(setup.dataDir, 'master.key')
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    const key = fs.readFileSync(file, 'utf8').trim()
    expect(Buffer.from(key, 'base64')).toHaveLength(32)
    expect(first.output()).toMatch(/generated a master key/i)
    expect(first.output()).not.toContain(key)
    expect((await as(first.url, await adminToken(first.url)).post('/secrets', { key: 'k', secret: { v: 1 } })).status).toBe(200)
    expect(await first.stop()).toBe(0)

    const second = await start(setup)
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(key)
    expect(second.output()).not.toMatch(/generated a master key/i)
    expect((await as(second.url, await adminToken(second.url)).get('/secrets/k')).body.secret).toEqual({ v: 1 })
  })

  it('prints a generated admin client once on a first start without a bootstrap client', async () => {
    const setup = without(await newVaultSetup('embedded'), 'VAULT_BOOTSTRAP_CLIENT_ID', 'VAULT_BOOTSTRAP_CLIENT_SECRET')
    const first = await start(setup)
    const printed = await waitFor(async () => /client_secret:\s+\S+/.test(first.output()), 5_000)
    expect(printed).toBe(true)
    const clientId = /client_id:\s+(\S+)/.exec(first.output())?.[1] as string
    const clientSecret = /client_secret:\s+(\S+)/.exec(first.output())?.[1] as string
    expect(first.output().split(clientSecret)).toHaveLength(2)
    const admin = as(first.url, await tokenFor(first.url, clientId, clientSecret))
    expect((await admin.post('/clients', { name: 'made by the generated admin', secrets: true })).status).toBe(201)
    expect((await admin.post('/secrets', { key: 'k', secret: { v: 1 } })).status).toBe(200)
    expect(await first.stop()).toBe(0)

    const second = await start(setup)
    expect(second.output()).not.toMatch(/client_secret/)
    expect(second.output()).not.toContain(clientSecret)
    const again = as(second.url, await tokenFor(second.url, clientId, clientSecret))
    expect((await again.get('/secrets/k')).body.secret).toEqual({ v: 1 })
  })
})

describe('configuration errors', () => {
  const freshSetup = () => newVaultSetup('embedded')

  it.each([
    ['VAULT_ENV', 'qa'],
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['LOG_LEVEL', 'loud'],
    ['DATABASE_URL', 'mysql://root@localhost/vault'],
    ['VAULT_AWS_REGION', 'Mars'],
    ['VAULT_BOOTSTRAP_CLIENT_SECRET', 'too-short'],
  ])('stops the start with one line naming %s when it is %p', async (variable, bad) => {
    const setup = await freshSetup()
    const { code, output } = await runVaultToExit(withEnv(setup, { [variable]: bad }))
    expect(code).not.toBe(0)
    expect(code).not.toBeNull()
    const lines = output.split('\n').filter((line) => line.trim() !== '')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(variable)
    expect(output).not.toContain(setup.env.VAULT_MASTER_KEY)
    expect(output).not.toContain(setup.env.VAULT_BOOTSTRAP_CLIENT_SECRET)
  })

  it.each([
    ['a short one', Buffer.from('short-master-key-value').toString('base64')],
    ['31 bytes', crypto.randomBytes(31).toString('base64')],
    ['33 bytes', crypto.randomBytes(33).toString('base64')],
    ['not base64', `${crypto.randomBytes(32).toString('hex')}!`],
  ])('refuses a master key that is %s without printing it', async (_label, bad) => {
    const { code, output } = await runVaultToExit(withEnv(await freshSetup(), { VAULT_MASTER_KEY: bad }))
    expect(code).not.toBe(0)
    expect(code).not.toBeNull()
    const lines = output.split('\n').filter((line) => line.trim() !== '')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('VAULT_MASTER_KEY')
    expect(output).not.toContain(bad)
    expect(output).not.toContain(bad.slice(0, 12))
  })

  it('refuses to start in prd without a master key, and generates none', async () => {
    const setup = withEnv(without(await freshSetup(), 'VAULT_MASTER_KEY'), { VAULT_ENV: 'prd' })
    const { code, output } = await runVaultToExit(setup)
    expect(code).not.toBe(0)
    expect(code).not.toBeNull()
    expect(output).toContain('VAULT_MASTER_KEY')
    expect(output).not.toContain('"msg":"listening"')
    expect(fs.existsSync(path.join(setup.dataDir, 'master.key'))).toBe(false)
  })
})
