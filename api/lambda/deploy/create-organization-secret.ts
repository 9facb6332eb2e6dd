import { lambdaHandler } from './container'

/** `vault-{env}-create-organization-secret`, deployable to AWS Lambda as it is (handler: `create-organization-secret.handler`). */
export const handler = lambdaHandler('create-organization-secret')
