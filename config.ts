import fs from 'node:fs'
import path from 'node:path'
import { DATA_KEY_CACHE_SIZE } from './app/keys/data-key-cache'
import { READ_CACHE_SIZE } from './app/secrets/read-cache'
import type { LogLevel } from './lib/logger'
import { CLIENT_ID_PATTERN } from './common/types'

/** The whole configuration of one vault process, read once from the environment. */
export type Config = Readonly<{
  port: number
  host: string
  env: VaultEnv
  dataDir: string
  databaseUrl: string | null
  /** The key-encryption key, or null when it is to be generated into the data directory. */
  masterKey: Buffer | null
  /** Older master keys, still accepted for unwrapping until a rewrap moves everything off them. */
  previousMasterKeys: readonly Buffer[]
  /** Where shard keys live: files whose delete destroys bytes (default), or the database (weaker). */
  keyStore: Readonly<{ kind: 'files' | 'database'; dir: string; dirGiven: boolean }>
  /** How long after a delete its shard key is retired at the latest (app/keys/shredder.ts). */
  shredHorizonSeconds: number
  bootstrapClient: Readonly<{ clientId: string; clientSecret: string }> | null
  aws: Readonly<{ region: string; accountId: string }>
  logLevel: LogLevel
  tokenTtlSeconds: number
  /** Token requests allowed per minute, for each client id and for each address. */
  tokenRateLimit: number
  /** Unwrapped data keys kept in memory for reads (app/keys/data-key-cache.ts); 0: none. */
  dataKeyCacheSize: number
  /** Secrets remembered for reads, checked against their change stamps (app/secrets/read-cache.ts); 0: none. */
  readCacheSize: number
}>

export type VaultEnv = 'dev' | 'stg' | 'prd'
export type { LogLevel } from './lib/logger'

/** A bad configuration value: the message names the variable and never echoes a secret. */
export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`)
    this.name = 'ConfigError'
  }
}

type Env = Readonly<Record<string, string | undefined>>

/** Reads and validates the environment; the only place that touches `process.env`. */
export const loadConfig = (env: Env = process.env): Config => {
  const vaultEnv = oneOf(env, 'VAULT_ENV', ['dev', 'stg', 'prd'] as const, 'dev')
  const masterKey = readMasterKey(env)
  if (masterKey === null && vaultEnv === 'prd') {
    throw new ConfigError('VAULT_MASTER_KEY', 'is required when VAULT_ENV=prd (or set VAULT_MASTER_KEY_FILE)')
  }
  const dataDir = path.resolve(nonEmpty(env, 'VAULT_DATA_DIR', './.vault'))
  return Object.freeze({
    port: integer(env, 'PORT', 3000, 0, 65535),
    host: nonEmpty(env, 'HOST', '127.0.0.1'),
    env: vaultEnv,
    dataDir,
    databaseUrl: readDatabaseUrl(env),
    masterKey,
    previousMasterKeys: readPreviousMasterKeys(env),
    keyStore: Object.freeze({
      kind: oneOf(env, 'VAULT_KEYSTORE', ['files', 'database'] as const, 'files'),
      dir: path.resolve(nonEmpty(env, 'VAULT_KEYSTORE_DIR', path.join(dataDir, 'keys'))),
      dirGiven: value(env, 'VAULT_KEYSTORE_DIR') !== undefined,
    }),
    shredHorizonSeconds: integer(env, 'VAULT_SHRED_HORIZON_SECONDS', 60, 1, 86_400),
    bootstrapClient: readBootstrapClient(env),
    aws: Object.freeze({
      region: matching(env, 'VAULT_AWS_REGION', /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'us-east-1', 'an AWS region such as us-east-1'),
      accountId: matching(env, 'VAULT_AWS_ACCOUNT_ID', /^\d{12}$/, '000000000000', '12 digits'),
    }),
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info'),
    tokenTtlSeconds: integer(env, 'VAULT_TOKEN_TTL_SECONDS', 3600, 1, 86400),
    tokenRateLimit: integer(env, 'VAULT_TOKEN_RATE_LIMIT', 120, 1, 1_000_000),
    dataKeyCacheSize: integer(env, 'VAULT_DATA_KEY_CACHE_SIZE', DATA_KEY_CACHE_SIZE, 0, 1_000_000),
    readCacheSize: integer(env, 'VAULT_READ_CACHE_SIZE', READ_CACHE_SIZE, 0, 1_000_000),
  })
}

/**
 * A function deployed to AWS Lambda on its own has no embedded server and no data directory:
 * it needs a PostgreSQL server and the master key from its environment.
 */
export const loadFunctionConfig = (env: Env = process.env): Config & { databaseUrl: string; masterKey: Buffer } => {
  const config = loadConfig(env)
  if (config.databaseUrl === null) throw new ConfigError('DATABASE_URL', 'is required for a function deployed on its own')
  if (config.masterKey === null) {
    throw new ConfigError('VAULT_MASTER_KEY', 'is required for a function deployed on its own (or set VAULT_MASTER_KEY_FILE)')
  }
  // SECURITY: the servers' key store, not a directory of the function's own: shard keys written
  // there would be unknown to the servers, and the database refuses another key store anyway.
  if (config.keyStore.kind === 'files' && !config.keyStore.dirGiven) {
    throw new ConfigError('VAULT_KEYSTORE_DIR', "is required for a function deployed on its own (the servers' shared key store), or set VAULT_KEYSTORE=database")
  }
  return { ...config, databaseUrl: config.databaseUrl, masterKey: config.masterKey }
}

const value = (env: Env, name: string): string | undefined => {
  const raw = env[name]
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim()
}

const nonEmpty = (env: Env, name: string, fallback: string): string => value(env, name) ?? fallback

const integer = (env: Env, name: string, fallback: number, min: number, max: number): number => {
  const raw = value(env, name)
  if (raw === undefined) return fallback
  const parsed = Number(raw)
  if (!/^\d+$/.test(raw) || parsed < min || parsed > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}`)
  }
  return parsed
}

