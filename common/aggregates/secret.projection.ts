import { SECRET_CREATED, SECRET_DELETED, SECRET_UPDATED, type StoredSecretEvent } from './secret.events'

/** What a command needs to know about an incarnation; never the value. */
export type SecretState = Readonly<{
  status: 'absent' | 'live' | 'deleted'
  organizationId: string | null
  key: string
  arn: string
  description: string | null
}>

export const initialSecretState: SecretState = Object.freeze({
  status: 'absent',
  organizationId: null,
  key: '',
  arn: '',
  description: null,
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
  }),
  [SECRET_UPDATED]: (state: SecretState, event: StoredSecretEvent & { type: typeof SECRET_UPDATED }): SecretState => ({
    ...state,
    description: event.payload.description ?? state.description,
  }),
  [SECRET_DELETED]: (state: SecretState): SecretState => ({ ...state, status: 'deleted' }),
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
    }
  }, initialSecretState)
