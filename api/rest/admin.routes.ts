import { Router } from 'express'
import type { Operations } from '../../app/operations'
import { localsOf } from '../http/request-context'
import { answer } from './answers'
import { principalOf } from './principal'

const NO_BODY = () => undefined

/**
 * `GET /admin/keys`: what each master key still wraps (a rewrap's progress); `POST /admin/rewrap`:
 * moves every shard key and client secret under the current master key, answering when done.
 */
export const adminRoutes = (operations: Operations): Router =>
  Router()
    .get('/admin/keys', async (_req, res) => answer(res, localsOf(res), await operations.keysReport(principalOf(res), NO_BODY)))
    .post('/admin/rewrap', async (_req, res) => answer(res, localsOf(res), await operations.rewrapKeys(principalOf(res), NO_BODY)))
