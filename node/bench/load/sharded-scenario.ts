// The sharded scenario: puts at a fixed concurrency on raftstore with one shard and with N shards (3 members each,
// both clusters up at once and taking turns), every key sent to a member of its own shard; then the same N-shard
// load with every key sent to a member of another shard, which must forward it: the server CPU that costs.
import { loadavg } from 'node:os';
import type { ProfileWindow } from './cpu-profile.js';
import type { KeyRouting, WorkerJob } from './protocol.js';
import { runScenario } from './run-scenario.js';
import { roundOrder, type ShardedRound, type ShardedVariant } from './sharded-figures.js';
import { ShardedRaftstore } from './sharded-system.js';

export const SHARDED_VARIANTS: readonly ShardedVariant[] = [
  'one-shard',
  'owner',
  'non-owner',
  'owner-paced',
  'non-owner-paced',
];

/** The runs at a fixed rate: they take the same paths as their unpaced twins. */
function isPaced(v: ShardedVariant): boolean {
  return v === 'owner-paced' || v === 'non-owner-paced';
}

/** The variant whose path a variant takes: a paced run's unpaced twin. */
function pathOf(v: ShardedVariant): ShardedVariant {
  return v === 'owner-paced' ? 'owner' : v === 'non-owner-paced' ? 'non-owner' : v;
}

export interface ShardedOptions {
  readonly shards: number;
  readonly inflight: number;
  /** The offered rate of the paced runs, in all (sent whatever the answers: below what both routings carry). */
  readonly pacedRate_per_s: number;
  readonly rounds: number;
  /** How long each variant's warm-up runs. */
  readonly warmUp_ms: number;
  readonly variants: ReadonlySet<ShardedVariant>;
  readonly timeout_ms: number;
  /** The machine's cores: what the rest of the machine's CPU share is a share of. */
  readonly cores: number;
  /** Starts a cluster of `shards` groups; `label` names it (e.g. for its profile directory). */
  readonly start: (shards: number, label: string) => Promise<ShardedRaftstore>;
  /**
   * The workers' jobs for puts over `endpoints` routed by `routing`: `inflight` in flight in all, or, with
   * `pacedRate_per_s`, that many sent per second in all.
   */
  readonly jobs: (
    endpoints: readonly string[],
    routing: KeyRouting,
    inflight: number,
    duration_ms?: number,
    pacedRate_per_s?: number,
  ) => WorkerJob[];
  readonly log: (msg: string) => void;
}

export interface ShardedOutcome {
  readonly rounds: ShardedRound[];
  /** 1-minute load average when the scenario began measuring and when it ended. */
  readonly load1_start: number;
  readonly load1_end: number;
  /** Every measured run (warm-ups excluded), so that members' profiles can be cut to one variant's runs. */
  readonly runs: readonly ShardedRun[];
}

export interface ShardedRun {
  readonly variant: ShardedVariant;
  /** The cluster it ran on (clusterLabel). */
  readonly label: string;
  readonly window: ProfileWindow;
  readonly ok: number;
  readonly serverCpu_us: number;
  /** Share of the machine's CPU (all cores) used by anything but the servers and workers during the run. */
  readonly other_pct: number;
  /** Share of the machine's CPU time the hypervisor took away during the run. */
  readonly steal_pct: number;
}

function load1(): number {
  return loadavg()[0] ?? NaN;
}

/** Where each variant sends a key of shard k: the job's endpoints and, per shard, the ones allowed. */
function routingFor(
  variant: ShardedVariant,
  cluster: ShardedRaftstore,
  leaders: readonly { name: string; clientPort: number }[],
  ranges: KeyRouting['ranges'],
): { endpoints: string[]; routing: KeyRouting } {
  if (variant !== 'non-owner' && variant !== 'non-owner-paced') {
    return {
      endpoints: leaders.map((m) => ShardedRaftstore.endpoint(m)),
      routing: {
        ranges,
        endpointsByShard: leaders.map((_, shard) => [shard]),
        endpointNames: leaders.map((m) => m.name),
      },
    };
  }
  const all = Array.from({ length: cluster.shards }, (_, shard) => cluster.members(shard)).flat();
  return {
    endpoints: all.map((m) => ShardedRaftstore.endpoint(m)),
    routing: {
      ranges,
      endpointsByShard: Array.from({ length: cluster.shards }, (_, shard) =>
        all.flatMap((m, i) => (m.shard === shard ? [] : [i])),
      ),
      endpointNames: all.map((m) => m.name),
    },
  };
}

/** The label of the cluster a variant runs on: its profile directory's name, and the key of `clusters`. */
export function clusterLabel(variant: ShardedVariant, shards: number): string {
  return variant === 'one-shard' ? 'shards-1' : `shards-${shards}`;
}

