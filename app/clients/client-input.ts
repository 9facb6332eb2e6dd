import { ValidationError } from '../../common/errors'
import type { OrganizationId } from '../../common/types'
import { isStorableText, parseBody, parseOrganizationId } from '../secrets/secret-input'

export type NewClientInput = Readonly<{
  name: string
  organizations: readonly OrganizationId[]
  secrets: boolean
  admin: boolean
}>

const MAX_ORGANIZATIONS = 1000

/** `POST /clients` body: `{ name, organizations?: [ids], secrets?: boolean, admin?: boolean }`. */
export const parseNewClient = (body: unknown): NewClientInput => {
  const fields = parseBody(body, ['name', 'organizations', 'secrets', 'admin'])
  const { name, organizations = [], secrets = false, admin = false } = fields
  if (typeof name !== 'string' || name.trim() === '' || name.length > 128 || !isStorableText(name)) {
    throw new ValidationError('name must be a non-empty string of at most 128 characters, without NUL or unpaired surrogates')
  }
  if (!Array.isArray(organizations) || organizations.length > MAX_ORGANIZATIONS) {
    throw new ValidationError(`organizations must be an array of at most ${MAX_ORGANIZATIONS} organization ids`)
  }
  if (typeof secrets !== 'boolean') throw new ValidationError('secrets must be true or false')
  if (typeof admin !== 'boolean') throw new ValidationError('admin must be true or false')
  return {
    name: name.trim(),
    organizations: [...new Set(organizations.map(parseOrganizationId))],
    secrets,
    admin,
  }
}
