import {
  endpointsOf,
  formatShardEndpoints,
  parseShardEndpoints,
  type ShardEndpoints,
} from './shard-endpoints.js';

function parsed(raw: string): ShardEndpoints {
  const r = parseShardEndpoints(raw);
  if (!r.ok) throw new Error(r.expected);
  return r.value;
}

describe('shard endpoints', () => {
  test('empty: no routing', () => {
    expect(parsed('')).toEqual({ kind: 'none' });
    expect(endpointsOf(parsed(''), 1)).toEqual([]);
  });

  test('a template names one Service per shard, for shards created later too', () => {
    const e = parsed('demo-shard-{shard}.ns.svc.cluster.local:2379');
    expect(endpointsOf(e, 0)).toEqual(['demo-shard-0.ns.svc.cluster.local:2379']);
    expect(endpointsOf(e, 17)).toEqual(['demo-shard-17.ns.svc.cluster.local:2379']);
  });

  test('a list names each shard’s members; round-trips through its text form', () => {
    const e = parsed('0=127.0.0.1:2379,127.0.0.1:2479;1=127.0.0.1:2579');
    expect(endpointsOf(e, 0)).toEqual(['127.0.0.1:2379', '127.0.0.1:2479']);
    expect(endpointsOf(e, 1)).toEqual(['127.0.0.1:2579']);
    expect(endpointsOf(e, 2)).toEqual([]);
    if (e.kind !== 'list') throw new Error('not a list');
    expect(formatShardEndpoints(e.byShard)).toBe('0=127.0.0.1:2379,127.0.0.1:2479;1=127.0.0.1:2579');
  });

  test.each([
    ['demo-{shard}:2379,x:1', 'a template names one address'],
    ['demo_{shard}:2379', 'host:port'],
    ['x:1', 'does not start with a shard number'],
    ['0=x:1;0=y:2', 'shard 0 is listed twice'],
    ['4096=x:1', 'does not start with a shard number from 0 to 4095'],
    ['0=http://x:1', '"http://x:1" is not host:port'],
  ])('%s is refused, saying why', (raw, why) => {
    const r = parseShardEndpoints(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.expected).toContain(why);
  });
});
