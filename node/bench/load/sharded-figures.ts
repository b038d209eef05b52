// The sharded rows' figures, from rounds of three runs: one shard, N shards with every key sent to its shard's leader
// ("owner"), and N shards with every key sent to a member of another shard, which forwards it ("non-owner"). A
// round's runs follow each other, so ratios are taken within a round (drift on a shared machine hits both sides
// alike) and the table shows the median over rounds.

export type ShardedVariant = 'one-shard' | 'owner' | 'non-owner';

export interface VariantFigures {
  readonly puts_per_s: number;
  readonly serverCpu_us_per_write: number;
  readonly p99_ms: number;
}

export type ShardedRound = Partial<Record<ShardedVariant, VariantFigures>>;

/** Median of the finite values; NaN when there is none. */
export function median(values: readonly number[]): number {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

/** Extra server CPU per write of the forwarded path, as a percentage of the direct path's. */
export function extraPercent(direct_us: number, forwarded_us: number): number {
  return direct_us > 0 ? (100 * (forwarded_us - direct_us)) / direct_us : NaN;
}

/** The metric names of the sharded rows, in table order. */
export function shardedMetrics(shards: number, inflight: number) {
  const n = `${shards} shards`;
  return {
    putsOne: `sharded puts/s @${inflight}, 1 shard`,
    putsOwner: `sharded puts/s @${inflight}, ${n}`,
    scaling: `sharded puts/s, ${n} ÷ 1 shard`,
    putsNonOwner: `sharded puts/s @${inflight}, ${n} via non-owner`,
    p99One: `sharded put p99 ms @${inflight}, 1 shard`,
    p99Owner: `sharded put p99 ms @${inflight}, ${n}`,
    p99NonOwner: `sharded put p99 ms @${inflight}, ${n} via non-owner`,
    cpuOne: `sharded server CPU µs/write @${inflight}, 1 shard`,
    cpuOwner: `sharded server CPU µs/write @${inflight}, ${n} to owner`,
    cpuNonOwner: `sharded server CPU µs/write @${inflight}, ${n} via non-owner`,
    routingExtra: `sharded routing extra server CPU/write %`,
  } as const;
}

/** A figure pairing two variants, per round in which both ran. */
function paired(
  rounds: readonly ShardedRound[],
  a: ShardedVariant,
  b: ShardedVariant,
  f: (x: VariantFigures, y: VariantFigures) => number,
): number[] {
  return rounds.flatMap((r) => (r[a] && r[b] ? [f(r[a], r[b])] : []));
}

/** The within-round ratios, one per round: N shards ÷ 1 shard puts/s, and the routing's extra CPU per write %. */
export function roundRatios(rounds: readonly ShardedRound[]): { scaling: number[]; routingExtra: number[] } {
  return {
    scaling: paired(rounds, 'one-shard', 'owner', (one, n) => n.puts_per_s / one.puts_per_s),
    routingExtra: paired(rounds, 'owner', 'non-owner', (o, f) =>
      extraPercent(o.serverCpu_us_per_write, f.serverCpu_us_per_write),
    ),
  };
}

/** Every sharded row's figure (a variant that never ran leaves its rows out). */
export function shardedFigures(
  rounds: readonly ShardedRound[],
  shards: number,
  inflight: number,
): Map<string, number> {
  const m = shardedMetrics(shards, inflight);
  const ratios = roundRatios(rounds);
  const each = (v: ShardedVariant, figure: keyof VariantFigures): number =>
    median(rounds.flatMap((r) => (r[v] ? [r[v][figure]] : [])));
  // In table order: one row per (variant, figure), the two within-round ratios where they belong.
  const rows: [name: string, value: number][] = [
    [m.putsOne, each('one-shard', 'puts_per_s')],
    [m.putsOwner, each('owner', 'puts_per_s')],
    [m.scaling, median(ratios.scaling)],
    [m.putsNonOwner, each('non-owner', 'puts_per_s')],
    [m.p99One, each('one-shard', 'p99_ms')],
    [m.p99Owner, each('owner', 'p99_ms')],
    [m.p99NonOwner, each('non-owner', 'p99_ms')],
    [m.cpuOne, each('one-shard', 'serverCpu_us_per_write')],
    [m.cpuOwner, each('owner', 'serverCpu_us_per_write')],
    [m.cpuNonOwner, each('non-owner', 'serverCpu_us_per_write')],
    [m.routingExtra, median(ratios.routingExtra)],
  ];
  return new Map(rows.filter(([, value]) => !Number.isNaN(value)));
}

/** The order of a round's runs: alternated, so that a slow drift of the machine does not always favour one. */
export function roundOrder(round: number, variants: readonly ShardedVariant[]): ShardedVariant[] {
  return round % 2 === 0 ? [...variants] : [...variants].reverse();
}
