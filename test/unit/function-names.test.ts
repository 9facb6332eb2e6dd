import { FUNCTION_IDS, functionArn, functionName, resolveFunction } from '../../api/lambda/function-names'

const naming = { env: 'stg', aws: { region: 'eu-west-1', accountId: '123456789012' } }

describe('function names', () => {
  it('names the eight functions of the guide with the environment prefix', () => {
    expect(FUNCTION_IDS.map((id) => functionName('prd', id))).toEqual([
      'vault-prd-create-secret',
      'vault-prd-get-secret',
      'vault-prd-update-secret',
      'vault-prd-delete-secret',
      'vault-prd-create-organization-secret',
      'vault-prd-get-organization-secret',
      'vault-prd-update-organization-secret',
      'vault-prd-delete-organization-secret',
    ])
  })

  it.each(FUNCTION_IDS)('finds %s by its name, its partial ARN and its full ARN', (id) => {
    expect(resolveFunction(naming, `vault-stg-${id}`, null)).toBe(id)
    expect(resolveFunction(naming, `123456789012:function:vault-stg-${id}`, null)).toBe(id)
    expect(resolveFunction(naming, functionArn(naming, id), null)).toBe(id)
    expect(functionArn(naming, id)).toBe(`arn:aws:lambda:eu-west-1:123456789012:function:vault-stg-${id}`)
  })

  it('accepts $LATEST as qualifier, in the name or as a parameter, and nothing else', () => {
    expect(resolveFunction(naming, 'vault-stg-get-secret:$LATEST', null)).toBe('get-secret')
    expect(resolveFunction(naming, 'vault-stg-get-secret', '$LATEST')).toBe('get-secret')
    expect(resolveFunction(naming, 'vault-stg-get-secret:1', null)).toBeNull()
    expect(resolveFunction(naming, 'vault-stg-get-secret', 'live')).toBeNull()
  })

  it.each([
    ['another environment', 'vault-prd-get-secret'],
    ['no prefix', 'get-secret'],
    ['an unknown function', 'vault-stg-list-secrets'],
    ['another region', 'arn:aws:lambda:us-east-1:123456789012:function:vault-stg-get-secret'],
    ['another account', 'arn:aws:lambda:eu-west-1:999999999999:function:vault-stg-get-secret'],
    ['another partition', 'arn:aws-cn:lambda:eu-west-1:123456789012:function:vault-stg-get-secret'],
    ['a trailing slash', 'vault-stg-get-secret/'],
    ['empty', ''],
  ])('finds nothing for %s', (_case, requested) => {
    expect(resolveFunction(naming, requested, null)).toBeNull()
  })
})
