import { CANCEL_DELETION, CREATE_SECRET, DELETE_SECRET, SCHEDULE_DELETION, TAG_SECRET, UNTAG_SECRET, UPDATE_SECRET, secretCommands } from '../../common/aggregates/secret.commands'
import type { StoredSecretEvent } from '../../common/aggregates/secret.events'
import { foldSecretState } from '../../common/aggregates/secret.projection'
import { cipherFor, generateKey } from '../../common/encryption'
import { SecretAlreadyExistsError, SecretNotFoundError, ValidationError } from '../../common/errors'
import { foldSecretRow } from '../../common/read-models/secrets.projection'

const AGGREGATE = 'agg-1'
const cipher = cipherFor(generateKey(), AGGREGATE)

// Fixtures: small builders for the events an incarnation can have.
const created = (version = 1): StoredSecretEvent => ({
  type: 'SecretCreated',
  aggregateId: AGGREGATE,
  aggregateVersion: version,
  timestamp: 1000 + version,
  payload: { organizationId: 'acme', key: 'db', arn: 'arn:x', description: 'first', actor: 'c1', value: 'sealed' },
})
const updated = (version: number): StoredSecretEvent => ({
  type: 'SecretUpdated',
  aggregateId: AGGREGATE,
  aggregateVersion: version,
  timestamp: 1000 + version,
  payload: { organizationId: 'acme', key: 'db', actor: 'c2', value: 'sealed' },
})
const deleted = (version: number): StoredSecretEvent => ({
  type: 'SecretDeleted',
  aggregateId: AGGREGATE,
  aggregateVersion: version,
  timestamp: 1000 + version,
  payload: { organizationId: 'acme', key: 'db', actor: 'c3' },
})

/** given events, when a command: the handler's decision. */
const given = (...events: StoredSecretEvent[]) => ({
  when: <T extends keyof typeof secretCommands>(command: T, payload: Parameters<(typeof secretCommands)[T]>[1]['payload']) =>
    () =>
      (secretCommands[command] as (s: unknown, c: unknown, x: unknown) => { type: string; payload: Record<string, unknown> })(
        foldSecretState(events),
        { payload },
        { aggregateVersion: events.length, encrypt: cipher.encrypt },
      ),
})

describe('createSecret', () => {
  const create = { organizationId: 'acme', key: 'db', arn: 'arn:x', secret: { pwd: 'hunter2' }, actor: 'c1' }

  it('records SecretCreated with the value encrypted for version 1', () => {
    const event = given().when(CREATE_SECRET, { ...create, description: 'd' })()
    expect(event.type).toBe('SecretCreated')
    expect(event.payload).toEqual({ organizationId: 'acme', key: 'db', arn: 'arn:x', description: 'd', actor: 'c1', value: expect.any(String) })
    expect(JSON.stringify(event)).not.toContain('hunter2')
    expect(JSON.parse(cipher.decrypt(event.payload.value as string, 1))).toEqual({ pwd: 'hunter2' })
  })

  it('leaves the description out when none was given', () => {
    expect(given().when(CREATE_SECRET, create)().payload).not.toHaveProperty('description')
  })

  it('refuses an incarnation that already exists', () => {
    expect(given(created()).when(CREATE_SECRET, create)).toThrow(SecretAlreadyExistsError)
  })

  it('refuses an incarnation that was deleted: a re-created key is a new incarnation', () => {
    expect(given(created(), deleted(2)).when(CREATE_SECRET, create)).toThrow(SecretAlreadyExistsError)
  })
})

