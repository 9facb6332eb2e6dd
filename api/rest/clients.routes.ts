import { Router } from 'express'
import { parseNewClient } from '../../app/clients/client-input'
import type { ClientsService } from '../../app/clients/clients.service'
import { jsonBody } from './json-body'
import { principalOf } from './principal'

/** `POST /clients` (admins only): registers a client; its secret is shown in this answer only. */
export const clientsRoutes = (clients: ClientsService): Router =>
  Router().post('/clients', jsonBody, async (req, res) => {
    const created = await clients.create(principalOf(res), parseNewClient(req.body))
    res.status(201).json(created)
  })
