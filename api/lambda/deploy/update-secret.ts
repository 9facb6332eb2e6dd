import { lambdaHandler } from './container'

/** `vault-{env}-update-secret`, deployable to AWS Lambda as it is (handler: `update-secret.handler`). */
export const handler = lambdaHandler('update-secret')
