import type { Operations, SecretOperationName } from '../../app/operations'
import type { Namespace } from '../../app/secret-requests'
import type { Principal } from '../../common/types'
import type { Logger } from '../../lib/logger'
import type { FunctionId } from './function-names'
import { resultOf, type FunctionResult } from './function-result'

/** One function: the invocation's payload and who invokes it, in; the guide's body, out. */
export type FunctionHandler = (event: unknown, principal: Principal) => Promise<FunctionResult>

/** Which operation each of the guide's functions is, and in which namespace. */
const FUNCTIONS: Readonly<Record<FunctionId, readonly [SecretOperationName, Namespace]>> = {
  'create-secret': ['createSecret', 'standard'],
  'get-secret': ['getSecret', 'standard'],
  'update-secret': ['updateSecret', 'standard'],
  'delete-secret': ['deleteSecret', 'standard'],
  'create-organization-secret': ['createSecret', 'organization'],
  'get-organization-secret': ['getSecret', 'organization'],
  'update-organization-secret': ['updateSecret', 'organization'],
  'delete-organization-secret': ['deleteSecret', 'organization'],
}

/**
 * The eight functions of the guide, over the same operations as the REST routes: one
 * implementation of every rule, two doors. A payload holds every field, `organizationId` included.
 */
export const createFunctionHandlers = (operations: Operations, log: Logger): Readonly<Record<FunctionId, FunctionHandler>> =>
  Object.freeze(
    Object.fromEntries(
      Object.entries(FUNCTIONS).map(([id, [name, namespace]]) => [
        id,
        async (event: unknown, principal: Principal) => resultOf(await operations[name](principal, { namespace, body: () => event }), log),
      ]),
    ) as Record<FunctionId, FunctionHandler>,
  )
