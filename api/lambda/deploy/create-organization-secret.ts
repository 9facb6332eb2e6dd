import { lambdaHandler } from '../runtime'

/** `vault-{env}-create-organization-secret`, deployable to AWS Lambda as it is (handler: `create-organization-secret.handler`). */
export const handler = lambdaHandler('create-organization-secret')
