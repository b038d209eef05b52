// Forwarding to another shard: the hop count travels with the request; an endpoint that certainly never got the
// request (no connection) is skipped for the shard's next one; anything else is passed on (a write is never sent
// twice by this member); a shard without an address, or with none reachable, is a clear, retryable refusal.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { parseShardEndpoints, type ShardEndpoints } from '../../shared/config/shard-endpoints.js';
import { unreachableShardOf } from '../../shared/client/shard-unreachable.js';
import { isNotApplied, NOT_APPLIED_HEADER, ShardUnreachableError, toServiceError } from './grpc-errors.js';
import { LeaderForwarder } from './leader-forwarder.js';
import { hopsOf, ROUTE_HOPS_HEADER, ShardForwarder } from './shard-forwarder.js';

function failure(code: status, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

function endpoints(raw: string): ShardEndpoints {
  const r = parseShardEndpoints(raw);
  if (!r.ok) throw new Error(r.expected);
  return r.value;
}

const NEVER_SENT = 'No connection established. Last error: Error: connect ECONNREFUSED';

describe('ShardForwarder', () => {
  const channels = new LeaderForwarder(1000, 1024 * 1024);
  const forwarder = new ShardForwarder(endpoints('1=10.0.0.1:2379,10.0.0.2:2379'), 1000, channels);
  afterAll(() => channels.close());

  test('reaches only configured shards', () => {
    expect(forwarder.canReach(1)).toBe(true);
    expect(forwarder.canReach(2)).toBe(false);
  });

  test('the request carries one more hop and a deadline', async () => {
    let seen: { hops: unknown; deadline: unknown } | undefined;
    const result = await forwarder.call<string>(1, 1, (_c, md, options, cb) => {
      seen = { hops: md.get(ROUTE_HOPS_HEADER)[0], deadline: options.deadline };
      cb(null, 'ok');
    });
    expect(result).toBe('ok');
    expect(seen).toEqual({ hops: '2', deadline: expect.any(Number) as unknown });
  });

  test('an endpoint with no connection is skipped; the next one answers and is tried first afterwards', async () => {
    const tried: string[] = [];
    const result = await forwarder.call<string>(1, 0, (c, _md, _o, cb) => {
      tried.push(c.getChannel().getTarget());
      if (tried.length === 1) cb(failure(status.UNAVAILABLE, `${NEVER_SENT} 10.0.0.1:2379`), '');
      else cb(null, 'second');
    });
    expect(result).toBe('second');
    expect(tried).toHaveLength(2);
    const next: string[] = [];
    await forwarder.call<string>(1, 0, (c, _md, _o, cb) => {
      next.push(c.getChannel().getTarget());
      cb(null, 'ok');
    });
    expect(next[0]).toBe(tried[1]);
  });

  test('a failure after the request may have arrived is passed on, not retried elsewhere', async () => {
    let calls = 0;
    const reset = failure(status.UNAVAILABLE, 'read ECONNRESET');
    const err = await forwarder
      .call(1, 0, (_c, _md, _o, cb) => {
        calls++;
        cb(reset, undefined);
      })
      .catch((e: unknown) => e);
    expect(err).toBe(reset);
    expect(calls).toBe(1);
  });

  test('no member reachable, or no address: a retryable refusal that says which shard', async () => {
    const none = await forwarder
      .call(1, 0, (_c, _md, _o, cb) => cb(failure(status.UNAVAILABLE, NEVER_SENT), undefined))
      .then(
        () => new Error('resolved'),
        (e: unknown) => e as Error,
      );
    expect(none.message).toMatch(
      /no member of shard 1 could be reached \(10\.0\.0\.1:2379, 10\.0\.0\.2:2379\)/,
    );
    expect(isNotApplied(none)).toBe(true);
    const unknown = await forwarder
      .call(2, 0, () => undefined)
      .then(
        () => new Error('resolved'),
        (e: unknown) => e as Error,
      );
    expect(unknown.message).toBe('no address is configured for shard 2');
  });

  test('a shard whose name resolves to nothing (its Service deleted) is unreachable: the client is told which', async () => {
    const gone = await forwarder
      .call(1, 0, (_c, _md, _o, cb) =>
        cb(
          failure(
            status.UNAVAILABLE,
            'Name resolution failed for target dns:demo-shard-1.ns.svc.cluster.local:2379',
          ),
          undefined,
        ),
      )
      .then(
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
