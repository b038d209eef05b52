// The chaos reshard's pure decisions: the batches are the members' own plan cut into contiguous runs of at most 256
// slots, a layout is read off the groups' records (double, missing and moving owners found), and the workload's keys
// ride along with every move.
import type { SlotState } from '../shared/sharding/move-phase.js';
import { rebalance, ShardMap } from '../shared/sharding/shard-map.js';
import { keySlot, SLOT_COUNT } from '../shared/sharding/slot.js';
import {
  ALL_SLOTS,
  MAX_BATCH_SLOTS,
  observeLayout,
  planBatches,
  reshardKeys,
  shardIds,
  unevenBy,
} from './reshard-plan.js';

/** Each group's records for a map: owned where the map says, absent elsewhere. */
function recordsOf(map: ShardMap, shards: readonly number[]): Map<number, SlotState[]> {
  return new Map(
    shards.map((s) => [
      s,
      ALL_SLOTS.map((slot): SlotState => (map.shardOfSlot(slot) === s ? 'owned' : 'absent')),
    ]),
  );
}

describe('planBatches', () => {
  test('3 -> 4: the rebalance moves, as contiguous batches of one source and target, at most 256 slots each', () => {
    const map = ShardMap.even(shardIds(3));
    const batches = planBatches(map, shardIds(4));
    expect(batches.map((b) => [b.from, b.to, b.slots.length])).toEqual([
      [0, 3, 256],
      [0, 3, 86],
      [1, 3, 256],
      [1, 3, 85],
      [2, 3, 256],
      [2, 3, 85],
    ]);
    for (const b of batches) {
      expect(b.slots.length).toBeLessThanOrEqual(MAX_BATCH_SLOTS);
      b.slots.forEach((slot, i) => i > 0 && expect(slot).toBe(b.slots[i - 1]! + 1));
    }
    const planned = batches.flatMap((b) => b.slots.map((slot) => ({ slot, from: b.from, to: b.to })));
    expect(planned).toEqual([...rebalance(map, shardIds(4))].sort((a, b) => a.slot - b.slot));
  });

  test('and back: every slot of shard 3 returns, the layout is the creation layout again', () => {
    const start = ShardMap.even(shardIds(3));
    let map = start;
    for (const b of planBatches(map, shardIds(4))) map = map.withSlotsMoved(b.slots, b.to);
    expect(unevenBy(observeLayout(recordsOf(map, shardIds(4))), shardIds(4))).toBeUndefined();
    const back = planBatches(map, shardIds(3));
    expect(new Set(back.map((b) => b.from))).toEqual(new Set([3]));
    for (const b of back) map = map.withSlotsMoved(b.slots, b.to);
    expect(map.toSpec().ranges).toEqual(start.toSpec().ranges);
    expect(unevenBy(observeLayout(recordsOf(map, shardIds(4))), shardIds(3))).toBeUndefined();
  });

  test('a smaller batch bound cuts runs further; an even layout needs no batch', () => {
    const batches = planBatches(ShardMap.even([0, 1]), [0, 1, 2], 100);
    expect(batches.every((b) => b.slots.length <= 100)).toBe(true);
    expect(batches.reduce((n, b) => n + b.slots.length, 0)).toBe(
      rebalance(ShardMap.even([0, 1]), [0, 1, 2]).length,
    );
    expect(planBatches(ShardMap.even([0, 1, 2]), [0, 1, 2])).toEqual([]);
    expect(() => planBatches(ShardMap.even([0]), [0, 1], 0)).toThrow(/not positive/);
  });
});

describe('observeLayout and unevenBy', () => {
  const even3 = (): Map<number, SlotState[]> => recordsOf(ShardMap.even(shardIds(3)), shardIds(4));

  test('the creation layout of 3 is even over 0..2 and not over 0..3', () => {
    const layout = observeLayout(even3());
    expect(layout.problems).toEqual([]);
    expect(unevenBy(layout, shardIds(3))).toBeUndefined();
    expect(unevenBy(layout, shardIds(4))).toMatch(/shard 0: 1366, shard 1: 1365, shard 2: 1365, shard 3: 0/);
  });

  test('a slot owned twice, one owned by nobody and one in motion are each reported', () => {
    const states = even3();
    states.get(3)![5] = 'owned'; // also owned by 0
    states.get(1)![1400] = 'absent'; // nobody
    states.get(2)![3000] = 'leaving';
    const layout = observeLayout(states);
    expect(layout.map).toBeUndefined();
    expect(layout.problems).toEqual([
      '1 slot(s) owned by two groups: slot 5 owned by 0 and 3',
      '2 slot(s) owned by no group asked: 1400, 3000',
      '1 slot record(s) in motion: slot 3000 leaving on shard 2',
    ]);
    expect(unevenBy(layout, shardIds(3))).toMatch(/owned by two groups/);
  });

  test('a group that owns slots it should not, or a shard not asked, is uneven', () => {
    const layout = observeLayout(recordsOf(ShardMap.even(shardIds(4)), shardIds(4)));
    expect(unevenBy(layout, shardIds(4))).toBeUndefined();
    expect(unevenBy(layout, shardIds(3))).toMatch(/shard 3: 1024/);
    const partial = observeLayout(new Map([[0, ALL_SLOTS.map((): SlotState => 'owned')]]));
    expect(unevenBy(partial, [0, 1])).toMatch(/shard 0: 4096, shard 1: not asked/);
    expect(observeLayout(new Map([[0, ['owned']]])).problems).toEqual([`shard 0 reported 1 slots`]);
  });
});

test('reshardKeys: per original shard, keys in slots that move to the new shard and keys in slots that stay', () => {
  const keys = reshardKeys(3, 6);
  expect(keys).toEqual(reshardKeys(3, 6)); // deterministic
  expect(new Set(keys).size).toBe(6);
  const creation = ShardMap.even(shardIds(3));
  const moving = new Set(rebalance(creation, shardIds(4)).map((m) => m.slot));
  const shape = keys.map((k) => [creation.shardOfSlot(keySlot(k)), moving.has(keySlot(k))]);
  expect(shape).toEqual([
    [0, true],
    [0, false],
    [1, true],
    [1, false],
    [2, true],
    [2, false],
  ]);
  expect(keys.every((k) => /^k\d+$/.test(k))).toBe(true);
  expect(SLOT_COUNT).toBe(4096);
});
