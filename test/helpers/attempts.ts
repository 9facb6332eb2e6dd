import type { Reply } from './api'
import type { RawClient, RawOptions } from './raw-http'

// Requests as labelled attempts, and the checks on their answers: exactly a status, some 4xx, or
// turned away (a 4xx or the connection closed), each with nothing an answer must not carry.

export type Attempt = Readonly<{ label: string; send: () => Promise<Reply> }>
export type Outcome = Readonly<{ request: string; status: number; problems: string[] }>

/** What is wrong with an answer besides its status; requireJson: it must be a JSON error with a message. */
export type ProblemsOf = (reply: Reply, requireJson?: boolean) => string[]

const labelOf = (method: string, path: string) => `${method} ${path.length > 120 ? `${path.slice(0, 120)}...` : path}`

/** Attempts through `client`: as given, or with a JSON body. */
export const attemptsThrough = (client: RawClient) => ({
  attempt: (method: string, path: string, options: RawOptions = {}): Attempt => ({
    label: labelOf(method, path),
    send: () => client.send(method, path, options),
  }),
  attemptJson: (method: string, path: string, body: string | Buffer, options: RawOptions = {}): Attempt => ({
    label: labelOf(method, path),
    send: () => client.sendJson(method, path, body, options),
  }),
})

/** The checks on attempts, with `problemsOf` telling what an answer must not carry. */
export const answerChecks = (problemsOf: ProblemsOf) => {
  const run = async (attempts: readonly Attempt[], requireJson = true): Promise<Array<Outcome & { reply: Reply }>> =>
    Promise.all(
      attempts.map(async ({ label, send: go }) => {
        const reply = await go()
        return { request: label, status: reply.status, problems: problemsOf(reply, requireJson), reply }
      }),
    )

  /** Every attempt answered with exactly `status`, a JSON message, and nothing it should not carry. */
  const expectRefused = async (attempts: readonly Attempt[], status: number) => {
    const outcomes = (await run(attempts)).map(({ request: label, status: got, problems }) => ({ request: label, status: got, problems }))
    expect(outcomes).toEqual(attempts.map(({ label }) => ({ request: label, status, problems: [] })))
  }

  /** Every attempt answered with some 4xx (the contract names no exact one). */
  const expectClientError = async (attempts: readonly Attempt[], requireJson = true) => {
    const outcomes = (await run(attempts, requireJson)).map(({ request: label, status, problems }) => ({
      request: label,
      clientError: status >= 400 && status < 500 ? true : status,
      problems,
    }))
    expect(outcomes).toEqual(attempts.map(({ label }) => ({ request: label, clientError: true, problems: [] })))
  }

  /**
   * Requests past the server's header limits: a 4xx, or the connection closed on them (the server
   * may reset a connection it stops reading, and the 4xx with it); never a 5xx.
   */
  const expectTurnedAway = async (attempts: readonly Attempt[]) => {
    const outcomes = await Promise.all(
      attempts.map(async ({ label, send: go }) => {
        try {
          const reply = await go()
          const turnedAway = reply.status >= 400 && reply.status < 500 ? true : reply.status
          return { request: label, turnedAway, problems: problemsOf(reply, false) }
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code
          return { request: label, turnedAway: code === 'ECONNRESET' || code === 'EPIPE' ? true : String(error), problems: [] }
        }
      }),
    )
    expect(outcomes).toEqual(attempts.map(({ label }) => ({ request: label, turnedAway: true, problems: [] })))
  }

  return { run, expectRefused, expectClientError, expectTurnedAway }
}
