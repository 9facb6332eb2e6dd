import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ConfigError, loadConfig } from '../../config'

const KEY = crypto.randomBytes(32).toString('base64')

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      env: 'dev',
      dataDir: path.resolve('./.vault'),
      databaseUrl: null,
      masterKey: null,
      bootstrapClient: null,
      aws: { region: 'us-east-1', accountId: '000000000000' },
      logLevel: 'info',
      tokenTtlSeconds: 3600,
      tokenRateLimit: 120,
      dataKeyCacheSize: 10_000,
      readCacheSize: 10_000,
    })
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      VAULT_ENV: 'prd',
      VAULT_DATA_DIR: '/var/lib/vault',
      DATABASE_URL: 'postgres://u:p@db:5432/vault',
      VAULT_MASTER_KEY: KEY,
      VAULT_BOOTSTRAP_CLIENT_ID: 'admin',
      VAULT_BOOTSTRAP_CLIENT_SECRET: 'a-long-enough-secret',
      VAULT_AWS_REGION: 'eu-west-1',
      VAULT_AWS_ACCOUNT_ID: '123456789012',
      LOG_LEVEL: 'debug',
      VAULT_TOKEN_TTL_SECONDS: '600',
      VAULT_TOKEN_RATE_LIMIT: '30',
      VAULT_DATA_KEY_CACHE_SIZE: '0',
      VAULT_READ_CACHE_SIZE: '25',
    })
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      env: 'prd',
      dataDir: '/var/lib/vault',
      databaseUrl: 'postgres://u:p@db:5432/vault',
      bootstrapClient: { clientId: 'admin', clientSecret: 'a-long-enough-secret' },
      aws: { region: 'eu-west-1', accountId: '123456789012' },
      logLevel: 'debug',
      tokenTtlSeconds: 600,
      tokenRateLimit: 30,
      dataKeyCacheSize: 0,
      readCacheSize: 25,
    })
    expect(config.masterKey?.equals(Buffer.from(KEY, 'base64'))).toBe(true)
  })

  it('reads the master key from a file', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-')), 'key')
    fs.writeFileSync(file, `${KEY}\n`)
    expect(loadConfig({ VAULT_MASTER_KEY_FILE: file }).masterKey?.toString('base64')).toBe(KEY)
  })

  it.each([
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['VAULT_ENV', { VAULT_ENV: 'qa' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }],
    ['DATABASE_URL', { DATABASE_URL: 'not a url' }],
    ['VAULT_MASTER_KEY', { VAULT_MASTER_KEY: 'c2hvcnQ=' }],
    ['VAULT_MASTER_KEY', { VAULT_MASTER_KEY: `${KEY}!` }],
    ['VAULT_MASTER_KEY', { VAULT_ENV: 'prd' }],
    ['VAULT_MASTER_KEY', { VAULT_MASTER_KEY: KEY, VAULT_MASTER_KEY_FILE: '/k' }],
    ['VAULT_MASTER_KEY_FILE', { VAULT_MASTER_KEY_FILE: '/no/such/file' }],
    ['VAULT_BOOTSTRAP_CLIENT_ID', { VAULT_BOOTSTRAP_CLIENT_ID: 'admin' }],
    ['VAULT_BOOTSTRAP_CLIENT_ID', { VAULT_BOOTSTRAP_CLIENT_ID: 'a b', VAULT_BOOTSTRAP_CLIENT_SECRET: 'a-long-enough-secret' }],
    ['VAULT_BOOTSTRAP_CLIENT_SECRET', { VAULT_BOOTSTRAP_CLIENT_ID: 'admin', VAULT_BOOTSTRAP_CLIENT_SECRET: 'short' }],
    ['VAULT_AWS_REGION', { VAULT_AWS_REGION: 'nowhere' }],
    ['VAULT_AWS_ACCOUNT_ID', { VAULT_AWS_ACCOUNT_ID: '12' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['VAULT_DATA_KEY_CACHE_SIZE', { VAULT_DATA_KEY_CACHE_SIZE: '-1' }],
    ['VAULT_DATA_KEY_CACHE_SIZE', { VAULT_DATA_KEY_CACHE_SIZE: 'lots' }],
    ['VAULT_DATA_KEY_CACHE_SIZE', { VAULT_DATA_KEY_CACHE_SIZE: '1000001' }],
    ['VAULT_READ_CACHE_SIZE', { VAULT_READ_CACHE_SIZE: '-1' }],
    ['VAULT_READ_CACHE_SIZE', { VAULT_READ_CACHE_SIZE: '1.5' }],
  ])('stops on a bad %s with a message naming it', (variable, env) => {
    expect(() => loadConfig(env)).toThrow(ConfigError)
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}`))
  })

  it('never echoes a bad master key', () => {
    const bad = 'c2VjcmV0LWJ1dC10b28tc2hvcnQ='
    expect(() => loadConfig({ VAULT_MASTER_KEY: bad })).toThrow(expect.objectContaining({ message: expect.not.stringContaining(bad) }))
  })
})
