import {
  SECRET_CREATED,
  SECRET_DELETED,
  SECRET_DELETION_CANCELLED,
  SECRET_DELETION_SCHEDULED,
  SECRET_TAGGED,
  SECRET_UNTAGGED,
  SECRET_UPDATED,
  withoutTags,
  withTags,
  type StoredSecretEvent,
  type Tag,
} from './secret.events'

/** What a command needs to know about an incarnation; never the value. */
export type SecretState = Readonly<{
  status: 'absent' | 'live' | 'deleted'
  organizationId: string | null
  key: string
  arn: string
  description: string | null
  tags: readonly Tag[]
  /** When a scheduled delete falls due (ms since the epoch), or null: none is scheduled. */
  deletionDate: number | null
}>

export const initialSecretState: SecretState = Object.freeze({
  status: 'absent',
  organizationId: null,
  key: '',
  arn: '',
  description: null,
  tags: [],
  deletionDate: null,
})

/** reSolve aggregate projection: folds events into the state the commands decide on. */
export const secretProjection = {
  Init: (): SecretState => initialSecretState,
  [SECRET_CREATED]: (state: SecretState, event: StoredSecretEvent & { type: typeof SECRET_CREATED }): SecretState => ({
    ...state,
    status: 'live',
    organizationId: event.payload.organizationId,
    key: event.payload.key,
    arn: event.payload.arn,
    description: event.payload.description ?? null,
    tags: event.payload.tags ?? [],
  }),
  [SECRET_UPDATED]: (state: SecretState, event: StoredSecretEvent & { type: typeof SECRET_UPDATED }): SecretState => ({
    ...state,
    description: event.payload.description ?? state.description,
  }),
  [SECRET_DELETED]: (state: SecretState): SecretState => ({ ...state, status: 'deleted' }),
  [SECRET_DELETION_SCHEDULED]: (state: SecretState, event: StoredSecretEvent & { type: typeof SECRET_DELETION_SCHEDULED }): SecretState => ({
    ...state,
    deletionDate: event.payload.deletionDate,
  }),
  [SECRET_DELETION_CANCELLED]: (state: SecretState): SecretState => ({ ...state, deletionDate: null }),
  [SECRET_TAGGED]: (state: SecretState, event: StoredSecretEvent & { type: typeof SECRET_TAGGED }): SecretState => ({
    ...state,
    tags: withTags(state.tags, event.payload.tags),
  }),
  [SECRET_UNTAGGED]: (state: SecretState, event: StoredSecretEvent & { type: typeof SECRET_UNTAGGED }): SecretState => ({
    ...state,
    tags: withoutTags(state.tags, event.payload.tagKeys),
  }),
}

/** Folds a list of events without the framework (repair and tests). */
export const foldSecretState = (events: readonly StoredSecretEvent[]): SecretState =>
  events.reduce<SecretState>((state, event) => {
    switch (event.type) {
      case SECRET_CREATED:
        return secretProjection[SECRET_CREATED](state, event)
      case SECRET_UPDATED:
        return secretProjection[SECRET_UPDATED](state, event)
      case SECRET_DELETED:
        return secretProjection[SECRET_DELETED](state)
      case SECRET_DELETION_SCHEDULED:
        return secretProjection[SECRET_DELETION_SCHEDULED](state, event)
      case SECRET_DELETION_CANCELLED:
        return secretProjection[SECRET_DELETION_CANCELLED](state)
      case SECRET_TAGGED:
        return secretProjection[SECRET_TAGGED](state, event)
      case SECRET_UNTAGGED:
        return secretProjection[SECRET_UNTAGGED](state, event)
    }
  }, initialSecretState)
