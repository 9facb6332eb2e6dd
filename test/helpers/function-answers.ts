import type { Invocation } from './lambda'

// Answer checks for function invocations: a refusal with its status code, an answer with its body.

export const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

/** The function answered (HTTP 200, no function error) with this status code and a message. */
export const expectRefusedWith = (invocation: Invocation, statusCode: number) => {
  expect(invocation.httpStatus).toBe(200)
  expect(invocation.functionError).toBeUndefined()
  expect(invocation.result).toEqual({ statusCode, message: expect.any(String) })
  expect(invocation.result.message).not.toBe('')
}

/** The function answered with this status code and the body the guide gives it. */
export const expectAnswered = (invocation: Invocation, result: Record<string, unknown>) => {
  expect(invocation.httpStatus).toBe(200)
  expect(invocation.statusCode).toBe(200)
  expect(invocation.functionError).toBeUndefined()
  expect(invocation.result).toEqual(result)
}

export const withAnyTimestamp = (events: Array<Record<string, unknown>>) =>
  events.map((event) => ({ ...event, timestamp: expect.stringMatching(ISO_TIMESTAMP) }))
