// The sharded rows' arithmetic: medians over rounds, ratios paired within a round, the routing overhead in percent.
import {
  extraPercent,
  median,
  roundOrder,
  roundRatios,
  shardedFigures,
  shardedMetrics,
  type ShardedRound,
} from './sharded-figures.js';

const fig = (puts_per_s: number, serverCpu_us_per_write: number, p99_ms = 10) => ({
  puts_per_s,
  serverCpu_us_per_write,
  p99_ms,
});

test('median of odd and even counts; non-finite values are left out; none is NaN', () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(median([NaN, 5, Infinity])).toBe(5);
  expect(median([])).toBeNaN();
});

test('extra percent: forwarded over direct, minus one', () => {
  expect(extraPercent(200, 220)).toBeCloseTo(10);
  expect(extraPercent(200, 180)).toBeCloseTo(-10);
  expect(extraPercent(0, 10)).toBeNaN();
});

test('ratios are taken within a round, then the median over rounds', () => {
  // Round 2 ran on a slower machine: both sides are slower, the ratio within it is what counts.
  const rounds: ShardedRound[] = [
    { 'one-shard': fig(1000, 100), owner: fig(900, 110), 'non-owner': fig(800, 132) },
    { 'one-shard': fig(500, 200), owner: fig(450, 220), 'non-owner': fig(400, 242) },
    { 'one-shard': fig(1000, 100), owner: fig(950, 100), 'non-owner': fig(850, 130) },
  ];
  const m = shardedMetrics(3, 256, 400);
  const out = shardedFigures(rounds, 3, 256, 400);
  expect(out.get(m.putsOne)).toBe(1000);
  expect(out.get(m.putsOwner)).toBe(900);
  expect(out.get(m.scaling)).toBeCloseTo(0.9); // 0.9, 0.9, 0.95
  expect(out.get(m.cpuOwner)).toBe(110);
  expect(out.get(m.cpuNonOwner)).toBe(132);
  expect(out.get(m.routingExtra)).toBeCloseTo(20); // 20, 10, 30
  expect(out.get(m.p99NonOwner)).toBe(10);
  const perRound = roundRatios(rounds);
  expect(perRound.scaling.map((x) => x.toFixed(2))).toEqual(['0.90', '0.90', '0.95']);
  expect(perRound.routingExtra.map((x) => x.toFixed(0))).toEqual(['20', '10', '30']);
});

test('a variant that did not run leaves its rows, and the ratios it is part of, out', () => {
  const m = shardedMetrics(2, 256, 400);
  const out = shardedFigures([{ owner: fig(900, 110), 'non-owner': fig(800, 130) }], 2, 256, 400);
  expect(out.has(m.putsOne)).toBe(false);
  expect(out.has(m.scaling)).toBe(false);
  expect(out.get(m.routingExtra)).toBeCloseTo(18.18, 1);
  expect(m.putsOwner).toBe('sharded puts/s @256, 2 shards');
});

test('the paced runs give their own rows and their own routing ratio, within each round', () => {
  const rounds: ShardedRound[] = [
    {
      owner: fig(900, 200),
      'non-owner': fig(700, 300),
      'owner-paced': fig(400, 250),
      'non-owner-paced': fig(400, 270),
    },
    {
      owner: fig(900, 200),
      'non-owner': fig(700, 300),
      'owner-paced': fig(399, 500),
      'non-owner-paced': fig(401, 525),
    },
  ];
  const m = shardedMetrics(3, 256, 400);
  const out = shardedFigures(rounds, 3, 256, 400);
  expect(out.get(m.routingExtra)).toBeCloseTo(50);
  expect(roundRatios(rounds).routingExtraPaced.map((x) => x.toFixed(0))).toEqual(['8', '5']);
  expect(out.get(m.routingExtraPaced)).toBeCloseTo(6.5);
  expect(out.get(m.putsNonOwnerPaced)).toBe(400.5);
  expect(m.cpuNonOwnerPaced).toBe('sharded server CPU µs/write @400/s, 3 shards via non-owner');
});

test('rounds alternate their order', () => {
  expect(roundOrder(0, ['one-shard', 'owner', 'non-owner'])).toEqual(['one-shard', 'owner', 'non-owner']);
  expect(roundOrder(1, ['one-shard', 'owner', 'non-owner'])).toEqual(['non-owner', 'owner', 'one-shard']);
});
