import { composeFunction, isDeploymentError } from '../../../compose'
import { createLambdaRuntime } from '../runtime'

/**
 * The one runtime of a container: the deploy entries beside this file are process entries (as
 * main.ts is for the server), so they, and only they under api/, reach the wiring in compose.ts.
 */
export const lambdaRuntime = createLambdaRuntime({ open: composeFunction, isDeploymentError })

export const lambdaHandler = lambdaRuntime.handler

/** Closes the store connections, for a host that stops a container cleanly (and for tests). */
export const closeLambdaRuntime = lambdaRuntime.close
