import { lambdaHandler } from './container'

/** `vault-{env}-get-organization-secret`, deployable to AWS Lambda as it is (handler: `get-organization-secret.handler`). */
export const handler = lambdaHandler('get-organization-secret')
