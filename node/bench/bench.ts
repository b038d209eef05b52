// `npm run bench`: raftstore against etcd, both 3 members on loopback with fsync on, driven by the same load
// generator (several worker processes, raw @grpc/grpc-js on both sides). Prints one table: rows are metrics,
// columns raftstore | etcd | ratio | target | met?. The sharded rows are raftstore's alone: one shard against N
// shards, and what a write sent to a member of another shard costs. `npm run bench:smoke` is the same harness on a
// tiny budget.
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  profilesIn,
  summarizeProfileFiles,
  type HotFunction,
  type ProfileWindow,
} from './load/cpu-profile.js';
import type { KeyRouting, Operation, SystemName, WorkerJob } from './load/protocol.js';
import { runScenario, type ScenarioResult } from './load/run-scenario.js';
import { roundRatios, shardedFigures, shardedMetrics, type ShardedVariant } from './load/sharded-figures.js';
import { clusterLabel, measureSharded, type ShardedOutcome } from './load/sharded-scenario.js';
import { ShardedRaftstore } from './load/sharded-system.js';
import { EtcdSystem, RaftstoreSystem, type SystemUnderTest } from './load/system.js';
import { etcdBinary, etcdVersion, missingEtcd } from './etcd/etcd-cluster.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const HELP = `usage: bench [--seconds S] [--gap-seconds S] [--workers N] [--systems raftstore,etcd] [--cpu-prof DIR]
                [--scenarios load,faults,sharded] [--fault-repeats N] [--member-log-level L]
                [--election-timeout-ms N] [--shards N] [--sharded-rounds N] [--sharded-rate N] [--smoke] [--source]
  --seconds       duration of each throughput/read scenario (default 5)
  --gap-seconds   duration of each fault scenario; the fault comes 1 s in (default 4)
  --workers       load worker processes for the multi-client scenarios (default 2)
  --scenarios     which to run: load (throughput, latency, reads), faults (all write gaps) or one gap of kill,
                  transfer, sigterm, sharded (raftstore only: puts @256 on 1 shard and on --shards shards, each
                  key sent to its shard's leader, then each key sent to a member of another shard, which forwards
                  it; both also at a fixed rate) or one run of it: sharded-one, sharded-owner, sharded-non-owner,
                  sharded-owner-paced, sharded-non-owner-paced; default load,faults,sharded
  --shards        shards (3 members each) of the sharded scenario (default 3)
  --sharded-rounds  the sharded runs repeat in rounds, ratios taken within a round; the table shows the median
                  over rounds, the log every round (default 3; 1 with --smoke)
  --sharded-rate  puts/s, in all, of the sharded scenario's paced runs: below what either routing carries, so both
                  batch alike and the CPU per write differs by the routing alone (default 400)
  --fault-repeats each fault scenario runs N times; the table shows the worst gap, the log every one (default 1)
  --member-log-level  raftstore members' log level (default warn; info shows leader changes)
  --election-timeout-ms  both systems' election timeout, heartbeat a tenth of it (default: each one's own, 1000)
  --cpu-prof DIR  start raftstore members with node --cpu-prof into DIR and print the leader's hottest functions;
                  the sharded clusters' members profile into DIR/shards-N; the N-shard cluster's profiles are
                  summed over its members and cut to each routing's measured runs (figures then include the
                  profiler's own cost)
  --smoke         tiny run that proves the harness end to end; skips etcd if there is none
  etcd: $ETCD_BINARY, else the etcd 3.6 that npm run kube:build makes (the control plane's own)
  --source        run raftstore from TypeScript sources via tsx (default: the compiled dist/, needs npm run build)`;

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    'gap-seconds': { type: 'string', default: '4' },
    workers: { type: 'string', default: '2' },
    systems: { type: 'string', default: 'raftstore,etcd' },
    scenarios: { type: 'string', default: 'load,faults,sharded' },
    shards: { type: 'string', default: '3' },
    'sharded-rounds': { type: 'string', default: '3' },
    'sharded-rate': { type: 'string', default: '400' },
    'fault-repeats': { type: 'string', default: '1' },
    'member-log-level': { type: 'string', default: 'warn' },
    'election-timeout-ms': { type: 'string' },
    'cpu-prof': { type: 'string' },
    smoke: { type: 'boolean', default: false },
    source: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${v}`);
  return n;
}
const SECONDS = args.smoke ? 0.5 : positive('seconds', args.seconds);
const GAP_SECONDS = args.smoke ? 2 : positive('gap-seconds', args['gap-seconds']);
const WORKERS = Math.round(positive('workers', args.workers));
const FAULT_REPEATS = Math.round(positive('fault-repeats', args['fault-repeats']));
const SHARDS = Math.round(positive('shards', args.shards));
if (SHARDS < 2) throw new Error(`--shards must be at least 2, got ${args.shards}`);
const SHARDED_ROUNDS = args.smoke ? 1 : Math.round(positive('sharded-rounds', args['sharded-rounds']));
/** The sharded scenario's concurrency, spread over the workers: the top of the put rows. */
const SHARDED_INFLIGHT = 256;
const SHARDED_RATE = Math.round(positive('sharded-rate', args['sharded-rate']));
const ELECTION_TIMEOUT_MS =
  args['election-timeout-ms'] === undefined
    ? undefined
    : Math.round(positive('election-timeout-ms', args['election-timeout-ms']));
