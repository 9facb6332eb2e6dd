import { knownError } from '../../app/outcomes'
import { KeyStoreMismatchError } from '../../app/keys/key-setup'
import { MissingMasterKeyError } from '../../app/keys/key-report'
import { coreSettings, openVaultCore } from '../../compose'
import { createLogger, type Logger } from '../../lib/logger'
import type { ClientId, Principal } from '../../common/types'
import { ConfigError, loadConfig, type Config } from '../../config'
import { connectionFromUrl } from '../../store/connection'
import { failure, type FunctionResult } from './function-result'
import { functionName, type FunctionId } from './function-names'
import { createFunctionHandlers, type FunctionHandler } from './handlers'

/** The part of AWS Lambda's context object a handler reads. */
export type LambdaContext = Readonly<{ functionName?: string; awsRequestId?: string }>

export type LambdaHandler = (event: unknown, context?: LambdaContext) => Promise<FunctionResult>

type Runtime = Readonly<{ config: Config; log: Logger; handlers: Record<FunctionId, FunctionHandler>; close: () => Promise<void> }>

/**
 * A function deployed to AWS Lambda on its own has no embedded server and no data directory:
 * it needs a PostgreSQL server and the master key from its environment.
 */
const readConfig = (): Config => {
  const config = loadConfig()
  if (config.databaseUrl === null) throw new ConfigError('DATABASE_URL', 'is required for a function deployed on its own')
  if (config.masterKey === null) {
    throw new ConfigError('VAULT_MASTER_KEY', 'is required for a function deployed on its own (or set VAULT_MASTER_KEY_FILE)')
  }
  // SECURITY: the servers' key store, not a directory of the function's own: shard keys written
  // there would be unknown to the servers, and the database refuses another key store anyway.
  if (config.keyStore.kind === 'files' && !config.keyStore.dirGiven) {
    throw new ConfigError('VAULT_KEYSTORE_DIR', "is required for a function deployed on its own (the servers' shared key store), or set VAULT_KEYSTORE=database")
  }
  return config
}

// Opened once per container, on the first invocation, and kept for the ones that follow (AWS
// reuses a container for many invocations). A failed open is retried by the next invocation.
let runtime: Promise<Runtime> | null = null

const openRuntime = async (): Promise<Runtime> => {
  const config = readConfig()
  const log = createLogger(config.logLevel)
  const connection = connectionFromUrl(config.databaseUrl as string)
  const core = await openVaultCore(coreSettings(config, connection, config.masterKey as Buffer, false), log)
  return Object.freeze({ config, log, handlers: createFunctionHandlers(core.secrets, log), close: core.close })
}

/** Closes the store connections, for a host that stops a container cleanly (and for tests). */
export const closeLambdaRuntime = async (): Promise<void> => {
  const opened = runtime
  runtime = null
  await opened?.then((it) => it.close()).catch(() => undefined)
}

/**
 * DESIGN: the guide's functions need no vault credentials ("security can be achieved by other
 * means within AWS": IAM decides who may invoke them), so a deployed function acts with every
 * grant, and the history names the function as the actor.
 */
const deployedPrincipal = (actor: string): Principal =>
  Object.freeze({ clientId: actor as ClientId, admin: true, secrets: true, organizations: Object.freeze([]) })

/** `export const handler = lambdaHandler('get-secret')`: one function, ready for AWS Lambda. */
export const lambdaHandler =
  (id: FunctionId): LambdaHandler =>
  async (event, context) => {
    const opening = (runtime ??= openRuntime())
    let opened: Runtime
    try {
      opened = await opening
    } catch (error) {
      if (runtime === opening) runtime = null
      // A store that cannot be reached is a 503 result the caller may retry, as on REST.
      if (knownError(error) !== null) return failure(error, createLogger('info'))
      // A deployment that cannot work fails loudly (AWS reports it to the caller and logs it),
      // with our own message only: a driver's text might quote SQL or a connection string.
      if (error instanceof ConfigError || error instanceof MissingMasterKeyError || error instanceof KeyStoreMismatchError) throw error
      throw new Error(`The function could not start (${error instanceof Error ? error.name : typeof error})`)
    }
    const actor = context?.functionName ?? functionName(opened.config.env, id)
    return opened.handlers[id](event, deployedPrincipal(actor))
  }