describe('updateSecret', () => {
  it('records SecretUpdated with the value bound to the next version', () => {
    const event = given(created(), updated(2)).when(UPDATE_SECRET, { secret: { pwd: 'new' }, actor: 'c2' })()
    expect(event.type).toBe('SecretUpdated')
    expect(event.payload).toMatchObject({ organizationId: 'acme', key: 'db', actor: 'c2' })
    expect(JSON.parse(cipher.decrypt(event.payload.value as string, 3))).toEqual({ pwd: 'new' })
    expect(() => cipher.decrypt(event.payload.value as string, 2)).toThrow()
  })

  it('carries a new description only when one is given', () => {
    const withDescription = given(created()).when(UPDATE_SECRET, { secret: { a: 1 }, description: 'new', actor: 'c2' })()
    expect(withDescription.payload.description).toBe('new')
    expect(given(created()).when(UPDATE_SECRET, { secret: { a: 1 }, actor: 'c2' })().payload).not.toHaveProperty('description')
  })

  it.each([
    ['that never existed', []],
    ['that was deleted', [created(), deleted(2)]],
  ])('refuses an incarnation %s', (_name, events) => {
    expect(given(...(events as StoredSecretEvent[])).when(UPDATE_SECRET, { secret: { a: 1 }, actor: 'c2' })).toThrow(SecretNotFoundError)
  })
})

describe('deleteSecret', () => {
  it('records SecretDeleted with the actor and no value', () => {
    const event = given(created(), updated(2)).when(DELETE_SECRET, { actor: 'c3' })()
    expect(event).toEqual({ type: 'SecretDeleted', payload: { organizationId: 'acme', key: 'db', actor: 'c3' } })
  })

  it('refuses an incarnation that is already deleted', () => {
    expect(given(created(), deleted(2)).when(DELETE_SECRET, { actor: 'c3' })).toThrow(SecretNotFoundError)
  })
})

describe('the state projection', () => {
  it('follows the incarnation through its life', () => {
    expect(foldSecretState([]).status).toBe('absent')
    expect(foldSecretState([created()])).toMatchObject({ status: 'live', key: 'db', organizationId: 'acme', description: 'first' })
    expect(foldSecretState([created(), updated(2)]).description).toBe('first')
    expect(foldSecretState([created(), updated(2), deleted(3)]).status).toBe('deleted')
  })
})

const tagged = (version: number, tags: Array<{ key: string; value: string }>): StoredSecretEvent => ({
  type: 'SecretTagged',
  aggregateId: AGGREGATE,
  aggregateVersion: version,
  timestamp: 1000 + version,
  payload: { organizationId: 'acme', key: 'db', actor: 'c4', tags },
})

describe('tagSecret and untagSecret', () => {
  it('records SecretTagged with the tags given, and no value', () => {
    const event = given(created()).when(TAG_SECRET, { tags: [{ key: 'env', value: 'prod' }], actor: 'c4' })()
    expect(event).toEqual({ type: 'SecretTagged', payload: { organizationId: 'acme', key: 'db', actor: 'c4', tags: [{ key: 'env', value: 'prod' }] } })
  })

  it('records SecretUntagged with each key once', () => {
    const event = given(created(), tagged(2, [{ key: 'env', value: 'prod' }])).when(UNTAG_SECRET, { tagKeys: ['env', 'env'], actor: 'c4' })()
    expect(event.payload).toMatchObject({ tagKeys: ['env'], actor: 'c4' })
  })

  it('refuses a change that would leave more than 50 tags, counting the ones it only gives new values', () => {
    const fifty = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: 'v' }))
    expect(given(created(), tagged(2, fifty)).when(TAG_SECRET, { tags: [{ key: 'k0', value: 'new' }], actor: 'c4' })).not.toThrow()
    expect(given(created(), tagged(2, fifty)).when(TAG_SECRET, { tags: [{ key: 'k50', value: 'v' }], actor: 'c4' })).toThrow(ValidationError)
  })

  it.each([
    ['that never existed', []],
    ['that was deleted', [created(), deleted(2)]],
  ])('refuses to tag an incarnation %s', (_name, events) => {
    expect(given(...(events as StoredSecretEvent[])).when(TAG_SECRET, { tags: [{ key: 'a', value: 'b' }], actor: 'c4' })).toThrow(SecretNotFoundError)
    expect(given(...(events as StoredSecretEvent[])).when(UNTAG_SECRET, { tagKeys: ['a'], actor: 'c4' })).toThrow(SecretNotFoundError)
  })

  it('folds tags into the state and the read model: new keys appended, known keys given new values, removed keys gone', () => {
    const events = [
      created(),
      tagged(2, [{ key: 'env', value: 'dev' }, { key: 'team', value: 'a' }]),
      tagged(3, [{ key: 'env', value: 'prod' }]),
      { ...tagged(4, []), type: 'SecretUntagged', payload: { organizationId: 'acme', key: 'db', actor: 'c4', tagKeys: ['team'] } } as StoredSecretEvent,
    ]
    expect(foldSecretState(events).tags).toEqual([{ key: 'env', value: 'prod' }])
    const row = foldSecretRow(events)
    expect(row?.tags).toEqual([{ key: 'env', value: 'prod' }])
    // The value stays bound to the version it was sealed for: a tag change leaves it.
    expect(row?.version).toBe(1)
    expect(row?.updatedAt).toBe(1004)
  })
})

