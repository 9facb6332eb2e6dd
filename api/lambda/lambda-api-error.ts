/**
 * Errors of the AWS Lambda Invoke API itself (not of a function): the SDK reads the error's type
 * from the `x-amzn-ErrorType` header, so each carries the name AWS gives it beside the message.
 */
export class LambdaApiError extends Error {
  constructor(
    readonly status: 400 | 404 | 413,
    readonly errorType:
      | 'InvalidRequestContentException'
      | 'InvalidParameterValueException'
      | 'RequestTooLargeException'
      | 'ResourceNotFoundException',
    message: string,
  ) {
    super(message)
    this.name = 'LambdaApiError'
  }
}
