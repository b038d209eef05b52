import { rebalance, ShardMap, ShardMapError } from './shard-map.js';
import { keySlot, SLOT_COUNT } from './slot.js';

function counts(map: ShardMap): Map<number, number> {
  return new Map(map.shards().map((s) => [s, map.slotsOf(s).length]));
}

describe('ShardMap', () => {
  it('routes every key to shard 0 by default', () => {
    const map = ShardMap.single();
    expect(map.shards()).toEqual([0]);
    expect(map.shardOfKey('anything')).toBe(0);
    expect(map.toSpec()).toEqual({ epoch: 1, ranges: [{ start: 0, end: SLOT_COUNT - 1, shard: 0 }] });
  });

  it('splits slots into contiguous even ranges, lowest ids taking the remainder', () => {
    const map = ShardMap.even([7, 3, 5]);
    expect(map.toSpec().ranges).toEqual([
      { start: 0, end: 1365, shard: 3 },
      { start: 1366, end: 2730, shard: 5 },
      { start: 2731, end: 4095, shard: 7 },
    ]);
    expect(map.shardOfKey('foo')).toBe(map.shardOfSlot(keySlot('foo')));
  });

  it('round-trips through its serialisable spec', () => {
    const map = ShardMap.even([0, 1, 2, 3]).withSlotsMoved([5, 6, 4000], 9);
    const again = ShardMap.fromSpec(map.toSpec());
    expect(again.toSpec()).toEqual(map.toSpec());
    expect(again.epoch).toBe(2);
    for (let slot = 0; slot < SLOT_COUNT; slot++) expect(again.shardOfSlot(slot)).toBe(map.shardOfSlot(slot));
  });

  it('rejects specs that miss, overlap, reverse or overflow slots', () => {
    const gap = { epoch: 1, ranges: [{ start: 0, end: 10, shard: 0 }] };
    expect(() => ShardMap.fromSpec(gap)).toThrow(/slot 11 is not assigned/);
    const overlap = {
      epoch: 1,
      ranges: [
        { start: 0, end: 10, shard: 0 },
        { start: 10, end: SLOT_COUNT - 1, shard: 1 },
      ],
    };
    expect(() => ShardMap.fromSpec(overlap)).toThrow(/slot 10 is assigned more than once/);
    expect(() => ShardMap.fromSpec({ epoch: 1, ranges: [{ start: 5, end: 4, shard: 0 }] })).toThrow(
      /reversed/,
    );
    expect(() => ShardMap.fromSpec({ epoch: 1, ranges: [{ start: 0, end: SLOT_COUNT, shard: 0 }] })).toThrow(
      /outside/,
    );
    expect(() => ShardMap.fromSpec({ epoch: 0, ranges: [] })).toThrow(/epoch 0/);
  });

  it('rejects invalid shard ids and shard lists', () => {
    expect(() => ShardMap.single(-1)).toThrow(ShardMapError);
    expect(() => ShardMap.single(2 ** 32)).toThrow(/not a uint32/);
    expect(() => ShardMap.even([])).toThrow(/at least one shard/);
    expect(() => ShardMap.even([1, 1])).toThrow(/duplicate/);
    expect(() => ShardMap.single().shardOfSlot(SLOT_COUNT)).toThrow(/outside/);
  });

  it('never mutates: a move yields a new map one epoch later', () => {
    const before = ShardMap.single();
    const after = before.withSlotsMoved([0], 1);
    expect(before.shardOfSlot(0)).toBe(0);
    expect(after.shardOfSlot(0)).toBe(1);
    expect(after.epoch).toBe(before.epoch + 1);
  });
});

describe('rebalance', () => {
  it('plans no moves when already balanced', () => {
    expect(rebalance(ShardMap.even([0, 1]), [0, 1])).toEqual([]);
  });

  it('adding a shard moves only the new shard its fair share, taken from the others', () => {
    const map = ShardMap.single();
    const moves = rebalance(map, [0, 1]);
    expect(moves).toHaveLength(SLOT_COUNT / 2);
    expect(moves.every((m) => m.from === 0 && m.to === 1)).toBe(true);
    const next = map.withMoves(moves);
    expect(counts(next)).toEqual(
      new Map([
        [0, 2048],
        [1, 2048],
      ]),
    );
    expect(next.toSpec().ranges).toEqual([
      { start: 0, end: 2047, shard: 0 },
      { start: 2048, end: 4095, shard: 1 },
    ]);
  });

  it('growing 3 -> 4 shards moves exactly the new shard share (the minimum)', () => {
    const map = ShardMap.even([0, 1, 2]);
    const moves = rebalance(map, [0, 1, 2, 3]);
    expect(moves).toHaveLength(1024);
    const next = map.withMoves(moves);
    expect([...counts(next).values()]).toEqual([1024, 1024, 1024, 1024]);
  });

  it('dropping a shard hands all its slots to the remaining ones', () => {
    const map = ShardMap.even([0, 1, 2, 3]);
    const next = map.withMoves(rebalance(map, [0, 1, 2]));
    expect(next.shards()).toEqual([0, 1, 2]);
    expect([...counts(next).values()]).toEqual([1366, 1365, 1365]);
  });

  it('is deterministic', () => {
    const map = ShardMap.even([0, 1, 2]).withSlotsMoved([1, 2, 3, 3000], 2);
    expect(rebalance(map, [0, 1, 2, 5])).toEqual(rebalance(map, [5, 2, 1, 0]));
  });

  it('refuses a stale plan', () => {
    const map = ShardMap.single();
    const moves = rebalance(map, [0, 1]);
    const moved = map.withMoves(moves);
    expect(() => moved.withMoves(moves)).toThrow(/owned by 1, not 0/);
  });
});
