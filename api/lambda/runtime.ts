import type { Operations } from '../../app/operations'
import { refusalOf } from '../../app/outcomes'
import type { ClientId, Principal } from '../../common/types'
import { createLogger, type Logger } from '../../lib/logger'
import { resultOf, type FunctionResult } from './function-result'
import { functionName, type FunctionId } from './function-names'
import { createFunctionHandlers, type FunctionHandler } from './handlers'

/** The part of AWS Lambda's context object a handler reads. */
export type LambdaContext = Readonly<{ functionName?: string; awsRequestId?: string }>

export type LambdaHandler = (event: unknown, context?: LambdaContext) => Promise<FunctionResult>

/** What a container opens once: its environment's name, a log, the operations, and how to close them. */
export type OpenedFunctions = Readonly<{ env: string; log: Logger; operations: Operations; close: () => Promise<void> }>

export type LambdaRuntimeDeps = Readonly<{
  open: () => Promise<OpenedFunctions>
  /** Errors of a deployment that cannot work (configuration, keys): thrown to AWS as they are. */
  isDeploymentError: (error: unknown) => boolean
}>

type Runtime = Readonly<{ env: string; handlers: Readonly<Record<FunctionId, FunctionHandler>>; close: () => Promise<void> }>

/**
 * DESIGN: the guide's functions need no vault credentials ("security can be achieved by other
 * means within AWS": IAM decides who may invoke them), so a deployed function acts with every
 * grant, and the history names the function as the actor.
 */
const deployedPrincipal = (actor: string): Principal =>
  Object.freeze({ clientId: actor as ClientId, admin: true, secrets: true, organizations: Object.freeze([]) })

/**
 * The functions as AWS Lambda runs them: opened once per container, on the first invocation,
 * and kept for the ones that follow (AWS reuses a container for many invocations). A failed
 * open is retried by the next invocation.
 */
export const createLambdaRuntime = (deps: LambdaRuntimeDeps) => {
  let runtime: Promise<Runtime> | null = null
  const openRuntime = async (): Promise<Runtime> => {
    const opened = await deps.open()
    return Object.freeze({ env: opened.env, handlers: createFunctionHandlers(opened.operations, opened.log), close: opened.close })
  }

  /** `export const handler = runtime.handler('get-secret')`: one function, ready for AWS Lambda. */
  const handler =
    (id: FunctionId): LambdaHandler =>
    async (event, context) => {
      const opening = (runtime ??= openRuntime())
      let opened: Runtime
      try {
        opened = await opening
      } catch (error) {
        if (runtime === opening) runtime = null
        // A store that cannot be reached is a 503 result the caller may retry, as on REST.
        const refusal = refusalOf(error)
        if (refusal.kind === 'unavailable') return resultOf(refusal, createLogger('info'))
        // A deployment that cannot work fails loudly (AWS reports it to the caller and logs it),
        // with our own message only: a driver's text might quote SQL or a connection string.
        if (deps.isDeploymentError(error)) throw error
        throw new Error(`The function could not start (${error instanceof Error ? error.name : typeof error})`)
      }
      const actor = context?.functionName ?? functionName(opened.env, id)
      return opened.handlers[id](event, deployedPrincipal(actor))
    }

  /** Closes the store connections, for a host that stops a container cleanly (and for tests). */
  const close = async (): Promise<void> => {
    const opened = runtime
    runtime = null
    await opened?.then((it) => it.close()).catch(() => undefined)
  }

  return Object.freeze({ handler, close })
}
