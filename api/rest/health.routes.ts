import { Router } from 'express'

/** `GET /health`: 200 once the store answers, 503 while it does not. No authentication. */
export const healthRoutes = (storeIsReady: () => Promise<boolean>): Router =>
  Router().get('/health', async (_req, res) => {
    if (await storeIsReady()) return void res.json({ status: 'ok' })
    res.status(503).json({ status: 'unavailable', message: 'The secret store is not ready' })
  })