/** Runs the scenario; the clusters it starts go into `clusters`, which the caller stops, also after a failure. */
export async function measureSharded(
  o: ShardedOptions,
  clusters: Map<string, ShardedRaftstore>,
): Promise<ShardedOutcome> {
  const runs: ShardedRun[] = [];
  const labelOf = (v: ShardedVariant): string => clusterLabel(v, o.shards);
  const wanted = SHARDED_VARIANTS.filter((v) => o.variants.has(v));
  const rounds: ShardedRound[] = [];
  // One at a time: twelve members starting at once on a small machine can miss the start timeout.
  for (const label of new Set(wanted.map(labelOf))) {
    const shards = label === 'shards-1' ? 1 : o.shards;
    o.log(`raftstore ${label}: starting ${shards} × 3 members (fsync on)`);
    clusters.set(label, await o.start(shards, label));
  }
  const maps = new Map<string, KeyRouting['ranges']>();
  for (const [label, cluster] of clusters) {
    if (cluster.shards > 1) await cluster.placeLeaders(o.timeout_ms);
    maps.set(label, await cluster.slotMap(o.timeout_ms));
  }
  // Every path a measured run takes is warmed first, at the measured concurrency (the forwarded one also opens the
  // members' channels to each other): the first round measured otherwise pays for the JIT of nine processes.
  for (const variant of new Set(wanted.map(pathOf))) {
    const label = labelOf(variant);
    const cluster = clusters.get(label)!;
    const leaders = await cluster.leaders(o.timeout_ms);
    const { endpoints, routing } = routingFor(variant, cluster, leaders, maps.get(label)!);
    o.log(`raftstore ${label}: warm-up, ${variant} (leaders ${leaders.map((m) => m.name).join(', ')})`);
    await runScenario(o.jobs(endpoints, routing, o.inflight, o.warmUp_ms), () => cluster.pids());
  }
  const load1_start = load1();
  for (let round = 0; round < o.rounds; round++) {
    const figures: ShardedRound = {};
    for (const variant of roundOrder(round, wanted)) {
      const label = labelOf(variant);
      const cluster = clusters.get(label)!;
      // A forwarded write must reach its shard's leader in one hop: leadership stays on each shard's first member.
      let leaders = await cluster.leaders(o.timeout_ms);
      if (cluster.shards > 1 && leaders.some((m, shard) => m.name !== cluster.members(shard)[0]!.name)) {
        o.log(`raftstore ${label}: a leader moved (${leaders.map((m) => m.name).join(', ')}); placing again`);
        await cluster.placeLeaders(o.timeout_ms);
        leaders = await cluster.leaders(o.timeout_ms);
      }
      const { endpoints, routing } = routingFor(variant, cluster, leaders, maps.get(label)!);
      const load = load1();
      const paced = isPaced(variant) ? o.pacedRate_per_s : undefined;
      const r = await runScenario(o.jobs(endpoints, routing, o.inflight, undefined, paced), () =>
        cluster.pids(),
      );
      if (r.ok === 0) throw new Error(`sharded ${variant}: no put succeeded (first error: ${r.firstError})`);
      if (r.errors > 0) o.log(`sharded ${variant}: ${r.errors} errors (first: ${r.firstError})`);
      const capacity_us = (r.window_us.to_us - r.window_us.from_us) * o.cores;
      const other_pct = (100 * r.otherCpu_us) / capacity_us;
      const steal_pct = (100 * r.steal_us) / capacity_us;
      runs.push({
        variant,
        label,
        window: r.window_us,
        ok: r.ok,
        serverCpu_us: r.serverCpu_us,
        other_pct,
        steal_pct,
      });
      // Direct runs must be answered by the member asked, forwarded ones never: else the path was not the one named.
      const expected = variant === 'non-owner' || variant === 'non-owner-paced' ? 0 : r.ok;
      if (r.answeredByAsked !== expected)
        o.log(
          `sharded ${variant}: ${r.answeredByAsked} of ${r.ok} acks came from the member asked (expected ${expected}): ` +
            'a leader moved during the run, so some writes took another path',
        );
      const f = {
        puts_per_s: r.rate_per_s,
        serverCpu_us_per_write: r.serverCpu_us / r.ok,
        p99_ms: r.histogram.quantile_us(0.99) / 1000,
      };
      figures[variant] = f;
      o.log(
        `sharded round ${round + 1}/${o.rounds} ${variant} (${label}, ` +
          `${paced === undefined ? `${o.inflight} in flight` : `paced at ${paced}/s`}, load ${load.toFixed(2)}): ` +
          `${f.puts_per_s.toFixed(0)} puts/s, ${f.serverCpu_us_per_write.toFixed(0)} µs server CPU/write, p99 ${f.p99_ms.toFixed(1)} ms; ` +
          `rest of the machine ${other_pct.toFixed(0)}% of its CPU, steal ${steal_pct.toFixed(0)}%`,
      );
    }
    rounds.push(figures);
  }
  return { rounds, load1_start, load1_end: load1(), runs };
}
