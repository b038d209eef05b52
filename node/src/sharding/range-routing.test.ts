import { prefixSlot, shardsForInterval, shardsForPrefix } from './range-routing.js';
import { ShardMap } from '../../shared/sharding/shard-map.js';
import { keySlot } from '../../shared/sharding/slot.js';

describe('range routing', () => {
  const map = ShardMap.even([0, 1, 2, 3]);

  it('pins a prefix with a complete hash tag to the shard of every key under it', () => {
    const prefix = '{user:42}/orders/';
    const slot = prefixSlot(prefix);
    expect(slot).toBe(keySlot('user:42'));
    for (const suffix of ['', '1', '{other}', '}{', 'zzz/{x}']) expect(keySlot(prefix + suffix)).toBe(slot);
    expect(shardsForPrefix(map, prefix)).toEqual([map.shardOfSlot(keySlot('user:42'))]);
  });

  it('sends an untagged or unfinished-tag prefix to every shard', () => {
    for (const prefix of ['user/', '{user:42', '{}', '']) {
      expect(prefixSlot(prefix)).toBeUndefined();
      expect(shardsForPrefix(map, prefix)).toEqual([0, 1, 2, 3]);
    }
    // Why: keys under an unfinished tag prefix really do hash apart.
    expect(keySlot('{user:42}a')).not.toBe(keySlot('{user:42zz}a'));
  });

  it('sends an interval to every shard', () => {
    expect(shardsForInterval(map)).toEqual([0, 1, 2, 3]);
    expect(shardsForInterval(ShardMap.single())).toEqual([0]);
  });
});
