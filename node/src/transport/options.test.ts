import { TransportConfigError } from './errors.js';
import { DEFAULT_LIMITS, type PeerTransportOptions, resolveTransportOptions } from './options.js';

const base: PeerTransportOptions = {
  shardId: 1,
  selfId: 'a',
  resolve: () => undefined,
  onUnreachable: () => {},
  onSnapshotStatus: () => {},
};

describe('resolveTransportOptions', () => {
  it('fills in the defaults', () => {
    const resolved = resolveTransportOptions(base);
    expect(resolved.limits).toEqual(DEFAULT_LIMITS);
    expect(resolved.backoff.initialMs).toBeLessThanOrEqual(resolved.backoff.maxMs);
  });

  it.each<[string, Partial<PeerTransportOptions>, RegExp]>([
    ['a negative shard id', { shardId: -1 }, /shardId must be a uint32/],
    ['an empty self id', { selfId: '' }, /selfId/],
    ['a zero queue bound', { limits: { maxQueuedMessages: 0 } }, /limits.maxQueuedMessages/],
    ['a fractional timeout', { timeouts: { closeMs: 1.5 } }, /timeouts.closeMs/],
    ['a batch as large as a message', { limits: { maxBatchBytes: 4 * 1024 * 1024 } }, /maxBatchBytes/],
    [
      'a chunk as large as a message',
      { limits: { snapshotChunkBytes: 4 * 1024 * 1024 } },
      /snapshotChunkBytes/,
    ],
    ['maxMs below initialMs', { backoff: { initialMs: 500, maxMs: 100 } }, /backoff.maxMs/],
    ['jitter of 1', { backoff: { jitter: 1 } }, /jitter/],
    ['a keepalive of 0', { keepalive: { timeMs: 0 } }, /keepalive.timeMs/],
  ])('refuses %s', (_name, override, message) => {
    expect(() => resolveTransportOptions({ ...base, ...override })).toThrow(TransportConfigError);
    expect(() => resolveTransportOptions({ ...base, ...override })).toThrow(message);
  });
});
