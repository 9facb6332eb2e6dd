import type { ServerResponse } from 'node:http'
import type { NextFunction, Request, Response } from 'express'
import { isRefusal, logRefusal, refusalOf, type Outcome, type Refusal } from '../../app/outcomes'
import { GUIDE_STATUS } from '../guide-statuses'
import { localsOf, type Locals } from '../http/request-context'
import { sendJson } from '../http/respond'
import { inputRefusalOf } from './rest-refusal'

type Context = Pick<Locals, 'log' | 'requestId'>

const sendRefusal = (res: ServerResponse, { log, requestId }: Context, refusal: Refusal): void => {
  logRefusal(log, refusal)
  const status = GUIDE_STATUS[refusal.kind]
  if (refusal.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(refusal.retryAfterSeconds))
  if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer')
  sendJson(res, status, refusal.kind === 'internal' ? { message: refusal.message, requestId } : { message: refusal.message })
}

/**
 * The REST door's one table from outcome to answer: the guide's status (api/guide-statuses.ts),
 * the value as the body, no body for a delete, `{ message }` for a refusal (and the request id
 * for an internal error, so an operator can find its log line).
 */
export const answer = (res: ServerResponse, context: Context, outcome: Outcome): void => {
  if (res.headersSent) return void res.end()
  if (isRefusal(outcome)) return sendRefusal(res, context, outcome)
  const status = GUIDE_STATUS[outcome.kind]
  if (outcome.kind === 'done' || outcome.kind === 'created') return sendJson(res, status, outcome.value)
  res.statusCode = status
  res.end()
}

/**
 * An error the door met on its own (its input refusals) or from authentication, as an answer.
 * SECURITY: anything unclassified is an internal error, answered without its text (app/outcomes.ts).
 */
export const sendError = (res: ServerResponse, context: Context, error: unknown): void => {
  if (res.headersSent) return void res.end()
  const input = inputRefusalOf(error)
  if (input !== null) return sendJson(res, input.status, { message: input.message })
  sendRefusal(res, context, refusalOf(error))
}

/** The express error middleware: every error express sees goes through `sendError`. */
export const errorHandler = (error: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(res, localsOf(res), error)
