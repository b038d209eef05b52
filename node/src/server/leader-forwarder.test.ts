// A forwarded write that never reached the leader (no connection) is reported as not applied, so the forwarding
// member may retry it with the next leader; any other failure is passed on as it is.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { isNotApplied } from './grpc-errors.js';
import { FORWARDED_HEADER, LeaderForwarder } from './leader-forwarder.js';
import { PLAINTEXT_CHANNEL } from '../../testing/transport/plaintext.js';

function failure(code: status, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

describe('LeaderForwarder.call', () => {
  const forwarder = new LeaderForwarder(1000, 1024 * 1024, PLAINTEXT_CHANNEL);
  afterAll(() => forwarder.close());

  test('marks the call as forwarded and gives it a deadline', async () => {
    let seen: { forwarded: unknown; deadline: unknown } | undefined;
    const result = await forwarder.call<string>((md, options, cb) => {
      seen = { forwarded: md.get(FORWARDED_HEADER)[0], deadline: options.deadline };
      cb(null, 'ok');
    });
    expect(result).toBe('ok');
    expect(seen?.forwarded).toBe('1');
    expect(typeof seen?.deadline).toBe('number');
  });

  test('no connection to the leader: not applied', async () => {
    const refused = failure(
      status.UNAVAILABLE,
      'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1',
    );
    const err: unknown = await forwarder
      .call((_md, _o, cb) => cb(refused, undefined))
      .catch((e: unknown) => e);
    expect(isNotApplied(err)).toBe(true);
    expect((err as Error).message).toContain('the leader is unreachable: No connection established');
  });

  test('a connection that broke during the call, or a deadline: outcome unknown, passed on', async () => {
    for (const e of [
      failure(status.UNAVAILABLE, 'read ECONNRESET'),
      failure(status.DEADLINE_EXCEEDED, 'Deadline exceeded'),
    ]) {
      const err: unknown = await forwarder.call((_md, _o, cb) => cb(e, undefined)).catch((x: unknown) => x);
      expect(err).toBe(e);
      expect(isNotApplied(err)).toBe(false);
    }
  });
});
