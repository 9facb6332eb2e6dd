import type { Reply } from './api'
import type { Answer } from './raw-socket'
import { parseJson } from './text'

// Answer checks: what an answer to bad or hostile input must not carry (a stack trace, SQL, a
// submitted secret value) and the shape an error must have (JSON with a string `message`).

const KiB = 1024

/** A stack frame, in Node's format or a file position. */
export const STACK_FRAME = /\bat \S+ \(|\bat (?:\/|file:|node:)|\.(?:js|ts):\d+:\d+/
/** SQL, as the bad input suite looks for it. */
export const SQL = /\b(?:SELECT|INSERT|UPDATE|DELETE FROM|WHERE|CREATE TABLE|ALTER TABLE)\b|\bpg_|\bsyntax error at\b|\brelation "/
/** SQL, as the hostile input suite looks for it (statements, PostgreSQL's own words, the event store's schema). */
export const SQL_STATEMENT = /\b(?:SELECT|INSERT INTO|UPDATE \S+ SET|DELETE FROM|WHERE|CREATE TABLE|ALTER TABLE)\b|\bpg_|\bsyntax error at\b|\brelation "|\beventstore\./

/** What is wrong with an answer to bad input, besides its status: [] when nothing. */
export const replyProblems = (reply: Reply, requireJson: boolean, markers: readonly string[]): string[] => {
  const problems: string[] = []
  if (requireJson) {
    if (!/^application\/json\b/.test(reply.headers.get('content-type') ?? '')) problems.push('not a JSON response')
    if (typeof reply.body?.message !== 'string' || reply.body.message === '') problems.push('no string message')
    if (typeof reply.body === 'object' && reply.body !== null && 'stack' in reply.body) problems.push('a stack field')
  }
  if (STACK_FRAME.test(reply.text)) problems.push('a stack trace')
  if (SQL.test(reply.text)) problems.push('SQL')
  for (const value of markers) if (reply.text.includes(value)) problems.push(`echoes the submitted value ${value}`)
  return problems
}

export type RawAnswerContext = Readonly<{
  method: string
  /** The request could write and carries something that must refuse it: a 4xx is required. */
  mustRefuse: boolean
  /** The size of the request's head: past the server's header limits it may reset the connection. */
  headBytes: number
  /** Submitted secret values carry this mark; no answer may. */
  mark: string
}>

/** What is wrong with an answer read off a raw socket: [] when nothing. */
export const rawAnswerProblems = (answer: Answer, { method, mustRefuse, headBytes, mark }: RawAnswerContext): string[] => {
  if (answer.kind === 'none') {
    // Past the server's header limits, it may reset the connection instead of answering 431.
    const overLimits = headBytes > 15 * KiB && !answer.reason.startsWith('no answer')
    return overLimits ? [] : [`no answer (${answer.reason})`]
  }
  const problems: string[] = []
  const { status, headers, text: body } = answer
  if (status >= 500) problems.push(`answered ${status}`)
  if (mustRefuse && status < 400) problems.push(`accepted (${status}) a request that must be refused`)
  if (status >= 400) {
    const parsed = parseJson(body)
    // The vault's own answers carry a request id; the HTTP parser's own 400 and 431 do not.
    if (headers.has('x-request-id') && method !== 'HEAD') {
      if (!/^application\/json\b/.test(headers.get('content-type') ?? '')) problems.push('an error that is not JSON')
      if (typeof (parsed as { message?: unknown } | undefined)?.message !== 'string' || (parsed as { message: string }).message === '') {
        problems.push('an error without a string message')
      }
    }
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { message?: unknown }).message !== 'string') {
      problems.push('a JSON error without a string message')
    }
    if (typeof parsed === 'object' && parsed !== null && 'stack' in parsed) problems.push('a stack field')
    if (STACK_FRAME.test(body)) problems.push('a stack trace')
    if (SQL_STATEMENT.test(body)) problems.push('SQL')
    if (body.includes(mark)) problems.push('echoes a submitted secret value')
  }
  return problems
}

/** A refusal with `status` and a non-empty string message. */
export const expectRefusal = (reply: Reply, status: number) => {
  expect(reply.status).toBe(status)
  expect(reply.body?.message).toEqual(expect.any(String))
  expect(reply.body.message).not.toBe('')
}
