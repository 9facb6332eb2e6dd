import { isRefusal, logRefusal, type Outcome } from '../../app/outcomes'
import type { Logger } from '../../lib/logger'
import { GUIDE_STATUS } from '../guide-statuses'

/** What a function answers: the guide's body with the status code inside it. */
export type FunctionResult = Readonly<{ statusCode: number; [field: string]: unknown }>

/**
 * The function door's one table from outcome to result: the guide's status in `statusCode`
 * (api/guide-statuses.ts), beside the value's fields, alone for a delete, beside `message` for
 * a refusal. A function never throws: every refusal is a result, as on REST it is an answer.
 */
export const resultOf = (outcome: Outcome, log: Logger): FunctionResult => {
  const statusCode = GUIDE_STATUS[outcome.kind]
  if (isRefusal(outcome)) {
    logRefusal(log, outcome)
    return { statusCode, message: outcome.message }
  }
  if (outcome.kind === 'done' || outcome.kind === 'created') return { ...(outcome.value as object), statusCode }
  return { statusCode }
}
