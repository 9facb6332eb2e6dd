import express, { type NextFunction, type Request, type Response } from 'express'
import { decodeStrictUtf8 } from '../../lib/utf8'
import { RestRefusal } from './rest-refusal'

/** The largest request body the API reads; past it the answer is 413. */
export const MAX_BODY_BYTES = 128 * 1024

// SECURITY: the parser would quietly replace bytes that are not UTF-8, and the vault would then
// store a different password than the one sent. Such a body is refused instead (RFC 8259 8.1).
const requireUtf8 = (_req: Request, _res: Response, body: Buffer) => {
  try {
    decodeStrictUtf8(body)
  } catch {
    throw new RestRefusal(400, 'The request body is not valid UTF-8')
  }
}

const parseJson = express.json({ limit: MAX_BODY_BYTES, strict: true, type: () => true, verify: requireUtf8 })

/**
 * The body of a write route, read when the operation asks for it (after authorization): JSON
 * only; another content type is refused before anything is read.
 */
export const readJsonBody = (req: Request, res: Response): Promise<unknown> =>
  new Promise((resolve, reject) => {
    if (!req.is('application/json')) return reject(new RestRefusal(400, 'Content-Type must be application/json'))
    parseJson(req, res, ((error?: unknown) => (error === undefined || error === null ? resolve(req.body) : reject(error))) as NextFunction)
  })
