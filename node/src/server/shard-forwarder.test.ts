// Forwarding to another shard: the hop count travels with the request; an endpoint that certainly never got the
// request (no connection) is skipped for the shard's next one; anything else is passed on (a write is never sent
// twice by this member); a shard without an address, or with none reachable, is a clear, retryable refusal.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { parseShardEndpoints, type ShardEndpoints } from '../../shared/config/shard-endpoints.js';
import { unreachableShardOf } from '../../shared/client/shard-unreachable.js';
import { isNotApplied, NOT_APPLIED_HEADER, ShardUnreachableError, toServiceError } from './grpc-errors.js';
import {
  MEMBER_STOPPING,
  type ForwardReply,
  type ForwardRequest,
  type ForwardTransport,
} from './forward-stream.js';
import { hopsOf, ROUTE_HOPS_HEADER } from './route-hops.js';
import { ShardForwarder } from './shard-forwarder.js';

function failure(code: status, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

function endpoints(raw: string): ShardEndpoints {
  const r = parseShardEndpoints(raw);
  if (!r.ok) throw new Error(r.expected);
  return r.value;
}

const NEVER_SENT = 'No connection established. Last error: Error: connect ECONNREFUSED';

/** A transport whose answer per call the test decides; it records where each request went. */
class FakeTransport implements ForwardTransport {
  readonly sent: { address: string; hops: number; timeoutMs: number; request: ForwardRequest }[] = [];
  constructor(public answer: (address: string, request: ForwardRequest) => Promise<ForwardReply>) {}
  send(address: string, hops: number, request: ForwardRequest, timeoutMs: number): Promise<ForwardReply> {
    this.sent.push({ address, hops, timeoutMs, request });
    return this.answer(address, request);
  }
}

const GET = {
  $case: 'get',
  get: { key: new Uint8Array([1]), serializable: false, header: undefined },
} as const;
const FOUND: ForwardReply = { $case: 'get', get: { header: undefined, kv: undefined } };

describe('ShardForwarder', () => {
  const transport = new FakeTransport(() => Promise.resolve(FOUND));
  const forwarder = new ShardForwarder(endpoints('1=10.0.0.1:2379,10.0.0.2:2379'), 1000, transport);

  test('reaches only configured shards', () => {
    expect(forwarder.canReach(1)).toBe(true);
    expect(forwarder.canReach(2)).toBe(false);
  });

  test('the request carries one more hop and the forwarding timeout', async () => {
    transport.sent.length = 0;
    transport.answer = () => Promise.resolve(FOUND);
    expect(await forwarder.call(1, 1, GET)).toEqual(FOUND);
    expect(transport.sent).toEqual([{ address: '10.0.0.1:2379', hops: 2, timeoutMs: 1000, request: GET }]);
  });

  test('an endpoint with no connection is skipped; the next one answers and is tried first afterwards', async () => {
    transport.sent.length = 0;
    transport.answer = (address) =>
      address === '10.0.0.1:2379'
        ? Promise.reject(failure(status.UNAVAILABLE, `${NEVER_SENT} ${address}`))
        : Promise.resolve(FOUND);
    expect(await forwarder.call(1, 0, GET)).toEqual(FOUND);
    expect(transport.sent.map((r) => r.address)).toEqual(['10.0.0.1:2379', '10.0.0.2:2379']);
    transport.answer = () => Promise.resolve(FOUND);
    await forwarder.call(1, 0, GET);
    expect(transport.sent.at(-1)?.address).toBe('10.0.0.2:2379');
  });

  test('a member that is stopping refuses unapplied: the next member of the shard takes the request', async () => {
    transport.sent.length = 0;
    const stopping = Object.assign(new Error(MEMBER_STOPPING), {
      code: status.UNAVAILABLE,
      details: MEMBER_STOPPING,
      metadata: new Metadata(),
    });
    stopping.metadata.set(NOT_APPLIED_HEADER, '1');
    transport.answer = (address) =>
      address === '10.0.0.2:2379' ? Promise.reject(stopping) : Promise.resolve(FOUND);
    expect(await forwarder.call(1, 0, GET)).toEqual(FOUND);
    expect(transport.sent.map((r) => r.address)).toEqual(['10.0.0.2:2379', '10.0.0.1:2379']);
  });

  test('a failure after the request may have arrived is passed on, not retried elsewhere', async () => {
    transport.sent.length = 0;
    const reset = failure(status.UNAVAILABLE, 'read ECONNRESET');
    transport.answer = () => Promise.reject(reset);
    const err = await forwarder.call(1, 0, GET).catch((e: unknown) => e);
    expect(err).toBe(reset);
    expect(transport.sent).toHaveLength(1);
  });

  test('an answer of another kind than the request is an internal error, never passed off as the reply', async () => {
    transport.answer = () => Promise.resolve({ $case: 'put', put: { header: undefined, prevKv: undefined } });
    await expect(forwarder.call(1, 0, GET)).rejects.toThrow(/answered a get with a put/);
  });

  test('no member reachable, or no address: a retryable refusal that says which shard', async () => {
    transport.answer = () => Promise.reject(failure(status.UNAVAILABLE, NEVER_SENT));
    const none = await forwarder.call(1, 0, GET).then(
      () => new Error('resolved'),
      (e: unknown) => e as Error,
    );
    expect(none.message).toMatch(
      /no member of shard 1 could be reached \(10\.0\.0\.1:2379, 10\.0\.0\.2:2379\)/,
    );
    expect(isNotApplied(none)).toBe(true);
    const unknown = await forwarder.call(2, 0, GET).then(
      () => new Error('resolved'),
      (e: unknown) => e as Error,
    );
    expect(unknown.message).toBe('no address is configured for shard 2');
  });

  test('a shard whose name resolves to nothing (its Service deleted) is unreachable: the client is told which', async () => {
    transport.answer = () =>
      Promise.reject(
        failure(
          status.UNAVAILABLE,
          'Name resolution failed for target dns:demo-shard-1.ns.svc.cluster.local:2379',
        ),
      );
    const gone = await forwarder.call(1, 0, GET).then(
      () => new Error('resolved'),
      (e: unknown) => e as Error,
    );
    expect(gone).toBeInstanceOf(ShardUnreachableError);
    expect(gone.message).toMatch(/no member of shard 1 could be reached .*the request was not sent$/);
    const wire = toServiceError(gone);
    expect(wire.code).toBe(status.UNAVAILABLE);
    expect(unreachableShardOf(wire)).toBe(1);
    expect(wire.metadata?.get(NOT_APPLIED_HEADER)).toEqual(['1']);
  });

  test('hop counts: absent is 0; garbage counts as the bound, so it is not forwarded again', () => {
    const md = new Metadata();
    expect(hopsOf(md, 2)).toBe(0);
    md.set(ROUTE_HOPS_HEADER, '1');
    expect(hopsOf(md, 2)).toBe(1);
    md.set(ROUTE_HOPS_HEADER, 'x');
    expect(hopsOf(md, 2)).toBe(2);
  });
});