const KEY_SPACE = 10_000;
const VALUE_BYTES = 256;
const DEADLINE_MS = 5_000;
const FAULT_AT_MS = 1_000;
/** The steady gap writer: one put every 2 ms, round-robin over every member (followers forward). */
const GAP_INTERVAL_MS = 2;
const CLUSTER_TIMEOUT_MS = 30_000;

type Metrics = Map<string, number>;

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function jobs(
  system: SystemName,
  op: Operation,
  endpoints: string[],
  inflight: number,
  workers: number,
  extra: Partial<WorkerJob> = {},
): WorkerJob[] {
  const n = Math.min(workers, inflight);
  return Array.from({ length: n }, (_, i) => ({
    system,
    op,
    endpoints,
    // Spread the in-flight requests as evenly as possible; the total is exactly `inflight`.
    inflight: Math.floor(inflight / n) + (i < inflight % n ? 1 : 0),
    channelsPerEndpoint: inflight >= 64 ? 2 : 1,
    duration_ms: SECONDS * 1000,
    deadline_ms: DEADLINE_MS,
    keySpace: KEY_SPACE,
    valueBytes: VALUE_BYTES,
    workerIndex: i,
    ...extra,
  }));
}

function checkErrors(what: string, r: ScenarioResult): void {
  if (r.errors > 0) log(`${what}: ${r.errors} errors (first: ${r.firstError})`);
  if (r.ok === 0) throw new Error(`${what}: no request succeeded (first error: ${r.firstError})`);
}

type Step = (sut: SystemUnderTest, m: Metrics) => Promise<void>;

function putStep(inflight: number): Step {
  return async (sut, m) => {
    const leader = await sut.leaderEndpoint(CLUSTER_TIMEOUT_MS);
    log(`${sut.name}: puts, ${inflight} in flight`);
    const r = await runScenario(jobs(sut.name, 'put', [leader], inflight, inflight === 1 ? 1 : WORKERS), () =>
      sut.pids(),
    );
    checkErrors(`${sut.name} put@${inflight}`, r);
    m.set(`puts/s @${inflight}`, r.rate_per_s);
    for (const [q, label] of [
      [0.5, 'p50'],
      [0.99, 'p99'],
      [0.999, 'p999'],
    ] as const)
      m.set(`put ${label} ms @${inflight}`, r.histogram.quantile_us(q) / 1000);
    m.set(`server CPU µs/write @${inflight}`, r.serverCpu_us / r.ok);
    m.set(`generator CPU % core @${inflight}`, (100 * r.generatorCpu_us) / 1000 / r.elapsed_ms);
  };
}

