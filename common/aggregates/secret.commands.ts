import { SecretAlreadyExistsError, SecretNotFoundError, ValidationError } from '../errors'
import type { SecretCipher } from '../encryption'
import type { JsonObject } from '../types'
import {
  MAX_TAGS,
  SECRET_CREATED,
  SECRET_DELETED,
  SECRET_DELETION_CANCELLED,
  SECRET_DELETION_SCHEDULED,
  SECRET_TAGGED,
  SECRET_UNTAGGED,
  SECRET_UPDATED,
  withTags,
  type SecretTaggedPayload,
  type SecretUntaggedPayload,
  type Tag,
  type SecretCreatedPayload,
  type SecretDeletedPayload,
  type SecretUpdatedPayload,
} from './secret.events'
import type { SecretState } from './secret.projection'

export const CREATE_SECRET = 'createSecret'
export const UPDATE_SECRET = 'updateSecret'
export const DELETE_SECRET = 'deleteSecret'
export const TAG_SECRET = 'tagSecret'
export const UNTAG_SECRET = 'untagSecret'
export const SCHEDULE_DELETION = 'scheduleSecretDeletion'
export const CANCEL_DELETION = 'cancelSecretDeletion'

export type CreateSecretPayload = {
  organizationId: string | null
  key: string
  arn: string
  description?: string
  tags?: Tag[]
  secret: JsonObject
  actor: string
}
export type UpdateSecretPayload = { secret: JsonObject; description?: string; actor: string }
export type DeleteSecretPayload = { actor: string }
export type TagSecretPayload = { tags: Tag[]; actor: string }
export type UntagSecretPayload = { tagKeys: string[]; actor: string }
export type ScheduleDeletionPayload = { deletionDate: number; actor: string }
export type CancelDeletionPayload = { actor: string }

/** What reSolve hands a command handler: the current version and our cipher. */
export type SecretCommandContext = {
  aggregateVersion: number
  encrypt?: SecretCipher['encrypt']
}

type Command<P> = { payload: P }

// A secret scheduled for deletion reads as gone (DESIGN.md): it takes no change but its restore
// or its delete.
const requireWritable = (state: SecretState): void => {
  if (state.status !== 'live' || state.deletionDate !== null) throw new SecretNotFoundError()
}

const encrypt = (context: SecretCommandContext, secret: JsonObject): string => {
  if (context.encrypt === undefined) throw new Error('The Secret aggregate runs without its encryption')
  // The new event's version is the next one; binding it as associated data pins the ciphertext.
  return context.encrypt(JSON.stringify(secret), context.aggregateVersion + 1)
}

/** Pure command handlers: given the state and a command, decide the event or throw a typed error. */
export const secretCommands = {
  [CREATE_SECRET]: (state: SecretState, command: Command<CreateSecretPayload>, context: SecretCommandContext) => {
    if (state.status !== 'absent') throw new SecretAlreadyExistsError()
    const { organizationId, key, arn, description, tags, secret, actor } = command.payload
    const payload: SecretCreatedPayload = { organizationId, key, arn, actor, value: encrypt(context, secret) }
    if (description !== undefined) payload.description = description
    if (tags !== undefined && tags.length > 0) payload.tags = withTags([], tags)
    return { type: SECRET_CREATED, payload }
  },

  [UPDATE_SECRET]: (state: SecretState, command: Command<UpdateSecretPayload>, context: SecretCommandContext) => {
    requireWritable(state)
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

  [TAG_SECRET]: (state: SecretState, command: Command<TagSecretPayload>) => {
    requireWritable(state)
    const { tags, actor } = command.payload
    if (withTags(state.tags, tags).length > MAX_TAGS) throw new ValidationError(`A secret holds at most ${MAX_TAGS} tags`)
    const payload: SecretTaggedPayload = { organizationId: state.organizationId, key: state.key, actor, tags: withTags([], tags) }
    return { type: SECRET_TAGGED, payload }
  },

  [UNTAG_SECRET]: (state: SecretState, command: Command<UntagSecretPayload>) => {
    requireWritable(state)
    const { tagKeys, actor } = command.payload
    const payload: SecretUntaggedPayload = { organizationId: state.organizationId, key: state.key, actor, tagKeys: [...new Set(tagKeys)] }
    return { type: SECRET_UNTAGGED, payload }
  },

  [SCHEDULE_DELETION]: (state: SecretState, command: Command<ScheduleDeletionPayload>) => {
    requireWritable(state)
    const { deletionDate, actor } = command.payload
    return { type: SECRET_DELETION_SCHEDULED, payload: { organizationId: state.organizationId, key: state.key, actor, deletionDate } }
  },

  [CANCEL_DELETION]: (state: SecretState, command: Command<CancelDeletionPayload>) => {
    if (state.status !== 'live') throw new SecretNotFoundError()
    if (state.deletionDate === null) throw new ValidationError('The secret is not scheduled for deletion')
    return { type: SECRET_DELETION_CANCELLED, payload: { organizationId: state.organizationId, key: state.key, actor: command.payload.actor } }
  },
}
