/** Where one copy of a shard key sits: its shard, its generation and the master key that wraps it. */
export type KeySlot = Readonly<{ shard: number; generation: number; masterKeyId: string }>

/**
 * Where shard keys live: never in PostgreSQL, whose files keep every byte a row ever held.
 * A shard key may have a copy per master key while a rewrap moves it (app/keys/rewrap.ts).
 * Another backend (a KMS, a shared volume) implements these five calls.
 */
export type KeyStore = Readonly<{
  /** How the deployment is told what a delete promises: only `erases` stores make deletes final. */
  kind: 'files' | 'database'
  /** Whether `destroy` destroys the bytes, so that no copy of the store can give the key back. */
  erases: boolean
  /** The key store's own id, which the database records so processes cannot use different stores. */
  identity: () => Promise<string>
  /** Stores a wrapped shard key; durable when it resolves. */
  write: (slot: KeySlot, wrapped: string) => Promise<void>
  /** The wrapped shard key in a slot, or null. */
  read: (slot: KeySlot) => Promise<string | null>
  /** Every slot held. */
  list: () => Promise<KeySlot[]>
  /** Destroys a slot (nothing to do when it is already gone); durable when it resolves. */
  destroy: (slot: KeySlot) => Promise<void>
}>

export const slotName = (slot: KeySlot): string => `shard-${slot.shard}-${slot.generation}-${slot.masterKeyId}`

const SLOT_NAME = /^shard-(\d+)-(\d+)-([0-9a-f]{16})$/

export const parseSlotName = (name: string): KeySlot | null => {
  const match = SLOT_NAME.exec(name)
  return match === null ? null : { shard: Number(match[1]), generation: Number(match[2]), masterKeyId: match[3] }
}
