import express, { type NextFunction, type Request, type Response } from 'express'
import { LambdaApiError } from './lambda-api-error'

/** AWS Lambda's limit on a synchronous invocation's payload (6 MiB); past it the answer is 413. */
export const MAX_INVOCATION_BYTES = 6 * 1024 * 1024

// Any content type: the AWS SDK sends invocation payloads as application/octet-stream. The
// bytes are kept as they came, since the signature covers them.
const readRaw = express.raw({ limit: MAX_INVOCATION_BYTES, type: () => true })

/** Reads an invocation's payload as bytes, answering the Invoke API's own errors. */
export const invocationBody = (req: Request, res: Response, next: NextFunction) => {
  readRaw(req, res, (error?: unknown) => {
    if (error === undefined || error === null) {
      if (!Buffer.isBuffer(req.body)) req.body = Buffer.alloc(0)
      return next()
    }
    const status = (error as { status?: unknown }).status
    if (status === 413) {
      return next(new LambdaApiError(413, 'RequestTooLargeException', `Request must be smaller than ${MAX_INVOCATION_BYTES} bytes for the InvokeFunction operation`))
    }
    next(new LambdaApiError(400, 'InvalidRequestContentException', 'The request body could not be read'))
  })
}
