import { SecretAlreadyExistsError, SecretNotFoundError } from '../errors'
import type { SecretCipher } from '../encryption'
import type { JsonObject } from '../types'
import {
  SECRET_CREATED,
  SECRET_DELETED,
  SECRET_UPDATED,
  type SecretCreatedPayload,
  type SecretDeletedPayload,
  type SecretUpdatedPayload,
} from './secret.events'
import type { SecretState } from './secret.projection'

export const CREATE_SECRET = 'createSecret'
export const UPDATE_SECRET = 'updateSecret'
export const DELETE_SECRET = 'deleteSecret'

export type CreateSecretPayload = {
  organizationId: string | null
  key: string
  arn: string
  description?: string
  secret: JsonObject
  actor: string
}
export type UpdateSecretPayload = { secret: JsonObject; description?: string; actor: string }
export type DeleteSecretPayload = { actor: string }

/** What reSolve hands a command handler: the current version and our cipher. */
export type SecretCommandContext = {
  aggregateVersion: number
  encrypt?: SecretCipher['encrypt']
}

type Command<P> = { payload: P }

const encrypt = (context: SecretCommandContext, secret: JsonObject): string => {
  if (context.encrypt === undefined) throw new Error('The Secret aggregate runs without its encryption')
  // The new event's version is the next one; binding it as associated data pins the ciphertext.
  return context.encrypt(JSON.stringify(secret), context.aggregateVersion + 1)
}

/** Pure command handlers: given the state and a command, decide the event or throw a typed error. */
export const secretCommands = {
  [CREATE_SECRET]: (state: SecretState, command: Command<CreateSecretPayload>, context: SecretCommandContext) => {
    if (state.status !== 'absent') throw new SecretAlreadyExistsError()
    const { organizationId, key, arn, description, secret, actor } = command.payload
    const payload: SecretCreatedPayload = { organizationId, key, arn, actor, value: encrypt(context, secret) }
    if (description !== undefined) payload.description = description
    return { type: SECRET_CREATED, payload }
  },

  [UPDATE_SECRET]: (state: SecretState, command: Command<UpdateSecretPayload>, context: SecretCommandContext) => {
    if (state.status !== 'live') throw new SecretNotFoundError()
    const { secret, description, actor } = command.payload
    const payload: SecretUpdatedPayload = {
      organizationId: state.organizationId,
      key: state.key,
      actor,
      value: encrypt(context, secret),
    }
    if (description !== undefined) payload.description = description
    return { type: SECRET_UPDATED, payload }
  },

  [DELETE_SECRET]: (state: SecretState, command: Command<DeleteSecretPayload>) => {
    if (state.status !== 'live') throw new SecretNotFoundError()
    const payload: SecretDeletedPayload = {
      organizationId: state.organizationId,
      key: state.key,
      actor: command.payload.actor,
    }
    return { type: SECRET_DELETED, payload }
  },
}
