import { createVerifiedTokens } from '../../app/clients/verified-tokens'
import type { ClientId, OrganizationId, Principal } from '../../common/types'

// Tokens themselves (jose is ESM-only, which Jest's CommonJS runtime cannot load) are tested
// through the server: test/integration/auth.test.ts uses a token while it is fresh (so it is
// remembered) and shows it refused once expired, and refuses tampered tokens of a used one.

const client: Principal = {
  clientId: 'EVCLIENT000000000001' as ClientId,
  admin: false,
  secrets: true,
  organizations: ['acme' as OrganizationId],
}

describe('the memory of verified tokens', () => {
  it('answers a remembered token until its expiry, and nothing after', () => {
    let now = 1_000
    const verified = createVerifiedTokens(10, () => now)
    verified.remember('token-a', client, 5_000)
    expect(verified.get('token-a')).toEqual(client)
    expect(verified.get('token-b')).toBeNull()
    now = 5_000
    expect(verified.get('token-a')).toBeNull()
  })

  it('keeps at most its bound, forgetting the oldest first', () => {
    const verified = createVerifiedTokens(2, () => 0)
    verified.remember('first', client, 10)
    verified.remember('second', client, 10)
    verified.remember('third', client, 10)
    expect([verified.get('first'), verified.get('second'), verified.get('third')]).toEqual([null, client, client])
  })
})
