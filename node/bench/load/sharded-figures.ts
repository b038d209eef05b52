// The sharded rows' figures, from rounds of runs: one shard, N shards with every key sent to its shard's leader
// ("owner"), and N shards with every key sent to a member of another shard, which forwards it ("non-owner"); the
// last two also at a fixed rate ("-paced"). A round's runs follow each other, so ratios are taken within a round
// (drift on a shared machine hits both sides alike) and the table shows the median over rounds.
//
// Why paced runs: at a fixed concurrency on a saturated machine the forwarded run commits fewer writes per second,
// so each Raft batch (one WAL write and fdatasync, one AppendEntries per follower) carries fewer writes and every
// write costs more CPU for reasons that are not the routing. At the same offered rate, below what either routing
// can carry, both runs batch alike and the difference in CPU per write is what forwarding costs.

export type ShardedVariant = 'one-shard' | 'owner' | 'non-owner' | 'owner-paced' | 'non-owner-paced';

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
export function shardedMetrics(shards: number, inflight: number, pacedRate_per_s: number) {
  const n = `${shards} shards`;
  const r = `@${pacedRate_per_s}/s`;
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
    putsOwnerPaced: `sharded puts/s paced ${r}, ${n} to owner`,
    putsNonOwnerPaced: `sharded puts/s paced ${r}, ${n} via non-owner`,
    cpuOwnerPaced: `sharded server CPU µs/write ${r}, ${n} to owner`,
    cpuNonOwnerPaced: `sharded server CPU µs/write ${r}, ${n} via non-owner`,
    routingExtraPaced: `sharded routing extra server CPU/write % ${r}`,
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

/**
 * The within-round ratios, one per round: N shards ÷ 1 shard puts/s, and the routing's extra CPU per write %, at
 * the fixed concurrency and at the fixed rate.
 */
export function roundRatios(rounds: readonly ShardedRound[]): {
  scaling: number[];
  routingExtra: number[];
  routingExtraPaced: number[];
} {
  const extra = (o: VariantFigures, f: VariantFigures): number =>
    extraPercent(o.serverCpu_us_per_write, f.serverCpu_us_per_write);
  return {
    scaling: paired(rounds, 'one-shard', 'owner', (one, n) => n.puts_per_s / one.puts_per_s),
    routingExtra: paired(rounds, 'owner', 'non-owner', extra),
    routingExtraPaced: paired(rounds, 'owner-paced', 'non-owner-paced', extra),
  };
}

/** Every sharded row's figure (a variant that never ran leaves its rows out). */
export function shardedFigures(
  rounds: readonly ShardedRound[],
  shards: number,
  inflight: number,
  pacedRate_per_s: number,
): Map<string, number> {
  const m = shardedMetrics(shards, inflight, pacedRate_per_s);
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
    [m.putsOwnerPaced, each('owner-paced', 'puts_per_s')],
    [m.putsNonOwnerPaced, each('non-owner-paced', 'puts_per_s')],
    [m.cpuOwnerPaced, each('owner-paced', 'serverCpu_us_per_write')],
    [m.cpuNonOwnerPaced, each('non-owner-paced', 'serverCpu_us_per_write')],
    [m.routingExtraPaced, median(ratios.routingExtraPaced)],
  ];
  return new Map(rows.filter(([, value]) => !Number.isNaN(value)));
}

/** The order of a round's runs: alternated, so that a slow drift of the machine does not always favour one. */
export function roundOrder(round: number, variants: readonly ShardedVariant[]): ShardedVariant[] {
  return round % 2 === 0 ? [...variants] : [...variants].reverse();
}