function readStep(op: 'get-linearizable' | 'get-serializable', leaderOnly: boolean): Step {
  return async (sut, m) => {
    const endpoints = leaderOnly ? [await sut.leaderEndpoint(CLUSTER_TIMEOUT_MS)] : sut.endpoints();
    const label = `${op === 'get-linearizable' ? 'linearizable' : 'serializable'}`;
    const where = leaderOnly ? ', leader only' : '';
    log(`${sut.name}: ${op}, 64 in flight ${leaderOnly ? 'on the leader only' : 'over all members'}`);
    const r = await runScenario(jobs(sut.name, op, endpoints, 64, WORKERS), () => sut.pids());
    checkErrors(`${sut.name} ${op}${where}`, r);
    m.set(`${label} reads/s @64${where}`, r.rate_per_s);
    m.set(`${label} read p99 ms @64${where}`, r.histogram.quantile_us(0.99) / 1000);
    m.set(`${label} read errors @64${where}`, r.errors);
  };
}

function gapStep(
  metric: string,
  fault: (sut: SystemUnderTest, leader: string) => Promise<string | undefined>,
): Step {
  return async (sut, m) => {
    const gaps: number[] = [];
    for (let round = 0; round < FAULT_REPEATS; round++) gaps.push(await oneGap(sut, metric, fault));
    m.set(metric, Math.max(...gaps));
    if (gaps.length > 1) {
      const sorted = [...gaps].sort((a, b) => a - b);
      log(`${sut.name} ${metric}: ${sorted.join(', ')} ms over ${gaps.length} rounds`);
    }
  };
}

/** One fault under the paced gap writer; returns the longest interval without an acknowledged write. */
async function oneGap(
  sut: SystemUnderTest,
  metric: string,
  fault: (sut: SystemUnderTest, leader: string) => Promise<string | undefined>,
): Promise<number> {
  const leader = await sut.leader(CLUSTER_TIMEOUT_MS);
  let stopped: string | undefined;
  log(`${sut.name}: ${metric} (leader ${leader})`);
  const r = await runScenario(
    jobs(sut.name, 'put', sut.endpoints(), 1, 1, {
      duration_ms: GAP_SECONDS * 1000,
      paced_interval_ms: GAP_INTERVAL_MS,
      fault_at_ms: FAULT_AT_MS,
    }),
    () => sut.pids(),
    {
      at_ms: FAULT_AT_MS,
      run: async () => {
        stopped = await fault(sut, leader);
      },
    },
  );
  if (r.ok === 0) throw new Error(`${sut.name} ${metric}: no write succeeded (first error: ${r.firstError})`);
  if (stopped) await sut.restart(stopped, CLUSTER_TIMEOUT_MS);
  const began = new Date(r.maxAckGapEnd_ms - r.maxAckGap_ms).toISOString().slice(11, 23);
  log(
    `${sut.name} ${metric}: ${r.maxAckGap_ms} ms from ${began} (longest before the fault: ${r.maxAckGapBeforeFault_ms} ms); ` +
      'requests issued in that gap (ms after it began):',
  );
  for (const g of r.gapOutcomes)
    log(
      `  ${g.endpoint} ×${g.count} at ${g.firstStart_ms}..${g.lastStart_ms} (≤ ${g.maxLatency_ms} ms): ${g.outcome}`,
    );
  return r.maxAckGap_ms;
}

const warmUp: Step = async (sut) => {
  log(`${sut.name}: warm-up`);
  const leader = await sut.leaderEndpoint(CLUSTER_TIMEOUT_MS);
  await runScenario(jobs(sut.name, 'put', [leader], 16, WORKERS, { duration_ms: 1000 }), () => sut.pids());
};

