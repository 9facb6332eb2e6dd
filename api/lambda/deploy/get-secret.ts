import { lambdaHandler } from './container'

/** `vault-{env}-get-secret`, deployable to AWS Lambda as it is (handler: `get-secret.handler`). */
export const handler = lambdaHandler('get-secret')
