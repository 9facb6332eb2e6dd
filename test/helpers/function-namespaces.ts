// The guide's functions by namespace: their names and ARNs, and the REST paths of the same secrets.

export type Verb = 'create' | 'get' | 'update' | 'delete'

export const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

export const functionName = (id: string): string => `vault-dev-${id}`
export const functionArn = (id: string): string => `arn:aws:lambda:us-east-1:000000000000:function:${functionName(id)}`

/** One namespace as the functions (payload fields) and REST (paths) address it. */
export type Namespace = Readonly<{
  label: string
  fn: Readonly<Record<Verb, string>>
  /** What the payload carries to name the namespace. */
  scope: Readonly<Record<string, string>>
  rest: string
  /** The fields every answer about a secret has: id, organizationId for organization secrets, ern, arn. */
  identity: (key: string) => Record<string, unknown>
}>

export const namespaceOf = (organizationId?: string): Namespace => {
  const suffix = organizationId === undefined ? 'secret' : 'organization-secret'
  const arnName = (key: string) => (organizationId === undefined ? key : `${organizationId}/${key}`)
  return {
    label: organizationId === undefined ? 'standard secrets' : `organization secrets (${organizationId})`,
    fn: {
      create: functionName(`create-${suffix}`),
      get: functionName(`get-${suffix}`),
      update: functionName(`update-${suffix}`),
      delete: functionName(`delete-${suffix}`),
    },
    scope: organizationId === undefined ? {} : { organizationId },
    rest: organizationId === undefined ? '/secrets' : `/organizations/${organizationId}`,
    identity: (key) => ({
      id: key,
      ...(organizationId === undefined ? {} : { organizationId }),
      ern: organizationId === undefined ? `ern:vault:dev:${key}` : `ern:vault:dev:${organizationId}:${key}`,
      arn: expect.stringMatching(new RegExp(`^arn:aws:secretsmanager:us-east-1:000000000000:secret:${escape(arnName(key))}-[A-Za-z0-9]{6}$`)),
    }),
  }
}
