import { lambdaHandler } from './container'

/** `vault-{env}-delete-organization-secret`, deployable to AWS Lambda as it is (handler: `delete-organization-secret.handler`). */
export const handler = lambdaHandler('delete-organization-secret')
