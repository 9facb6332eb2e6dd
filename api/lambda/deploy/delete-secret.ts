import { lambdaHandler } from './container'

/** `vault-{env}-delete-secret`, deployable to AWS Lambda as it is (handler: `delete-secret.handler`). */
export const handler = lambdaHandler('delete-secret')