describe('scheduleSecretDeletion and cancelSecretDeletion', () => {
  const scheduled = (version: number): StoredSecretEvent => ({
    type: 'SecretDeletionScheduled',
    aggregateId: AGGREGATE,
    aggregateVersion: version,
    timestamp: 1000 + version,
    payload: { organizationId: 'acme', key: 'db', actor: 'c5', deletionDate: 5_000 },
  })

  it('records SecretDeletionScheduled with its date, and the state and row carry it', () => {
    expect(given(created()).when(SCHEDULE_DELETION, { deletionDate: 5_000, actor: 'c5' })()).toEqual({
      type: 'SecretDeletionScheduled',
      payload: { organizationId: 'acme', key: 'db', actor: 'c5', deletionDate: 5_000 },
    })
    expect(foldSecretState([created(), scheduled(2)]).deletionDate).toBe(5_000)
    expect(foldSecretRow([created(), scheduled(2)])?.deletionDate).toBe(5_000)
  })

  it('refuses every change but a restore or a delete while the delete is scheduled', () => {
    const events = [created(), scheduled(2)]
    expect(given(...events).when(UPDATE_SECRET, { secret: { a: 1 }, actor: 'c2' })).toThrow(SecretNotFoundError)
    expect(given(...events).when(TAG_SECRET, { tags: [{ key: 'a', value: 'b' }], actor: 'c2' })).toThrow(SecretNotFoundError)
    expect(given(...events).when(SCHEDULE_DELETION, { deletionDate: 9_000, actor: 'c2' })).toThrow(SecretNotFoundError)
    expect(given(...events).when(DELETE_SECRET, { actor: 'c3' })().type).toBe('SecretDeleted')
    expect(given(...events).when(CANCEL_DELETION, { actor: 'c6' })()).toEqual({
      type: 'SecretDeletionCancelled',
      payload: { organizationId: 'acme', key: 'db', actor: 'c6' },
    })
  })

  it('refuses to restore a secret whose delete is not scheduled, or that is gone', () => {
    expect(given(created()).when(CANCEL_DELETION, { actor: 'c6' })).toThrow(ValidationError)
    expect(given(created(), deleted(2)).when(CANCEL_DELETION, { actor: 'c6' })).toThrow(SecretNotFoundError)
  })

  it('folds a restore back to no date', () => {
    const restored = { ...scheduled(3), type: 'SecretDeletionCancelled', payload: { organizationId: 'acme', key: 'db', actor: 'c6' } } as StoredSecretEvent
    expect(foldSecretState([created(), scheduled(2), restored]).deletionDate).toBeNull()
    expect(foldSecretRow([created(), scheduled(2), restored])?.deletionDate).toBeNull()
  })
})
