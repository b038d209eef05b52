// The workers' key → endpoint table: every key goes to an endpoint its shard allows, keys spread evenly over them,
// and a slot map that misses or repeats a slot is refused rather than guessed.
import { ShardMap } from '../../shared/sharding/shard-map.js';
import { keySlot } from '../../shared/sharding/slot.js';
import { keyOf, routeKeys, slotOwners } from './key-routes.js';
import type { KeyRouting } from './protocol.js';

const THREE = ShardMap.even([0, 1, 2]).toSpec().ranges;

function routing(endpointsByShard: number[][], ranges = THREE): KeyRouting {
  const count = Math.max(...endpointsByShard.flat()) + 1;
  return { ranges, endpointsByShard, endpointNames: Array.from({ length: count }, (_, i) => `e${i}`) };
}

test('keys are 8 bytes, k and seven digits', () => {
  expect(keyOf(42).toString('latin1')).toBe('k0000042');
});

test('to the owner: each key goes to the one endpoint of the shard that owns its slot', () => {
  const map = ShardMap.even([0, 1, 2]);
  const routes = routeKeys(3000, routing([[0], [1], [2]]), 3);
  for (let n = 0; n < 3000; n++) expect(routes[n]).toBe(map.shardOfSlot(keySlot(keyOf(n))));
  // The slot hash spreads the bench's keys over all three shards, about a third each.
  const counts = [0, 1, 2].map((e) => routes.filter((r) => r === e).length);
  for (const c of counts) expect(c).toBeGreaterThan(800);
});

test('via a non-owner: a key never goes to a member of its own shard, and each allowed member gets a share', () => {
  // Endpoints 0-2 are shard 0's members, 3-5 shard 1's, 6-8 shard 2's.
  const members = [0, 1, 2].map((s) => [0, 1, 2].map((i) => 3 * s + i));
  const others = [0, 1, 2].map((s) => members.filter((_, t) => t !== s).flat());
  const map = ShardMap.even([0, 1, 2]);
  const routes = routeKeys(10_000, routing(others), 9);
  const perEndpoint = new Array<number>(9).fill(0);
  for (let n = 0; n < 10_000; n++) {
    const shard = map.shardOfSlot(keySlot(keyOf(n)));
    expect(members[shard]).not.toContain(routes[n]);
    perEndpoint[routes[n]!]! += 1;
  }
  for (const c of perEndpoint) expect(c).toBeGreaterThan(10_000 / 9 / 2);
});

test('one shard: every key to its leader', () => {
  const routes = routeKeys(100, routing([[0]], [{ start: 0, end: 4095, shard: 0 }]), 1);
  expect([...new Set(routes)]).toEqual([0]);
});

test('a slot map that misses or repeats a slot, or a shard without endpoints, is refused', () => {
  expect(() => slotOwners([{ start: 0, end: 4094, shard: 0 }])).toThrow('slot 4095 is in no range');
  expect(() =>
    slotOwners([
      { start: 0, end: 10, shard: 0 },
      { start: 10, end: 4095, shard: 1 },
    ]),
  ).toThrow('slot 10 is in two ranges');
  expect(() => slotOwners([{ start: 0, end: 4096, shard: 0 }])).toThrow('not inside');
  expect(() => routeKeys(100, routing([[0], [1]]), 2)).toThrow(
    /in shard 2, for which the job allows no endpoint/,
  );
  expect(() => routeKeys(100, routing([[0], [1], [7]]), 3)).toThrow('endpoint index 7');
});
