import { constantTimeEqual, openClientSecret, randomText, sealClientSecret, type MasterKeyRing } from '../../common/encryption'
import { UnauthenticatedError } from '../../common/errors'
import { CLIENT_ID_PATTERN, type ClientId, type OrganizationId, type Principal } from '../../common/types'
import type { Pool } from '../../store/database'
import { findClient, hasAdminClient, insertClient, upsertAdminClient, type ClientRecord } from '../../store/clients.repository'
import type { NewClientInput } from './client-input'
import type { AccessToken, Tokens } from './tokens'

/** A client as created: the secret is shown this once and never again. */
export type CreatedClient = Readonly<{
  clientId: string
  clientSecret: string
  name: string
  organizations: readonly string[]
  secrets: boolean
  admin: boolean
}>

export type ClientsService = Readonly<{
  authenticate: (clientId: string, clientSecret: string) => Promise<Principal>
  issueToken: (clientId: string, clientSecret: string) => Promise<AccessToken>
  /** Registers a client (app/operations.ts lets admins only). */
  create: (input: NewClientInput) => Promise<CreatedClient>
  /** The secret of a registered client (the functions interface checks signatures with it). */
  secretOf: (clientId: string) => Promise<{ principal: Principal; clientSecret: string } | null>
  ensureBootstrapAdmin: (bootstrap: { clientId: string; clientSecret: string } | null) => Promise<CreatedClient | null>
}>

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

const principalOf = (client: ClientRecord): Principal =>
  Object.freeze({
    clientId: client.clientId as ClientId,
    admin: client.admin,
    secrets: client.secrets,
    organizations: Object.freeze(client.organizations as OrganizationId[]),
  })

export const createClientsService = (pool: Pool, ring: MasterKeyRing, tokens: Tokens): ClientsService => {
  // Sealed under the current master key; opened with whichever key of the ring sealed it (app/keys/rewrap.ts).
  const sealSecret = (clientId: string, secret: string) => sealClientSecret(ring, clientId, secret)
  const openSecret = (client: ClientRecord) => openClientSecret(ring, client.clientId, client.sealedSecret)
  // Compared even for an unknown client, so the answer takes as long either way.
  const decoy = randomText(SECRET_ALPHABET, 40)

  // Only what could be a client id is looked up: anything else cannot name a client.
  const lookUp = (clientId: string) => (CLIENT_ID_PATTERN.test(clientId) ? findClient(pool, clientId) : Promise.resolve(null))

  const authenticate: ClientsService['authenticate'] = async (clientId, clientSecret) => {
    const client = await lookUp(clientId)
    const expected = client === null ? decoy : openSecret(client)
    // SECURITY: constant-time comparison; one message for unknown client and wrong secret.
    if (!constantTimeEqual(expected, clientSecret) || client === null) {
      throw new UnauthenticatedError('Invalid client credentials')
    }
    return principalOf(client)
  }

  const register = async (name: string, grants: Omit<NewClientInput, 'name'>): Promise<CreatedClient> => {
    const clientId = `EV${randomText(ID_ALPHABET, 18)}`
    const clientSecret = randomText(SECRET_ALPHABET, 40)
    await insertClient(pool, { clientId, name, sealedSecret: sealSecret(clientId, clientSecret), ...grants })
    return Object.freeze({ clientId, clientSecret, name, ...grants })
  }

  return Object.freeze({
    authenticate,
    issueToken: async (clientId, clientSecret) => tokens.issue(await authenticate(clientId, clientSecret)),
    create: async (input) => {
      const { name, ...grants } = input
      return register(name, grants)
    },
    secretOf: async (clientId) => {
      const client = await lookUp(clientId)
      return client === null ? null : { principal: principalOf(client), clientSecret: openSecret(client) }
    },
    ensureBootstrapAdmin: async (bootstrap) => {
      if (bootstrap !== null) {
        const { clientId, clientSecret } = bootstrap
        await upsertAdminClient(pool, {
          clientId,
          name: 'bootstrap admin',
          sealedSecret: sealSecret(clientId, clientSecret),
          admin: true,
          secrets: true,
          organizations: [],
        })
        return null
      }
      if (await hasAdminClient(pool)) return null
      return register('generated admin', { organizations: [], secrets: true, admin: true })
    },
  })
}
