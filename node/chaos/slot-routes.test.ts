// A sharded chaos client's routing decisions: only a slot refusal (nothing applied) is followed, within bounds;
// anything else ends the operation with an unknown outcome. Routes learn from redirects and from the members' own
// claims, never from a member's hints about other groups.
import { ShardMap } from '../shared/sharding/shard-map.js';
import { nextAttempt, ROUTE_BUDGET, SlotRoutes } from './slot-routes.js';

const state = { shard: 1, reroutes: 0, pauseMs: 25, leftMs: 10_000 };

describe('nextAttempt', () => {
  test('a failure that is not a slot refusal is never retried: the write may have applied', () => {
    expect(nextAttempt(undefined, state).kind).toBe('giveUp');
  });

  test('a slot in motion is waited out while the budget lasts', () => {
    expect(nextAttempt({ kind: 'moving' }, state)).toEqual({ kind: 'wait', pauseMs: 25 });
    expect(nextAttempt({ kind: 'moving' }, { ...state, pauseMs: 500, leftMs: 400 })).toMatchObject({
      kind: 'giveUp',
      why: 'the slot stayed in motion too long',
    });
  });

  test('a shard no member could reach (sent nowhere) is looked up again, within the reroute budget', () => {
    expect(nextAttempt({ kind: 'unreachable', shard: 3 }, state)).toEqual({
      kind: 'reroute',
      owner: undefined,
    });
    expect(
      nextAttempt({ kind: 'unreachable', shard: 3 }, { ...state, reroutes: ROUTE_BUDGET.maxReroutes }).kind,
    ).toBe('giveUp');
  });

  test('a wrong-shard answer goes to the owner it names, or looks it up when it names none or the same shard', () => {
    expect(nextAttempt({ kind: 'wrongShard', slot: 7, owner: 3 }, state)).toEqual({
      kind: 'reroute',
      owner: 3,
    });
    expect(nextAttempt({ kind: 'wrongShard', slot: 7, owner: undefined }, state)).toEqual({
      kind: 'reroute',
      owner: undefined,
    });
    expect(nextAttempt({ kind: 'wrongShard', slot: 7, owner: 1 }, state)).toEqual({
      kind: 'reroute',
      owner: undefined,
    });
    expect(
      nextAttempt({ kind: 'wrongShard', slot: 7, owner: 3 }, { ...state, reroutes: ROUTE_BUDGET.maxReroutes })
        .kind,
    ).toBe('giveUp');
  });
});

describe('SlotRoutes', () => {
  test('starts at the creation layout and learns redirects', () => {
    const routes = new SlotRoutes(ShardMap.even([0, 1, 2]));
    expect([routes.ownerOf(0), routes.ownerOf(1366), routes.ownerOf(4095)]).toEqual([0, 1, 2]);
    routes.learn(4095, 3);
    expect(routes.ownerOf(4095)).toBe(3);
    routes.learn(9999, 3); // outside the slots: ignored
  });

  test('takes each member’s own group’s slots and ignores its hints about others', () => {
    const routes = new SlotRoutes(ShardMap.even([0, 1, 2]));
    routes.learn(4095, 3);
    routes.learn(4094, 3);
    const changed = routes.adoptClaims([
      // A member of shard 1: its own slots, and a hint that still names shard 3 for slot 4095 (not taken).
      {
        shardId: 1,
        ranges: [
          { start: 1366, end: 2730, shard: 1 },
          { start: 4095, end: 4095, shard: 3 },
        ],
      },
      // A member of shard 2 that serves 4095 again.
      { shardId: 2, ranges: [{ start: 2731, end: 4095, shard: 2 }] },
    ]);
    expect(changed).toBe(2);
    expect([routes.ownerOf(4094), routes.ownerOf(4095)]).toEqual([2, 2]);
  });
});
