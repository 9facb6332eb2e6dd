import { Router } from 'express'
import type { Operations } from '../../app/operations'
import { localsOf } from '../http/request-context'
import { answer } from './answers'
import { readJsonBody } from './json-body'
import { principalOf } from './principal'

/** `POST /clients` (admins only): registers a client; its secret is shown in this answer only. */
export const clientsRoutes = (operations: Operations): Router =>
  Router().post('/clients', async (req, res) => {
    answer(res, localsOf(res), await operations.registerClient(principalOf(res), () => readJsonBody(req, res)))
  })
