import { SecretNotFoundError } from '../../common/errors'
import { organizationOf, type ClientId, type Scope, type SecretKey } from '../../common/types'
import type { Logger } from '../../lib/logger'
import { dueDeletions } from '../../store/scheduled-deletions.repository'
import type { KeyRef } from '../../store/secrets.repository'
import { withKeyWrite, type KeyWriteDeps } from './key-write'
import { ernOf, type NamingConfig, type SecretMetadata } from './secret-views'

/** The recovery window a scheduled delete may be given, in days (as AWS Secrets Manager's). */
export const MIN_RECOVERY_DAYS = 7
export const MAX_RECOVERY_DAYS = 30
const DAY_MS = 86_400_000

/** Who the history names for the delete the sweeper makes. */
export const SWEEPER_ACTOR = 'event-vault:scheduled-deletion' as ClientId

export type ScheduledDeletionDeps = KeyWriteDeps & Readonly<{ naming: NamingConfig; now: () => number }>

export type ScheduledSecret = SecretMetadata & Readonly<{ deletionDate: string }>

/**
 * The second strength of delete (DESIGN.md): a delete promised for a date 7-30 days ahead. Until
 * then the secret reads as gone (404) and can be restored; at the date, any vault process's
 * sweeper deletes and shreds it exactly as an immediate delete, through the same crash-safe
 * steps (a recorded intent, finished by the next start if it is cut short). Each secret is
 * swept once: under its key's lock the date is checked again, so a restore or another process's
 * sweep in between wins.
 */
export const createScheduledDeletion = (deps: ScheduledDeletionDeps) => {
  const refOf = (scope: Scope, key: string): KeyRef => ({ organizationId: organizationOf(scope), key })

  const schedule = (actor: ClientId, scope: Scope, key: SecretKey, recoveryDays: number): Promise<ScheduledSecret> =>
    withKeyWrite(deps, refOf(scope, key), async (locked) => {
      if (locked.row === null) throw new SecretNotFoundError()
      const deletionDate = deps.now() + recoveryDays * DAY_MS
      const { row } = await locked.write({ operation: 'schedule', payload: { deletionDate, actor } })
      if (row === null || row.deletionDate === null) throw new Error('A scheduled secret has a row with its date')
      return {
        id: row.key,
        ...(row.organizationId !== null ? { organizationId: row.organizationId } : {}),
        ern: ernOf(deps.naming.env, row.organizationId, row.key),
        arn: row.arn,
        deletionDate: new Date(row.deletionDate).toISOString(),
      }
    })

  const restore = (actor: ClientId, scope: Scope, key: SecretKey): Promise<SecretMetadata> =>
    withKeyWrite(deps, refOf(scope, key), async (locked) => {
      if (locked.row === null) throw new SecretNotFoundError()
      const { row } = await locked.write({ operation: 'restore', payload: { actor } })
      if (row === null) throw new Error('A restored secret has a row')
      return { id: row.key, ...(row.organizationId !== null ? { organizationId: row.organizationId } : {}), ern: ernOf(deps.naming.env, row.organizationId, row.key), arn: row.arn }
    })

  /** Deletes one secret if its scheduled delete is still due; true when this call deleted it. */
  const sweepOne = (ref: KeyRef): Promise<boolean> =>
    withKeyWrite(deps, ref, async (locked) => {
      const due = locked.row?.deletionDate
      if (due === undefined || due === null || due > deps.now()) return false
      await locked.write({ operation: 'delete', payload: { actor: SWEEPER_ACTOR } })
      return true
    })

  /** One pass: every secret due now, a batch at a time. Returns how many this process deleted. */
  const sweep = async (batch = 100): Promise<number> => {
    let deleted = 0
    for (;;) {
      const due = await dueDeletions(deps.pool, deps.now(), batch)
      for (const ref of due) if (await sweepOne(ref)) deleted++
      if (due.length < batch) return deleted
    }
  }

  return Object.freeze({ schedule, restore, sweep })
}

export type ScheduledDeletion = ReturnType<typeof createScheduledDeletion>

/** Runs a sweep every `everyMs` on a server; a failed pass (store down) is tried again at the next. */
export const startDeletionSweeper = (deletion: ScheduledDeletion, everyMs: number, log: Logger) => {
  let running: Promise<unknown> | null = null
  const timer = setInterval(() => {
    if (running !== null) return
    running = deletion
      .sweep()
      .then((deleted) => {
        if (deleted > 0) log.info('scheduled deletions done', { deleted })
      })
      .catch((error: unknown) => log.warn('a deletion sweep failed; the next retries', { error: error instanceof Error ? error.name : typeof error }))
      .finally(() => (running = null))
  }, everyMs)
  timer.unref()
  return async () => {
    clearInterval(timer)
    await running
  }
}
