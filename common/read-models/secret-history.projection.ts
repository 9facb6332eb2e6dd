import type { StoredSecretEvent } from '../aggregates/secret.events'

/** One line of a key's audit trail: who did what, when. Never a value or key material. */
export type HistoryEntry = Readonly<{
  type: StoredSecretEvent['type']
  version: number
  timestamp: string
  actor: string
  description?: string
}>

export const toHistoryEntry = (event: StoredSecretEvent): HistoryEntry => {
  const entry: { -readonly [K in keyof HistoryEntry]: HistoryEntry[K] } = {
    type: event.type,
    version: event.aggregateVersion,
    timestamp: new Date(event.timestamp).toISOString(),
    actor: event.payload.actor,
  }
  if ('description' in event.payload && event.payload.description !== undefined) {
    entry.description = event.payload.description
  }
  return entry
}

/**
 * The audit trail of a key across all its incarnations, oldest first: incarnations in the
 * order they were created, each one's events by version.
 */
export const buildHistory = (
  incarnations: readonly string[],
  events: readonly StoredSecretEvent[],
): HistoryEntry[] => {
  const order = new Map(incarnations.map((aggregateId, index) => [aggregateId, index]))
  return events
    .filter((event) => order.has(event.aggregateId))
    .sort(
      (a, b) =>
        (order.get(a.aggregateId) ?? 0) - (order.get(b.aggregateId) ?? 0) || a.aggregateVersion - b.aggregateVersion,
    )
    .map(toHistoryEntry)
}
