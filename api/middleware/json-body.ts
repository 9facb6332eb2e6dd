import express, { type NextFunction, type Request, type Response } from 'express'
import { UnsupportedMediaTypeError } from '../../common/errors'

/** The largest request body the API reads; past it the answer is 413. */
export const MAX_BODY_BYTES = 128 * 1024

const parseJson = express.json({ limit: MAX_BODY_BYTES, strict: true, type: () => true })

/** Write routes take JSON only: another content type is refused before anything is read. */
export const jsonBody = (req: Request, res: Response, next: NextFunction) => {
  if (!req.is('application/json')) {
    return next(new UnsupportedMediaTypeError('Content-Type must be application/json'))
  }
  parseJson(req, res, next)
}
