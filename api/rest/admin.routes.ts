import { Router } from 'express'
import type { KeysAdmin } from '../../app/keys/keys-admin'
import { principalOf } from './principal'

/**
 * `GET /admin/keys`: what each master key still wraps (a rewrap's progress); `POST /admin/rewrap`:
 * moves every shard key and client secret under the current master key, answering when done.
 */
export const adminRoutes = (keys: KeysAdmin): Router =>
  Router()
    .get('/admin/keys', async (_req, res) => {
      res.status(200).json(await keys.report(principalOf(res)))
    })
    .post('/admin/rewrap', async (_req, res) => {
      res.status(200).json({ rewrapped: await keys.rewrap(principalOf(res)) })
    })
