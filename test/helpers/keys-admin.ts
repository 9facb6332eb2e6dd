import fs from 'node:fs'
import type pg from 'pg'
import { parseSlotName, type KeySlot } from '../../store/keys/key-store'
import type { Reply } from './api'
import { keyStoreDirOf } from './keys'
import type { VaultProcess, VaultSetup } from './vault-process'

type Api = Readonly<{ get: (path: string) => Promise<Reply> }>

/** The slots in a test vault's key store directory, read from the file names. */
export const slotsOf = (setup: VaultSetup): KeySlot[] =>
  fs.readdirSync(keyStoreDirOf(setup)).flatMap((name) => {
    const slot = name.endsWith('.key') ? parseSlotName(name.slice(0, -4)) : null
    return slot === null ? [] : [slot]
  })

/** Waits until GET /admin/keys shows no shred pending; answers how long that took. */
export const untilShredded = async (api: Api, timeoutMs: number): Promise<number> => {
  const started = Date.now()
  for (;;) {
    const reply = await api.get('/admin/keys')
    if (reply.status !== 200) throw new Error(`GET /admin/keys answered ${reply.status}`)
    if (reply.body.pendingShreds.shards === 0) return Date.now() - started
    if (Date.now() - started > timeoutMs) throw new Error(`shreds still pending after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Waits until the vault has written a log line with this message. */
export const untilLogged = async (vault: VaultProcess, message: string, timeoutMs: number): Promise<void> => {
  const started = Date.now()
  while (!vault.output().includes(`"msg":"${message}"`)) {
    if (Date.now() - started > timeoutMs) throw new Error(`no "${message}" within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Each live incarnation's aggregate id and wrapped data key, by key. */
export const storedDataKeys = async (db: pg.Client): Promise<Map<string, { aggregateId: string; wrapped: string | null }>> => {
  const result = await db.query<{ key: string; organization_id: string; aggregate_id: string; secret: string | null }>(
    `SELECT i.key, i.organization_id, i.aggregate_id, k.secret FROM vault.incarnations i
     LEFT JOIN eventstore.secrets k ON k.id = i.aggregate_id ORDER BY i.seq`,
  )
  return new Map(result.rows.map((row) => [`${row.organization_id}/${row.key}`, { aggregateId: row.aggregate_id, wrapped: row.secret }]))
}
