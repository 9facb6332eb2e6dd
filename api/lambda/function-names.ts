/** The guide's eight functions, named without their environment prefix. */
export const FUNCTION_IDS = [
  'create-secret',
  'get-secret',
  'update-secret',
  'delete-secret',
  'create-organization-secret',
  'get-organization-secret',
  'update-organization-secret',
  'delete-organization-secret',
] as const

export type FunctionId = (typeof FUNCTION_IDS)[number]

/** Where the functions live: the environment's prefix, and the region and account of their ARNs. */
export type FunctionsNaming = Readonly<{ env: string; aws: Readonly<{ region: string; accountId: string }> }>

/** `vault-{env}-{function}`, as the guide names them. */
export const functionName = (env: string, id: FunctionId): string => `vault-${env}-${id}`

export const functionArn = (naming: FunctionsNaming, id: FunctionId): string =>
  `arn:aws:lambda:${naming.aws.region}:${naming.aws.accountId}:function:${functionName(naming.env, id)}`

// What the Invoke API accepts as FunctionName: the name, the partial ARN `{account}:function:{name}`
// or the full ARN; a qualifier may follow the name. Only `$LATEST` exists here.
const NAME_FORMS = /^(?:(?:arn:aws:lambda:(?<region>[a-z0-9-]+):)?(?<account>\d{12}):function:)?(?<name>[A-Za-z0-9_-]{1,64})(?::(?<qualifier>[A-Za-z0-9$_-]{1,128}))?$/

/**
 * The function a FunctionName (and optional Qualifier) names in this vault's environment, or
 * null: another environment's prefix, another region or account, or an unknown name.
 */
export const resolveFunction = (naming: FunctionsNaming, requested: string, qualifier: string | null): FunctionId | null => {
  const match = NAME_FORMS.exec(requested)
  if (match?.groups === undefined) return null
  const { region, account, name, qualifier: inName } = match.groups
  if (region !== undefined && region !== naming.aws.region) return null
  if (account !== undefined && account !== naming.aws.accountId) return null
  for (const version of [inName, qualifier]) {
    if (version !== undefined && version !== null && version !== '$LATEST') return null
  }
  return FUNCTION_IDS.find((id) => functionName(naming.env, id) === name) ?? null
}