const LOAD_STEPS: Step[] = [
  warmUp,
  putStep(1),
  putStep(16),
  putStep(256),
  readStep('get-linearizable', false),
  // The same linearizable load on the leader alone separates the ReadIndex round from follower forwarding.
  readStep('get-linearizable', true),
  readStep('get-serializable', false),
];
const FAULT_STEPS = new Map<string, Step>([
  ['kill', gapStep('write gap ms, kill -9 leader', async (sut, l) => (await sut.signal(l, 'SIGKILL'), l))],
  [
    'transfer',
    gapStep(
      'write gap ms, transfer leadership',
      async (sut) => (await sut.transferLeadership(CLUSTER_TIMEOUT_MS), undefined),
    ),
  ],
  ['sigterm', gapStep('write gap ms, SIGTERM leader', async (sut, l) => (await sut.signal(l, 'SIGTERM'), l))],
]);

/**
 * Both systems run at once and take turns scenario by scenario, so that load from elsewhere on a shared machine
 * drifts over both alike; an idle cluster costs only its heartbeats.
 */
const SHARDED_SCENARIOS = new Map<string, ShardedVariant>([
  ['sharded-one', 'one-shard'],
  ['sharded-owner', 'owner'],
  ['sharded-non-owner', 'non-owner'],
  ['sharded-owner-paced', 'owner-paced'],
  ['sharded-non-owner-paced', 'non-owner-paced'],
]);

/** The selected scenarios: groups expanded to their members, unknown names refused. */
function selectedScenarios(): Set<string> {
  const groups = new Set(args.scenarios.split(',').map((s) => s.trim()));
  if (groups.has('faults')) for (const name of FAULT_STEPS.keys()) groups.add(name);
  if (groups.has('sharded')) for (const name of SHARDED_SCENARIOS.keys()) groups.add(name);
  for (const g of groups)
    if (g !== 'load' && g !== 'faults' && g !== 'sharded' && !FAULT_STEPS.has(g) && !SHARDED_SCENARIOS.has(g))
      throw new Error(`unknown scenario ${g}`);
  return groups;
}
const SCENARIOS = selectedScenarios();
const SHARDED_SELECTED = new Set(
  [...SHARDED_SCENARIOS].filter(([name]) => SCENARIOS.has(name)).map(([, v]) => v),
);

async function measureAll(suts: readonly SystemUnderTest[]): Promise<Map<SystemName, Metrics>> {
  const out = new Map<SystemName, Metrics>(suts.map((s) => [s.name, new Map()]));
  const load = SCENARIOS.has('load') ? LOAD_STEPS : [];
  // A member killed with -9 writes no profile: with --cpu-prof the leader must live to the graceful stop.
  const faults = args['cpu-prof']
    ? []
    : [...FAULT_STEPS].filter(([name]) => SCENARIOS.has(name)).map(([, s]) => s);
  if (args['cpu-prof'] && [...FAULT_STEPS.keys()].some((name) => SCENARIOS.has(name)))
    log('fault scenarios skipped under --cpu-prof');
  for (const step of [...load, ...faults]) for (const sut of suts) await step(sut, out.get(sut.name)!);
  return out;
}

/**
 * The sharded scenario, after the others (their clusters are stopped by then): raftstore alone, one cluster of one
 * shard and one of SHARDS shards, both up at once and taking turns.
 */
