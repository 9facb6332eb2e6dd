import type { as } from './api'

// Guarded secrets: the same `guarded` secret seeded in every namespace, the routes that could
// reach it, and the check that refusals changed nothing and planted nothing.

type Api = ReturnType<typeof as>
export type Route = Readonly<{ method: string; path: string; body?: unknown }>

export const ORIGINAL = { v: 'original' }

/** Every secret route of one namespace, aimed at its `guarded` secret (or at planting a new one). */
export const routesOf = (base: string): Route[] => [
  { method: 'POST', path: base, body: { key: 'planted', secret: { v: 'intruder' } } },
  { method: 'GET', path: `${base}/guarded` },
  { method: 'POST', path: `${base}/guarded`, body: { secret: { v: 'intruder' }, description: 'intruder' } },
  { method: 'DELETE', path: `${base}/guarded` },
  { method: 'GET', path: `${base}/guarded/history` },
]

export const NAMESPACES = ['/secrets', '/organizations/acme', '/organizations/globex', '/organizations/acme-corp']
export const CLIENTS_ROUTE: Route = { method: 'POST', path: '/clients', body: { name: 'intruder', admin: true } }
export const EVERY_ROUTE: Route[] = [...routesOf('/secrets'), ...routesOf('/organizations/acme'), CLIENTS_ROUTE]

/** Seeds the same `guarded` secret in every namespace, for checking later that refusals changed nothing. */
export const seedGuarded = async (admin: Api) => {
  for (const base of NAMESPACES) {
    const created = await admin.post(base, { key: 'guarded', secret: ORIGINAL })
    if (created.status !== 200) throw new Error(`seeding ${base} failed: ${created.status} ${created.text}`)
  }
}

/**
 * Every `guarded` secret still holds its first value and has only its creation in its history;
 * nothing was planted. Short-lived tokens: pass a function, and each namespace gets a fresh one.
 */
export const expectNothingChanged = async (adminApi: Api | (() => Promise<Api>)) => {
  for (const base of NAMESPACES) {
    const admin = typeof adminApi === 'function' ? await adminApi() : adminApi
    const read = await admin.get(`${base}/guarded`)
    expect({ base, status: read.status, secret: read.body?.secret }).toEqual({ base, status: 200, secret: ORIGINAL })
    const history = await admin.get(`${base}/guarded/history`)
    expect(history.body.events.map((event: { type: string }) => event.type)).toEqual(['SecretCreated'])
    expect({ base, planted: (await admin.get(`${base}/planted`)).status }).toEqual({ base, planted: 404 })
  }
}
