import type { StoredSecretEvent } from '../../common/aggregates/secret.events'
import { buildHistory } from '../../common/read-models/secret-history.projection'
import { foldSecretRow } from '../../common/read-models/secrets.projection'

const event = (
  aggregateId: string,
  aggregateVersion: number,
  type: StoredSecretEvent['type'],
  extra: Record<string, unknown> = {},
): StoredSecretEvent =>
  ({
    type,
    aggregateId,
    aggregateVersion,
    timestamp: Date.UTC(2026, 0, 1) + aggregateVersion * 1000,
    payload: { organizationId: null, key: 'db', actor: `actor-${aggregateVersion}`, value: `sealed-${aggregateVersion}`, arn: 'arn:1', ...extra },
  }) as StoredSecretEvent

describe('the secrets read model', () => {
  it('holds the latest ciphertext with the version it is bound to', () => {
    const row = foldSecretRow([event('a', 1, 'SecretCreated', { description: 'd1' }), event('a', 2, 'SecretUpdated')])
    expect(row).toMatchObject({ aggregateId: 'a', key: 'db', arn: 'arn:1', description: 'd1', version: 2, value: 'sealed-2' })
  })

  it('takes a new description from an update that has one', () => {
    const row = foldSecretRow([event('a', 1, 'SecretCreated'), event('a', 2, 'SecretUpdated', { description: 'd2' })])
    expect(row?.description).toBe('d2')
  })

  it('has no row once the secret is deleted', () => {
    expect(foldSecretRow([event('a', 1, 'SecretCreated'), event('a', 2, 'SecretDeleted')])).toBeNull()
  })
})

describe('the history of a key', () => {
  it('lists incarnations in creation order, each by version, without values', () => {
    const events = [
      event('second', 1, 'SecretCreated'),
      event('first', 2, 'SecretDeleted'),
      event('first', 1, 'SecretCreated', { description: 'hello' }),
    ]
    const history = buildHistory(['first', 'second'], events)
    expect(history).toEqual([
      { type: 'SecretCreated', version: 1, timestamp: '2026-01-01T00:00:01.000Z', actor: 'actor-1', description: 'hello' },
      { type: 'SecretDeleted', version: 2, timestamp: '2026-01-01T00:00:02.000Z', actor: 'actor-2' },
      { type: 'SecretCreated', version: 1, timestamp: '2026-01-01T00:00:01.000Z', actor: 'actor-1' },
    ])
    expect(JSON.stringify(history)).not.toContain('sealed')
  })

  it('leaves out events of incarnations that are not the key\'s', () => {
    expect(buildHistory(['mine'], [event('other', 1, 'SecretCreated')])).toEqual([])
  })
})