async function measureShardedScenario(
  profileDir: string | undefined,
): Promise<{ metrics: Metrics; outcome: ShardedOutcome }> {
  const clusters = new Map<string, ShardedRaftstore>();
  try {
    const outcome = await measureSharded(
      {
        shards: SHARDS,
        inflight: SHARDED_INFLIGHT,
        pacedRate_per_s: SHARDED_RATE,
        rounds: SHARDED_ROUNDS,
        warmUp_ms: args.smoke ? 500 : 2000,
        variants: SHARDED_SELECTED,
        timeout_ms: CLUSTER_TIMEOUT_MS,
        cores: availableParallelism(),
        start: (shards, label) => {
          const dir = profileDir ? resolve(profileDir, label) : undefined;
          if (dir) mkdirSync(dir, { recursive: true });
          return ShardedRaftstore.start({
            shards,
            compiled: !args.source,
            logLevel: args['member-log-level'],
            // Nine members started from sources on a busy small machine take longer than three.
            startTimeoutMs: 2 * CLUSTER_TIMEOUT_MS,
            ...(ELECTION_TIMEOUT_MS ? { electionTimeoutMs: ELECTION_TIMEOUT_MS } : {}),
            ...(dir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] } : {}),
          });
        },
        jobs: (
          endpoints: readonly string[],
          routing: KeyRouting,
          inflight: number,
          duration_ms?: number,
          pacedRate_per_s?: number,
        ) =>
          jobs('raftstore', 'put', [...endpoints], inflight, WORKERS, {
            routing,
            ...(duration_ms === undefined ? {} : { duration_ms }),
            // Each worker sends its share of the rate on its own absolute schedule.
            ...(pacedRate_per_s === undefined
              ? {}
              : { paced_interval_ms: (Math.min(WORKERS, inflight) * 1000) / pacedRate_per_s }),
          }),
        log,
      },
      clusters,
    );
    return { metrics: shardedFigures(outcome.rounds, SHARDS, SHARDED_INFLIGHT, SHARDED_RATE), outcome };
  } finally {
    for (const [label, cluster] of clusters) {
      log(`raftstore ${label}: stopping (logs in ${cluster.logDir})`);
      await cluster.stop();
    }
  }
}

async function startRaftstore(profileDir: string | undefined): Promise<RaftstoreSystem> {
  const common = {
    compiled: !args.source,
    logLevel: args['member-log-level'],
    ...(ELECTION_TIMEOUT_MS ? { electionTimeoutMs: ELECTION_TIMEOUT_MS } : {}),
  };
  if (!profileDir) return RaftstoreSystem.start(common);
  mkdirSync(profileDir, { recursive: true });
  return RaftstoreSystem.start({ ...common, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] });
}

interface Row {
  readonly metric: string;
  /** higher: ours ≥ factor × etcd; lower: ours ≤ factor × etcd; abs: ours ≤ limit (in unit). */
  readonly target?:
    { kind: 'higher' | 'lower'; factor: number } | { kind: 'abs'; limit: number; unit: string };
}

const ROWS: Row[] = [
  { metric: 'puts/s @1' },
  { metric: 'puts/s @16' },
  { metric: 'puts/s @256', target: { kind: 'higher', factor: 1 } },
  { metric: 'put p50 ms @1' },
  { metric: 'put p99 ms @1', target: { kind: 'lower', factor: 1 } },
  { metric: 'put p999 ms @1' },
  { metric: 'put p50 ms @16' },
  { metric: 'put p99 ms @16' },
  { metric: 'put p999 ms @16' },
  { metric: 'put p50 ms @256' },
  { metric: 'put p99 ms @256' },
  { metric: 'put p999 ms @256' },
  { metric: 'server CPU µs/write @1' },
  { metric: 'server CPU µs/write @16' },
  { metric: 'server CPU µs/write @256', target: { kind: 'lower', factor: 1.5 } },
  { metric: 'linearizable reads/s @64' },
  { metric: 'linearizable read p99 ms @64' },
  { metric: 'linearizable read errors @64' },
  { metric: 'linearizable reads/s @64, leader only' },
  { metric: 'linearizable read p99 ms @64, leader only' },
  { metric: 'linearizable read errors @64, leader only' },
  { metric: 'serializable reads/s @64' },
  { metric: 'serializable read p99 ms @64' },
  { metric: 'write gap ms, kill -9 leader', target: { kind: 'abs', limit: 1000, unit: 'ms' } },
  { metric: 'write gap ms, transfer leadership', target: { kind: 'abs', limit: 50, unit: 'ms' } },
  { metric: 'write gap ms, SIGTERM leader', target: { kind: 'abs', limit: 50, unit: 'ms' } },
  { metric: 'generator CPU % core @1' },
  { metric: 'generator CPU % core @16' },
  { metric: 'generator CPU % core @256' },
  ...shardedRows(),
];

