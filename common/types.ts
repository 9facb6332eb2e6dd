/** Ids get their own types so a key is never passed where an organization id belongs. */
export type SecretKey = string & { readonly __brand: 'SecretKey' }
export type OrganizationId = string & { readonly __brand: 'OrganizationId' }
export type AggregateId = string & { readonly __brand: 'AggregateId' }
export type ClientId = string & { readonly __brand: 'ClientId' }

/** Every client id, generated (`EV` + 18 characters) or configured for the bootstrap admin. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{2,127}$/

/** Where a secret lives: the standard namespace, or one organization's. */
export type Scope =
  | { readonly kind: 'standard' }
  | { readonly kind: 'organization'; readonly organizationId: OrganizationId }

/** A plain JSON object: what a secret value is. */
export type JsonObject = { [name: string]: JsonValue }
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject

/** Who is calling: the authenticated client and what it may touch. */
export type Principal = Readonly<{
  clientId: ClientId
  admin: boolean
  secrets: boolean
  organizations: readonly OrganizationId[]
}>

export const STANDARD: Scope = Object.freeze({ kind: 'standard' })

export const organizationScope = (organizationId: OrganizationId): Scope =>
  Object.freeze({ kind: 'organization', organizationId })

/** The organization id of a scope, or null for standard secrets. */
export const organizationOf = (scope: Scope): OrganizationId | null =>
  scope.kind === 'organization' ? scope.organizationId : null
