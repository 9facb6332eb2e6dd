import type { SecretCipher } from '../encryption'
import { secretCommands } from './secret.commands'
import { secretProjection, type SecretState } from './secret.projection'

export const SECRET_AGGREGATE = 'Secret'

/**
 * The Secret aggregate as reSolve wants it. The encryption factory runs once before each
 * command and only reads the incarnation's data key; keys are created by the application
 * service before the create command, so a rejected command never leaves a key behind.
 * State snapshots hold metadata only, never values.
 */
/** Where the aggregate's cipher comes from: the incarnation's data key, through the key hierarchy. */
export type CipherLoader = (aggregateId: string, secretsManager: DataKeyStore) => Promise<SecretCipher>

/** The part of reSolve's secrets manager the encryption factory reads. */
export type DataKeyStore = Readonly<{ getSecret: (id: string) => Promise<string | null> }>

export const createSecretAggregate = (loadCipher: CipherLoader) => ({
  name: SECRET_AGGREGATE,
  commands: secretCommands,
  projection: secretProjection,
  encryption: (aggregateId: string, context: { secretsManager: DataKeyStore }) =>
    loadCipher(aggregateId, context.secretsManager),
  serializeState: (state: SecretState) => JSON.stringify(state),
  deserializeState: (serialized: string): SecretState => JSON.parse(serialized),
  // v3: the state holds tags and a scheduled delete's date; older snapshots are not read back.
  invariantHash: 'secret-state-v3',
})
