import { status, type sendUnaryData, type ServerUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { InvalidRequestError } from './request-error.js';
import { unaryHandler, type InFlightLimit } from './unary-handler.js';

function call(handler: ReturnType<typeof unaryHandler<string, string>>): Promise<ServiceError | string> {
  return new Promise((resolve) => {
    const callback: sendUnaryData<string> = (err, value) =>
      resolve(err ? (err as ServiceError) : (value ?? ''));
    handler({ request: 'req' } as ServerUnaryCall<string, string>, callback);
  });
}

test('a handler that throws before its first await fails with its status and gives its in-flight slot back', async () => {
  const limit: InFlightLimit = { current: 0, max: 1 };
  const throwsAtOnce = unaryHandler<string, string>('KV', 'Get', limit, undefined, () => {
    throw new InvalidRequestError('key is 5000 bytes, more than 4096');
  });
  for (let i = 0; i < 3; i++) {
    const err = (await call(throwsAtOnce)) as ServiceError;
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toBe('key is 5000 bytes, more than 4096');
  }
  expect(limit.current).toBe(0);
  const ok = unaryHandler<string, string>('KV', 'Get', limit, undefined, (req) => Promise.resolve(`${req}!`));
  expect(await call(ok)).toBe('req!');
});
