import { InvokeCommand, LambdaClient, type InvocationType, type LambdaClientConfig } from '@aws-sdk/client-lambda'

/** A vault client's credentials, used as an AWS access key id and secret access key. */
export type ClientCredentials = Readonly<{ clientId: string; clientSecret: string }>

/**
 * The stock AWS SDK's Lambda client, pointed at a vault. One attempt only: the SDK retries what
 * it takes for clock skew (InvalidSignatureException among them), and a test wants the answer
 * the vault gave, not the outcome of retries.
 */
export const lambdaFor = (url: string, credentials: ClientCredentials, config: Partial<LambdaClientConfig> = {}): LambdaClient =>
  new LambdaClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: credentials.clientId, secretAccessKey: credentials.clientSecret },
    maxAttempts: 1,
    ...config,
  })

export type InvokeOptions = Readonly<{
  qualifier?: string
  invocationType?: InvocationType
  /** Sent as the payload as is, instead of JSON.stringify(payload). */
  raw?: string | Uint8Array
}>

/** What the SDK answered for an invocation, with the payload decoded (and parsed when it is JSON). */
export type Invocation = Readonly<{
  /** The HTTP status of the Invoke API answer. */
  httpStatus: number | undefined
  /** The Invoke API's StatusCode field (200, 202 or 204). */
  statusCode: number | undefined
  /** The function's result: the guide's body with `statusCode` inside. */
  result: any
  text: string
  functionError: string | undefined
  executedVersion: string | undefined
}>

const payloadOf = (payload: unknown, raw: string | Uint8Array | undefined): Uint8Array | undefined => {
  if (raw !== undefined) return typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw
  return payload === undefined ? undefined : Buffer.from(JSON.stringify(payload), 'utf8')
}

/** Invokes a function through the SDK; `payload` undefined sends no payload at all. */
export const invoke = async (
  client: LambdaClient,
  functionName: string,
  payload?: unknown,
  options: InvokeOptions = {},
): Promise<Invocation> => {
  const output = await client.send(
    new InvokeCommand({
      FunctionName: functionName,
      Payload: payloadOf(payload, options.raw),
      Qualifier: options.qualifier,
      InvocationType: options.invocationType,
    }),
  )
  // DryRun and Event answers have no payload (the SDK gives null or undefined then).
  const text = output.Payload === undefined || output.Payload === null ? '' : Buffer.from(output.Payload).toString('utf8')
  let result: unknown = undefined
  try {
    result = text === '' ? undefined : JSON.parse(text)
  } catch {
    result = undefined
  }
  return {
    httpStatus: output.$metadata.httpStatusCode,
    statusCode: output.StatusCode,
    result,
    text,
    functionError: output.FunctionError,
    executedVersion: output.ExecutedVersion,
  }
}

/** How the SDK reported a refused invocation: the exception's name, the HTTP status, the message. */
export type InvokeFailure = Readonly<{ name: string; httpStatus: number | undefined; message: string }>

/** Invokes and answers the exception the SDK threw; fails when the invocation succeeded. */
export const invokeFailure = async (
  client: LambdaClient,
  functionName: string,
  payload?: unknown,
  options: InvokeOptions = {},
): Promise<InvokeFailure> => {
  let succeeded: Invocation
  try {
    succeeded = await invoke(client, functionName, payload, options)
  } catch (error) {
    const failure = error as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number } }
    return {
      name: String(failure.name),
      httpStatus: failure.$metadata?.httpStatusCode,
      message: typeof failure.message === 'string' ? failure.message : '',
    }
  }
  throw new Error(`${functionName} was expected to fail, but answered ${succeeded.httpStatus}: ${succeeded.text.slice(0, 200)}`)
}
