import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ConfigError, loadConfig } from '../../config'

const KEY = crypto.randomBytes(32).toString('base64')
const OLD_KEY = crypto.randomBytes(32).toString('base64')
const OLDER_KEY = crypto.randomBytes(32).toString('base64')
const tempFile = (content: string) => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-')), 'key')
  fs.writeFileSync(file, content)
  return file
}

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
      previousMasterKeys: [],
      keyStore: { kind: 'files', dir: path.resolve('./.vault/keys'), dirGiven: false },
      shredHorizonSeconds: 60,
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
      VAULT_MASTER_KEY_PREVIOUS: `${OLD_KEY},${OLDER_KEY}`,
      VAULT_KEYSTORE: 'database',
      VAULT_KEYSTORE_DIR: '/srv/vault-keys',
      VAULT_SHRED_HORIZON_SECONDS: '300',
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
      keyStore: { kind: 'database', dir: '/srv/vault-keys', dirGiven: true },
      shredHorizonSeconds: 300,
      bootstrapClient: { clientId: 'admin', clientSecret: 'a-long-enough-secret' },
      aws: { region: 'eu-west-1', accountId: '123456789012' },
      logLevel: 'debug',
      tokenTtlSeconds: 600,
      tokenRateLimit: 30,
      dataKeyCacheSize: 0,
      readCacheSize: 25,
    })
    expect(config.masterKey?.equals(Buffer.from(KEY, 'base64'))).toBe(true)
    expect(config.previousMasterKeys.map((key) => key.toString('base64'))).toEqual([OLD_KEY, OLDER_KEY])
  })

  it('reads the master key from a file', () => {
    expect(loadConfig({ VAULT_MASTER_KEY_FILE: tempFile(`${KEY}\n`) }).masterKey?.toString('base64')).toBe(KEY)
  })

  it('reads one previous master key alone', () => {
    expect(loadConfig({ VAULT_MASTER_KEY_PREVIOUS: OLD_KEY }).previousMasterKeys.map((key) => key.toString('base64'))).toEqual([OLD_KEY])
  })

  it('reads the previous master keys from a file, one a line or comma-separated, blank lines ignored', () => {
    const file = tempFile(`${OLD_KEY}\n\n${OLDER_KEY},${KEY}\n`)
    const previous = loadConfig({ VAULT_MASTER_KEY_PREVIOUS_FILE: file }).previousMasterKeys
    expect(previous.map((key) => key.toString('base64'))).toEqual([OLD_KEY, OLDER_KEY, KEY])
  })

  it('keeps the key store in the data directory unless told otherwise', () => {
    expect(loadConfig({ VAULT_DATA_DIR: '/var/lib/vault' }).keyStore).toEqual({ kind: 'files', dir: '/var/lib/vault/keys', dirGiven: false })
    expect(loadConfig({ VAULT_DATA_DIR: '/var/lib/vault', VAULT_KEYSTORE_DIR: 'shared/keys' }).keyStore).toEqual({
      kind: 'files',
      dir: path.resolve('shared/keys'),
      dirGiven: true,
    })
  })

  it('accepts a shred horizon from 1 second to a day', () => {
    expect(loadConfig({ VAULT_SHRED_HORIZON_SECONDS: '1' }).shredHorizonSeconds).toBe(1)
    expect(loadConfig({ VAULT_SHRED_HORIZON_SECONDS: '86400' }).shredHorizonSeconds).toBe(86_400)
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
    ['VAULT_MASTER_KEY_PREVIOUS', { VAULT_MASTER_KEY_PREVIOUS: 'c2hvcnQ=' }],
    ['VAULT_MASTER_KEY_PREVIOUS', { VAULT_MASTER_KEY_PREVIOUS: `${OLD_KEY},c2hvcnQ=` }],
    ['VAULT_MASTER_KEY_PREVIOUS', { VAULT_MASTER_KEY_PREVIOUS: `${OLD_KEY},` }],
    ['VAULT_MASTER_KEY_PREVIOUS', { VAULT_MASTER_KEY_PREVIOUS: `${OLD_KEY};${OLDER_KEY}` }],
    ['VAULT_MASTER_KEY_PREVIOUS', { VAULT_MASTER_KEY_PREVIOUS: OLD_KEY, VAULT_MASTER_KEY_PREVIOUS_FILE: '/k' }],
    ['VAULT_MASTER_KEY_PREVIOUS_FILE', { VAULT_MASTER_KEY_PREVIOUS_FILE: '/no/such/file' }],
    ['VAULT_MASTER_KEY_PREVIOUS_FILE', { VAULT_MASTER_KEY_PREVIOUS_FILE: tempFile(`${OLD_KEY}\nc2hvcnQ=\n`) }],
    ['VAULT_KEYSTORE', { VAULT_KEYSTORE: 'kms' }],
    ['VAULT_KEYSTORE', { VAULT_KEYSTORE: 'FILES' }],
    ['VAULT_SHRED_HORIZON_SECONDS', { VAULT_SHRED_HORIZON_SECONDS: '0' }],
    ['VAULT_SHRED_HORIZON_SECONDS', { VAULT_SHRED_HORIZON_SECONDS: '86401' }],
    ['VAULT_SHRED_HORIZON_SECONDS', { VAULT_SHRED_HORIZON_SECONDS: '1.5' }],
    ['VAULT_SHRED_HORIZON_SECONDS', { VAULT_SHRED_HORIZON_SECONDS: 'soon' }],
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
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}:`))
  })

  it('never echoes a bad master key', () => {
    const bad = 'c2VjcmV0LWJ1dC10b28tc2hvcnQ='
    expect(() => loadConfig({ VAULT_MASTER_KEY: bad })).toThrow(expect.objectContaining({ message: expect.not.stringContaining(bad) }))
  })

  it('never echoes a bad previous master key, nor the good ones beside it', () => {
    const bad = 'c2VjcmV0LWJ1dC10b28tc2hvcnQ='
    for (const env of [{ VAULT_MASTER_KEY_PREVIOUS: `${OLD_KEY},${bad}` }, { VAULT_MASTER_KEY_PREVIOUS_FILE: tempFile(`${OLD_KEY}\n${bad}\n`) }]) {
      expect(() => loadConfig(env)).toThrow(ConfigError)
      for (const secret of [bad, OLD_KEY]) {
        expect(() => loadConfig(env)).toThrow(expect.objectContaining({ message: expect.not.stringContaining(secret) }))
      }
    }
  })
})
