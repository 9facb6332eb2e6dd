import type { ClientId, Principal, Scope } from '../common/types'
import { authorizeAdmin } from './authorization'
import { parseNewClient } from './clients/client-input'
import type { ClientsService } from './clients/clients.service'
import type { KeysAdmin } from './keys/keys-admin'
import { ABSENT, created, DELETED, done, outcomeOf, readInput, refusalOrRethrow, type Outcome } from './outcomes'
import { authorizeRequest, type SecretFields, type SecretRequest } from './secret-requests'
import { parseCreateInput, parseKey, parseListInput, parseRecoveryDays, parseTagKeys, parseTags, parseUpdateInput } from './secrets/secret-input'
import type { ScheduledDeletion } from './secrets/scheduled-deletion'
import type { SecretListing } from './secrets/secret-listing'
import type { SecretTags } from './secrets/secret-tags'
import type { SecretsService } from './secrets/secrets.service'

export type OperationsDeps = Readonly<{
  secrets: SecretsService
  listing: SecretListing
  tags: SecretTags
  deletion: ScheduledDeletion
  clients: ClientsService
  keysAdmin: KeysAdmin
}>

/** A secret operation: the caller (authenticated by the door) and the raw request, in; an outcome, out. */
export type SecretOperation = (principal: Principal, request: SecretRequest) => Promise<Outcome>
/** An admin operation: the caller, and the body (read only once the caller is known to be an admin). */
export type AdminOperation = (principal: Principal, body: () => unknown) => Promise<Outcome>

type Authorized = Readonly<{ actor: ClientId; scope: Scope; fields: Readonly<Record<string, unknown>> }>

// Parse the input, check the grant, run the use case, return an outcome: the steps every door
// shares. Nothing an operation throws escapes it; it comes back as a refusal (app/outcomes.ts).
const secretOperation =
  (fields: SecretFields, run: (call: Authorized) => Promise<Outcome>): SecretOperation =>
  async (principal, request) => {
    try {
      const authorizing = authorizeRequest(principal, request, fields)
      const { scope, fields: input } = authorizing instanceof Promise ? await authorizing : authorizing
      return await run({ actor: principal.clientId, scope, fields: input })
    } catch (error) {
      return refusalOrRethrow(error)
    }
  }

const adminOperation =
  (what: string, run: (body: () => unknown) => Promise<Outcome>): AdminOperation =>
  (principal, body) =>
    outcomeOf(async () => {
      authorizeAdmin(principal, what)
      return run(body)
    })

const CREATE: SecretFields = { address: [], body: ['key', 'secret', 'description', 'tags', 'organizationId'] }
const UPDATE: SecretFields = { address: ['key'], body: ['secret', 'description'] }
const BY_KEY: SecretFields = { address: ['key'], body: [] }
const TAG: SecretFields = { address: ['key'], body: ['tags'] }
const UNTAG: SecretFields = { address: ['key'], body: ['tagKeys'] }
// A listing's "body" is its query: a REST door hands over the query string's fields.
const SCHEDULE: SecretFields = { address: ['key'], body: ['recoveryWindowInDays'] }
const LIST: SecretFields = { address: [], body: ['prefix', 'tag', 'limit', 'nextToken'] }

/**
 * Every operation of the vault, written once: the REST routes, the fast read route and the
 * functions only turn their wire input into one of these calls and its outcome into their answer.
 */
export const createOperations = ({ secrets, listing, tags, deletion, clients, keysAdmin }: OperationsDeps) =>
  Object.freeze({
    createSecret: secretOperation(CREATE, async ({ actor, scope, fields }) => done(await secrets.create(actor, scope, parseCreateInput(fields)))),
    getSecret: secretOperation(BY_KEY, async ({ scope, fields }) => done(await secrets.get(scope, parseKey(fields.key)))),
    updateSecret: secretOperation(UPDATE, async ({ actor, scope, fields }) =>
      done(await secrets.update(actor, scope, parseKey(fields.key), parseUpdateInput(fields))),
    ),
    // Either way the secret is gone: `deleted` when it existed, `absent` when there was nothing.
    deleteSecret: secretOperation(BY_KEY, async ({ actor, scope, fields }) =>
      (await secrets.remove(actor, scope, parseKey(fields.key))) === 'deleted' ? DELETED : ABSENT,
    ),
    secretHistory: secretOperation(BY_KEY, async ({ scope, fields }) => done({ events: await secrets.history(scope, parseKey(fields.key)) })),
    /** The live secrets of a namespace, a page at a time: metadata and tags, never values. */
    listSecrets: secretOperation(LIST, async ({ scope, fields }) => done(await listing(scope, parseListInput(fields)))),
    tagSecret: secretOperation(TAG, async ({ actor, scope, fields }) => done(await tags.tag(actor, scope, parseKey(fields.key), parseTags(fields.tags)))),
    /** A delete 7-30 days ahead: until then the secret reads as gone and can be restored. */
    scheduleSecretDeletion: secretOperation(SCHEDULE, async ({ actor, scope, fields }) =>
      done(await deletion.schedule(actor, scope, parseKey(fields.key), parseRecoveryDays(fields.recoveryWindowInDays))),
    ),
    restoreSecret: secretOperation(BY_KEY, async ({ actor, scope, fields }) => done(await deletion.restore(actor, scope, parseKey(fields.key)))),
    untagSecret: secretOperation(UNTAG, async ({ actor, scope, fields }) =>
      done(await tags.untag(actor, scope, parseKey(fields.key), parseTagKeys(fields.tagKeys))),
    ),
    /** The client credentials grant: a token for a client id and its secret. */
    issueToken: (clientId: string, clientSecret: string): Promise<Outcome> =>
      outcomeOf(async () => done(await clients.issueToken(clientId, clientSecret))),
    registerClient: adminOperation('manage clients', async (body) => created(await clients.create(parseNewClient(await readInput(body))))),
    keysReport: adminOperation('manage keys', async () => done(await keysAdmin.report())),
    rewrapKeys: adminOperation('manage keys', async () => done({ rewrapped: await keysAdmin.rewrap() })),
  })

export type Operations = ReturnType<typeof createOperations>
export type SecretOperationName =
  | 'createSecret'
  | 'getSecret'
  | 'updateSecret'
  | 'deleteSecret'
  | 'secretHistory'
  | 'listSecrets'
  | 'tagSecret'
  | 'untagSecret'
  | 'scheduleSecretDeletion'
  | 'restoreSecret'