function shardedRows(): Row[] {
  const m = shardedMetrics(SHARDS, SHARDED_INFLIGHT, SHARDED_RATE);
  return [
    { metric: m.putsOne },
    { metric: m.putsOwner },
    { metric: m.scaling },
    { metric: m.putsNonOwner },
    { metric: m.p99One },
    { metric: m.p99Owner },
    { metric: m.p99NonOwner },
    { metric: m.cpuOne },
    { metric: m.cpuOwner },
    { metric: m.cpuNonOwner },
    { metric: m.routingExtra, target: { kind: 'abs', limit: 10, unit: '%' } },
    { metric: m.putsOwnerPaced },
    { metric: m.putsNonOwnerPaced },
    { metric: m.cpuOwnerPaced },
    { metric: m.cpuNonOwnerPaced },
    { metric: m.routingExtraPaced, target: { kind: 'abs', limit: 10, unit: '%' } },
  ];
}

function fmt(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return 'n/a';
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function table(ours: Metrics | undefined, etcd: Metrics | undefined): string {
  const lines: string[][] = [['metric', 'raftstore', 'etcd', 'ratio', 'target', 'met?']];
  for (const row of ROWS) {
    const a = ours?.get(row.metric);
    const b = etcd?.get(row.metric);
    if (a === undefined && b === undefined) continue; // a scenario that did not run
    const ratio = a !== undefined && b !== undefined && b !== 0 ? a / b : undefined;
    let target = '';
    let met = '';
    const t = row.target;
    if (t?.kind === 'abs') {
      target = `≤ ${t.limit} ${t.unit}`;
      met = a === undefined ? '?' : a <= t.limit ? 'yes' : 'NO';
    } else if (t) {
      target = `${t.kind === 'higher' ? '≥' : '≤'} ${t.factor}× etcd`;
      met =
        ratio === undefined
          ? '?'
          : (t.kind === 'higher' ? ratio >= t.factor : ratio <= t.factor)
            ? 'yes'
            : 'NO';
    }
    lines.push([
      row.metric,
      fmt(a),
      fmt(b),
      ratio === undefined ? 'n/a' : `${ratio.toFixed(2)}×`,
      target,
      met,
    ]);
  }
  const widths = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  return lines
    .map((l, i) => {
      const cells = l.map((cell, c) =>
        c === 0 || c >= 4 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!),
      );
      const line = `| ${cells.join(' | ')} |`;
      return i === 0
        ? `${line}\n|${widths.map((w, c) => (c === 0 || c >= 4 ? `${'-'.repeat(w + 2)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`
        : line;
    })
    .join('\n');
}

/** The lines after the table that say what the sharded rows measured, on what machine and under what load. */
function shardedNotes(outcome: ShardedOutcome, cores: number): string {
  const members = SHARDS * 3;
  const ratios = roundRatios(outcome.rounds);
  const show = (xs: readonly number[], digits: number): string =>
    xs.length === 0 ? 'n/a' : xs.map((x) => x.toFixed(digits)).join(', ');
  const lines = [
    `sharded rows (raftstore only): 1 shard × 3 members and ${SHARDS} shards × 3 members on loopback, both up at ` +
      `once and taking turns, fsync on, ${SHARDED_INFLIGHT} puts in flight over ${WORKERS} load workers, the same ` +
      `${KEY_SPACE} keys, ${SECONDS} s per run; median of ${outcome.rounds.length} round(s), ratios taken within a round. ` +
      `"to owner": each key sent to its shard's leader; "via non-owner": each key sent to a member of another ` +
      "shard, which forwards it to the owning shard's leader (one hop: each shard's leader is kept on the member " +
      'the others forward to). Server CPU per write is summed over every member of the cluster, from /proc.',
    `machine: ${cores} cores; 1-minute load average ${outcome.load1_start.toFixed(2)} when these runs began, ` +
      `${outcome.load1_end.toFixed(2)} when they ended (it counts the bench's own processes: during a run of ` +
      `${SHARDS} shards, ${SHARDS * 3} members and ${WORKERS} workers want a CPU at once); everything else on the ` +
      `machine used at most ${Math.max(...outcome.runs.map((r) => r.other_pct)).toFixed(0)}% of its CPU during a ` +
      `run, the hypervisor took at most ${Math.max(...outcome.runs.map((r) => r.steal_pct)).toFixed(0)}% (steal).`,
    `per round: ${SHARDS} shards ÷ 1 shard puts/s ${show(ratios.scaling, 2)}; routing extra CPU/write % ` +
      `${show(ratios.routingExtra, 0)} at ${SHARDED_INFLIGHT} in flight, ${show(ratios.routingExtraPaced, 0)} ` +
      `paced at ${SHARDED_RATE} puts/s (the same offered rate for both routings, so both batch alike).`,
  ];
  if (cores < members)
    lines.push(
      `On ${cores} cores the ${members} members of ${SHARDS} shards and the ${WORKERS} load workers share ${cores} CPUs: ` +
        'aggregate puts/s cannot grow with the shard count here, so the "÷ 1 shard" row shows what running more ' +
        'groups costs on one machine, not what sharding gains when each group has its own cores. With the CPUs ' +
        "saturated, the forwarded run's extra CPU per write also lowers its puts/s.",
    );
  return lines.join('\n');
}

/**
 * Hottest functions and modules. With `perWrite_us` (the server CPU per write /proc measured over the same
 * windows) each line also gets its share of it: a profile taken on a crowded machine knows shares, /proc knows CPU.
 */
function printProfile(
  title: string,
  files: readonly string[],
  windows?: readonly ProfileWindow[],
  perWrite_us?: number,
): void {
  const { total_ms, idle_pct, busy_ms, hot, modules } = summarizeProfileFiles(files, 25, REPO, windows);
  const line = (h: HotFunction): string =>
    `${h.self_pct.toFixed(1).padStart(5)}% ${h.self_ms.toFixed(0).padStart(7)} ms` +
    (perWrite_us === undefined
      ? ''
      : ` ${((h.self_pct * perWrite_us) / 100).toFixed(1).padStart(7)} µs/write`) +
    `  ${h.name}`;
  console.log(
    `\n${title}: ${total_ms.toFixed(0)} ms profiled, ${idle_pct.toFixed(1)}% idle, ${busy_ms.toFixed(0)} ms busy` +
      (perWrite_us === undefined ? '' : `; server CPU ${perWrite_us.toFixed(0)} µs/write (from /proc)`) +
      '; self time as % of busy time:',
  );
  for (const h of hot) console.log(line(h));
  if (files.length > 1) {
    console.log('the same by where the code lives:');
    for (const h of modules.slice(0, 15)) console.log(line(h));
  }
}

/** The sharded clusters' profiles, summed over each cluster's members, cut to each variant's measured runs. */
function printShardedProfiles(profileDir: string, outcome: ShardedOutcome): void {
  for (const variant of ['one-shard', 'owner', 'non-owner'] as const) {
    const label = clusterLabel(variant, SHARDS);
    const runs = outcome.runs.filter((r) => r.variant === variant);
    if (runs.length === 0) continue;
    const dir = resolve(profileDir, label);
    const files = existsSync(dir) ? profilesIn(dir) : [];
    if (files.length === 0) {
      log(`no .cpuprofile in ${dir} (members write them only on a graceful exit)`);
      continue;
    }
    const ok = runs.reduce((sum, r) => sum + r.ok, 0);
    const cpu_us = runs.reduce((sum, r) => sum + r.serverCpu_us, 0);
    printProfile(
      `hottest functions over the ${files.length} members of ${label} during the ${runs.length} measured ` +
        `"${variant}" run(s) (${dir})`,
      files,
      runs.map((r) => r.window),
      cpu_us / ok,
    );
  }
}

async function main(): Promise<void> {
  const systems = args.systems.split(',').map((s) => s.trim());
  for (const s of systems) if (s !== 'raftstore' && s !== 'etcd') throw new Error(`unknown system ${s}`);
  const profileDir = args['cpu-prof'] ? resolve(args['cpu-prof']) : undefined;
  const cores = availableParallelism();
  const load_start = loadavg();
  const others = SCENARIOS.has('load') || [...FAULT_STEPS.keys()].some((name) => SCENARIOS.has(name));
  const suts: SystemUnderTest[] = [];
  let results = new Map<SystemName, Metrics>();
  if (others) {
    try {
      if (systems.includes('raftstore')) {
        log('raftstore: starting 3 members (fsync on)');
        suts.push(await startRaftstore(profileDir));
      }
      if (systems.includes('etcd')) {
        if (args.smoke && (etcdBinary() === '' || !existsSync(etcdBinary())))
          log(`etcd: skipped, ${missingEtcd()}`);
        else {
          log(`etcd: starting 3 members (fsync on, default settings): ${etcdBinary()}, ${etcdVersion()}`);
          suts.push(
            await EtcdSystem.start(ELECTION_TIMEOUT_MS ? { electionTimeoutMs: ELECTION_TIMEOUT_MS } : {}),
          );
        }
      }
      results = await measureAll(suts);
    } finally {
      for (const sut of suts) {
        log(`${sut.name}: stopping (logs in ${sut.logDir})`);
        await sut.stop();
      }
    }
  }
  let sharded: { metrics: Metrics; outcome: ShardedOutcome } | undefined;
  if (SHARDED_SELECTED.size > 0) {
    if (systems.includes('raftstore')) sharded = await measureShardedScenario(profileDir);
    else log('sharded: skipped, raftstore is not among --systems');
  }
  const ours = new Map([...(results.get('raftstore') ?? []), ...(sharded?.metrics ?? [])]);
  const etcd = results.get('etcd');
  const timing = ELECTION_TIMEOUT_MS
    ? `election timeout ${ELECTION_TIMEOUT_MS} ms (heartbeat a tenth) on both`
    : 'default Raft timing';
  const load_end = loadavg();
  if (others)
    console.log(
      `\n3 members each on loopback, both up at once and taking turns per scenario, fsync on, ${timing}, 8-byte keys, ${VALUE_BYTES}-byte values, ${SECONDS} s per scenario, ` +
        `${WORKERS} load workers; gaps: one put every ${GAP_INTERVAL_MS} ms round-robin over all members, fault at ${FAULT_AT_MS} ms, ` +
        'longest interval without an ack that ends after the fault (worst of the rounds)',
    );
  console.log(
    `${others ? '' : '\n'}machine: ${cores} cores; load average (1, 5, 15 min) ${load_start.map((l) => l.toFixed(2)).join(' ')} at the start, ` +
      `${load_end.map((l) => l.toFixed(2)).join(' ')} at the end\n`,
  );
  console.log(table(ours, etcd));
  if (sharded) console.log(`\n${shardedNotes(sharded.outcome, cores)}`);
  if (profileDir) {
    const files = profilesIn(profileDir);
    if (files.length === 0 && others)
      log(`no .cpuprofile in ${profileDir} (members write them only on a graceful exit)`);
    for (const file of files.slice(0, 1)) printProfile(`hottest functions in ${file}`, [file]);
    if (sharded) printShardedProfiles(profileDir, sharded.outcome);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
