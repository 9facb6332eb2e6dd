import { TextDecoder } from 'node:util'
import express, { type NextFunction, type Request, type Response } from 'express'
import { UnsupportedMediaTypeError, ValidationError } from '../../common/errors'

/** The largest request body the API reads; past it the answer is 413. */
export const MAX_BODY_BYTES = 128 * 1024

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** The body as text; throws (a TypeError) on bytes that are not UTF-8 instead of replacing them. */
export const decodeStrictUtf8 = (body: Buffer): string => strictUtf8.decode(body)

// SECURITY: the parser would quietly replace bytes that are not UTF-8, and the vault would then
// store a different password than the one sent. Such a body is refused instead (RFC 8259 8.1).
const requireUtf8 = (_req: Request, _res: Response, body: Buffer) => {
  try {
    decodeStrictUtf8(body)
  } catch {
    throw new ValidationError('The request body is not valid UTF-8')
  }
}

const parseJson = express.json({ limit: MAX_BODY_BYTES, strict: true, type: () => true, verify: requireUtf8 })

/** Write routes take JSON only: another content type is refused before anything is read. */
export const jsonBody = (req: Request, res: Response, next: NextFunction) => {
  if (!req.is('application/json')) {
    return next(new UnsupportedMediaTypeError('Content-Type must be application/json'))
  }
  parseJson(req, res, next)
}
