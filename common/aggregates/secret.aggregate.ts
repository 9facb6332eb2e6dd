import { loadCipher, type DataKeyStore, type MasterKey } from '../encryption'
import { secretCommands } from './secret.commands'
import { secretProjection, type SecretState } from './secret.projection'

export const SECRET_AGGREGATE = 'Secret'

/**
 * The Secret aggregate as reSolve wants it. The encryption factory runs once before each
 * command and only reads the incarnation's data key; keys are created by the application
 * service before the create command, so a rejected command never leaves a key behind.
 * State snapshots hold metadata only, never values.
 */
export const createSecretAggregate = (master: MasterKey) => ({
  name: SECRET_AGGREGATE,
  commands: secretCommands,
  projection: secretProjection,
  encryption: (aggregateId: string, context: { secretsManager: DataKeyStore }) =>
    loadCipher(master, context.secretsManager, aggregateId),
  serializeState: (state: SecretState) => JSON.stringify(state),
  deserializeState: (serialized: string): SecretState => JSON.parse(serialized),
  invariantHash: 'secret-state-v1',
})
