import { Hash } from '@smithy/hash-node'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'
import type { ClientCredentials } from './lambda'

// Raw HTTP requests on the functions' door, as the SDK would not send them: unsigned, with a
// bearer token, signed the SDK's way or botocore's, or with a body altered after signing.

/** The Invoke API's URL for function `name` on the vault at `url`. */
export const invocationUrl = (url: string, name: string): URL => new URL(`${url}/2015-03-31/functions/${name}/invocations`)

/** Headers of a request signed as the SDK signs it, over `body`. */
export const signedHeaders = async (url: URL, body: string, credentials: ClientCredentials, applyChecksum: boolean) => {
  const signer = new SignatureV4({
    credentials: { accessKeyId: credentials.clientId, secretAccessKey: credentials.clientSecret },
    region: 'us-east-1',
    service: 'lambda',
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: true,
    applyChecksum,
  })
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      headers: { host: url.host, 'content-type': 'application/json' },
      body,
    }),
  )
  const headers: Record<string, string> = { ...(signed.headers as Record<string, string>) }
  delete headers.host // fetch sends the same host itself
  return headers
}

/** One POST with exactly these headers and body; the status, the error type and the text answered. */
export const postRaw = async (url: URL, headers: Record<string, string>, body: string) => {
  const response = await fetch(url, { method: 'POST', headers, body })
  const text = await response.text()
  return { status: response.status, errorType: response.headers.get('x-amzn-errortype'), text }
}
