import { lambdaHandler } from './container'

/** `vault-{env}-create-secret`, deployable to AWS Lambda as it is (handler: `create-secret.handler`). */
export const handler = lambdaHandler('create-secret')
