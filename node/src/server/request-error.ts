// Errors raised while turning a request into a command: they become INVALID_ARGUMENT with the message as is.
export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
}