const oneOf = <T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T => {
  const raw = value(env, name)
  if (raw === undefined) return fallback
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}`)
  }
  return raw as T
}

const matching = (env: Env, name: string, pattern: RegExp, fallback: string, expected: string): string => {
  const raw = value(env, name) ?? fallback
  if (!pattern.test(raw)) throw new ConfigError(name, `must be ${expected}`)
  return raw
}

const readDatabaseUrl = (env: Env): string | null => {
  const raw = value(env, 'DATABASE_URL')
  if (raw === undefined) return null
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError('DATABASE_URL', 'is not a valid URL')
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', 'must start with postgres:// or postgresql://')
  }
  return raw
}

// SECURITY: the key is decoded strictly, so a truncated or mistyped key stops the start
// instead of silently becoming a different key.
const decodeMasterKey = (name: string, encoded: string): Buffer => {
  const trimmed = encoded.trim()
  const key = Buffer.from(trimmed, 'base64')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || key.length !== 32) {
    throw new ConfigError(name, 'must be the base64 encoding of exactly 32 bytes')
  }
  return key
}

const readMasterKey = (env: Env): Buffer | null => {
  const inline = value(env, 'VAULT_MASTER_KEY')
  const file = value(env, 'VAULT_MASTER_KEY_FILE')
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError('VAULT_MASTER_KEY', 'set either VAULT_MASTER_KEY or VAULT_MASTER_KEY_FILE, not both')
  }
  if (inline !== undefined) return decodeMasterKey('VAULT_MASTER_KEY', inline)
  if (file === undefined) return null
  let content: string
  try {
    content = fs.readFileSync(file, 'utf8')
  } catch {
    throw new ConfigError('VAULT_MASTER_KEY_FILE', 'cannot be read')
  }
  return decodeMasterKey('VAULT_MASTER_KEY_FILE', content)
}

const readPreviousMasterKeys = (env: Env): Buffer[] => {
  const inline = value(env, 'VAULT_MASTER_KEY_PREVIOUS')
  const file = value(env, 'VAULT_MASTER_KEY_PREVIOUS_FILE')
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError('VAULT_MASTER_KEY_PREVIOUS', 'set either VAULT_MASTER_KEY_PREVIOUS or VAULT_MASTER_KEY_PREVIOUS_FILE, not both')
  }
  if (inline !== undefined) return inline.split(',').map((key) => decodeMasterKey('VAULT_MASTER_KEY_PREVIOUS', key))
  if (file === undefined) return []
  let content: string
  try {
    content = fs.readFileSync(file, 'utf8')
  } catch {
    throw new ConfigError('VAULT_MASTER_KEY_PREVIOUS_FILE', 'cannot be read')
  }
  return content
    .split(/[\n,]/)
    .filter((line) => line.trim() !== '')
    .map((key) => decodeMasterKey('VAULT_MASTER_KEY_PREVIOUS_FILE', key))
}

const readBootstrapClient = (env: Env): Config['bootstrapClient'] => {
  const clientId = value(env, 'VAULT_BOOTSTRAP_CLIENT_ID')
  const clientSecret = value(env, 'VAULT_BOOTSTRAP_CLIENT_SECRET')
  if (clientId === undefined && clientSecret === undefined) return null
  if (clientId === undefined || clientSecret === undefined) {
    throw new ConfigError('VAULT_BOOTSTRAP_CLIENT_ID', 'and VAULT_BOOTSTRAP_CLIENT_SECRET must be set together')
  }
  if (!CLIENT_ID_PATTERN.test(clientId)) {
    throw new ConfigError('VAULT_BOOTSTRAP_CLIENT_ID', 'must be 3-128 characters of A-Z a-z 0-9 _ . -, starting alphanumeric')
  }
  if (clientSecret.length < 16 || clientSecret.length > 256) {
    throw new ConfigError('VAULT_BOOTSTRAP_CLIENT_SECRET', 'must be 16 to 256 characters long')
  }
  return Object.freeze({ clientId, clientSecret })
}
