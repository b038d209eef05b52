import { status, type sendUnaryData, type ServerUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { InvalidRequestError } from './request-error.js';
import { payloadBytes, unaryHandler, type InFlightLimit } from './unary-handler.js';

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

test('requests past the byte budget fail fast with RESOURCE_EXHAUSTED; a lone large one still goes through', async () => {
  const limit: InFlightLimit = { current: 0, max: 100, bytes: 0, maxBytes: 100 };
  const waiting: (() => void)[] = [];
  const slow = unaryHandler<{ value: Uint8Array }, string>(
    'KV',
    'Put',
    limit,
    undefined,
    () => new Promise((resolve) => waiting.push(() => resolve('ok'))),
  );
  const put = (bytes: number): Promise<ServiceError | string> =>
    new Promise((resolve) => {
      const callback: sendUnaryData<string> = (err, value) =>
        resolve(err ? (err as ServiceError) : (value ?? ''));
      slow(
        { request: { value: new Uint8Array(bytes) } } as ServerUnaryCall<{ value: Uint8Array }, string>,
        callback,
      );
    });
  const first = put(60);
  const refused = (await put(60)) as ServiceError;
  expect(refused.code).toBe(status.RESOURCE_EXHAUSTED);
  expect(refused.details).toBe(
    '60 bytes of requests in flight; this one (60 bytes) would pass the 100-byte bound',
  );
  expect(limit).toMatchObject({ current: 1, bytes: 60 });
  waiting.shift()!();
  expect(await first).toBe('ok');
  expect(limit).toMatchObject({ current: 0, bytes: 0 });
  // Alone, a request larger than the whole budget is taken: the message size limit bounds it.
  const large = put(500);
  waiting.shift()!();
  expect(await large).toBe('ok');
  expect(limit).toMatchObject({ current: 0, bytes: 0 });
});

test('the bytes of a request: its byte strings and strings, nested in transactions', () => {
  const key = new Uint8Array(10);
  expect(payloadBytes({ key, value: new Uint8Array(90), prevKv: true })).toBe(100);
  expect(
    payloadBytes({ success: [{ put: { key, value: new Uint8Array(5) } }, { put: { key, value: 'abc' } }] }),
  ).toBe(28);
});
