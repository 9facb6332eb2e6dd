import { lambdaHandler } from './container'

/** `vault-{env}-update-organization-secret`, deployable to AWS Lambda as it is (handler: `update-organization-secret.handler`). */
export const handler = lambdaHandler('update-organization-secret')
