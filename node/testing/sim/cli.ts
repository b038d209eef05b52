// Command line of the simulation (`npm run sim -- --help` prints the usage below).
// Prints `seeds: N, violations: V` and, per failing seed, the command that replays it; failing histories are
// written as JSON Lines to --out (default .sim-out/). Exit code 1 when any seed failed.
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toJsonLines } from '../lincheck/history.js';
import { CORE_MUTATION_NAMES, isCoreMutationName, type CoreMutationName } from './core-mutations.js';
import {
  FAR_BELOW_MEDIAN,
  runSeedWithLiveness,
  summarizeLiveness,
  type Liveness,
  type MeasuredSeed,
} from './liveness.js';
import { runSeed, type SeedResult, type SimOptions } from './simulator.js';

const USAGE = `npm run sim -- [options]
  --seeds N          run N seeds (default 100), from --start S (default 0)
  --jobs J           worker processes (default min(2, CPUs))
  --seed S           replay one seed with a readable trace (one line per event)
  --duration-ms MS   simulated time per seed (default 10000)
  --liveness         also run each seed with every fault off and report operations answered with faults /
                     without (doubles the CPU time); seeds below ${FAR_BELOW_MEDIAN} × the median of their profile
                     are flagged, not failed
  --mutate NAME      plant a bug in the core from outside, to see the checkers catch it (repeatable):
                     ${CORE_MUTATION_NAMES.join(', ')}
  --verbose          print every seed's summary line, not only failing and flagged ones
  --quiet            print only the totals and the failing seeds
  --out DIR          where failing histories go (default .sim-out)
  --help             this text`;

interface CliOptions {
  seed?: number;
  seeds: number;
  start: number;
  jobs: number;
  out: string;
  durationMs?: number;
  quiet: boolean;
  verbose: boolean;
  liveness: boolean;
  mutations: CoreMutationName[];
  help: boolean;
  /** Internal: this process is a worker running a slice of the seeds. */
  worker: boolean;
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

function parseArgs(argv: readonly string[]): CliOptions {
  const opts: CliOptions = {
    seeds: 100,
    start: 0,
    jobs: Math.min(2, availableParallelism()),
    out: '.sim-out',
    quiet: false,
    verbose: false,
    liveness: false,
    mutations: [],
    help: false,
    worker: false,
  };
  const int = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < 0)
      throw new UsageError(`${name} needs a non-negative integer, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--seed':
        opts.seed = int(a, argv[++i]);
        break;
      case '--seeds':
        opts.seeds = int(a, argv[++i]);
        break;
      case '--start':
        opts.start = int(a, argv[++i]);
        break;
      case '--jobs':
        opts.jobs = Math.max(1, int(a, argv[++i]));
        break;
      case '--duration-ms':
        opts.durationMs = int(a, argv[++i]);
        break;
      case '--out': {
        const v = argv[++i];
        if (v === undefined) throw new UsageError('--out needs a directory');
        opts.out = v;
        break;
      }
      case '--quiet':
        opts.quiet = true;
        break;
      case '--verbose':
        opts.verbose = true;
        break;
      case '--liveness':
        opts.liveness = true;
        break;
      case '--mutate': {
        const v = argv[++i] ?? '';
        if (!isCoreMutationName(v))
          throw new UsageError(`--mutate needs one of ${CORE_MUTATION_NAMES.join(', ')}, got ${v}`);
        if (!opts.mutations.includes(v)) opts.mutations.push(v);
        break;
      }
      case '--help':
        opts.help = true;
        break;
      case '--worker':
        opts.worker = true;
        break;
      default:
        throw new UsageError(`unknown argument ${a}`);
    }
  }
  return opts;
}

/** The flags a seed's run depends on besides the seed, as they are written on the command line. */
function runFlags(opts: CliOptions): string[] {
  const flags: string[] = [];
  if (opts.durationMs !== undefined) flags.push('--duration-ms', String(opts.durationMs));
  for (const m of opts.mutations) flags.push('--mutate', m);
  return flags;
}

function replayCommand(seed: number, opts: CliOptions): string {
  return ['npm run sim -- --seed', String(seed), ...runFlags(opts)].join(' ');
}

function simOptions(seed: number, opts: CliOptions): SimOptions {
  const coreMutations: { [K in CoreMutationName]?: boolean } = {};
  for (const m of opts.mutations) coreMutations[m] = true;
  return {
    seed,
    ...(opts.durationMs === undefined ? {} : { durationMs: opts.durationMs }),
    ...(opts.mutations.length === 0 ? {} : { coreMutations }),
  };
}

function summarize(r: SeedResult, liveness: Liveness | undefined): string {
  const s = r.stats;
  const n = r.config.node;
  return (
    `seed ${r.seed}: ${r.violations.length === 0 ? 'ok' : 'VIOLATION'} ${r.config.profile} ops ${s.operations} (ok ${s.completed}, unknown ${s.unknown}) ` +
    `leaders ${s.leaders} commit ${s.maxCommitted} crashes ${s.crashes} partitions ${s.partitions} ` +
    `membership ${s.membershipChanges} transfers ${s.transfers} members ${s.members} ` +
    `preVote ${n.preVote ? 'on' : 'off'} checkQuorum ${n.checkQuorum ? 'on' : 'off'} lincheck ${r.lincheck}` +
    (liveness === undefined
      ? ''
      : ` liveness ${liveness.ratio.toFixed(2)} (${liveness.completed}/${liveness.completedHealthy} without faults)`) +
    (r.stalled ? ' STALLED' : '')
  );
}

function writeHistory(r: SeedResult, out: string, violations: readonly string[]): string {
  mkdirSync(out, { recursive: true });
  const file = join(out, `seed-${r.seed}.jsonl`);
  writeFileSync(file, toJsonLines(r.history));
  writeFileSync(join(out, `seed-${r.seed}.violations.txt`), violations.join('\n\n') + '\n');
  return file;
}

/** Messages a worker sends to its parent. */
type WorkerMessage =
  | {
      kind: 'result';
      seed: number;
      violations: string[];
      stalled: boolean;
      lincheck: string;
      lincheckReason?: string;
      profile: string;
      ratio?: number;
      summary: string;
    }
  | { kind: 'done'; cpuMs: number };

/** Runs one seed (and its fault-free twin with --liveness); the twin's violations count as the seed's. */
async function runOne(seed: number, opts: CliOptions, extra: Partial<SimOptions> = {}): Promise<SeedOutcome> {
  const options = { ...simOptions(seed, opts), ...extra };
  if (!opts.liveness) {
    const result = await runSeed(options);
    return { result, violations: [...result.violations], liveness: undefined };
  }
  const { result, liveness } = await runSeedWithLiveness(options);
  return {
    result,
    violations: [...result.violations, ...liveness.healthyViolations.map((v) => `fault-free run: ${v}`)],
    liveness,
  };
}

interface SeedOutcome {
  readonly result: SeedResult;
  readonly violations: string[];
  readonly liveness: Liveness | undefined;
}

async function runRange(
  start: number,
  count: number,
  step: number,
  offset: number,
  opts: CliOptions,
  report: (o: SeedOutcome) => void,
): Promise<void> {
  for (let i = offset; i < count; i += step) report(await runOne(start + i, opts));
}

async function runMany(opts: CliOptions): Promise<number> {
  const began = performance.now();
  const failures: { seed: number; violations: string[] }[] = [];
  const unknown: { seed: number; reason: string }[] = [];
  const stalls: number[] = [];
  const measured: MeasuredSeed[] = [];
  const summaries = new Map<number, string>();
  let done = 0;
  let cpuMs = 0;
  const onResult = (m: Extract<WorkerMessage, { kind: 'result' }>): void => {
    done++;
    if (m.stalled) stalls.push(m.seed);
    if (m.ratio !== undefined) {
      measured.push({ seed: m.seed, profile: m.profile as MeasuredSeed['profile'], ratio: m.ratio });
      summaries.set(m.seed, m.summary);
    }
    if (opts.verbose || (!opts.quiet && m.violations.length > 0)) console.log(m.summary);
    if (m.violations.length > 0) failures.push({ seed: m.seed, violations: m.violations });
    if (m.lincheck === 'unknown') unknown.push({ seed: m.seed, reason: m.lincheckReason ?? '' });
  };
  const jobs = Math.min(opts.jobs, Math.max(1, opts.seeds));
  if (jobs === 1) {
    const cpu0 = process.cpuUsage();
    await runRange(opts.start, opts.seeds, 1, 0, opts, (o) => onResult(resultMessage(o, opts)));
    const cpu = process.cpuUsage(cpu0);
    cpuMs = (cpu.user + cpu.system) / 1000;
  } else {
    // Workers run seeds start+k, start+k+jobs, ... in this same program; results come back over IPC.
    const self = fileURLToPath(import.meta.url);
    await Promise.all(
      Array.from({ length: jobs }, (_, k) => {
        const args = [
          '--worker',
          '--seeds',
          String(opts.seeds),
          '--start',
          String(opts.start),
          '--jobs',
          String(jobs),
          '--out',
          opts.out,
          ...runFlags(opts),
        ];
        if (opts.liveness) args.push('--liveness');
        const child = fork(self, args, { env: { ...process.env, SIM_WORKER_OFFSET: String(k) } });
        return new Promise<void>((resolve, reject) => {
          child.on('message', (m: WorkerMessage) => {
            if (m.kind === 'result') onResult(m);
            else cpuMs += m.cpuMs;
          });
          child.on('error', reject);
          child.on('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`worker ${k} exited with ${code}`)),
          );
        });
      }),
    );
  }
  const seconds = (performance.now() - began) / 1000;
  failures.sort((a, b) => a.seed - b.seed);
  for (const f of failures) {
    console.log(`FAIL seed ${f.seed}: ${f.violations[0]!.split('\n')[0]}`);
    console.log(
      `  replay: ${replayCommand(f.seed, opts)}   history: ${join(opts.out, `seed-${f.seed}.jsonl`)}`,
    );
  }
  for (const u of unknown) console.log(`lincheck unknown for seed ${u.seed}: ${u.reason}`);
  if (opts.liveness) {
    const { lines, flagged } = summarizeLiveness(measured);
    if (!opts.quiet && !opts.verbose)
      for (const f of flagged) console.log(`FLAGGED ${summaries.get(f.seed)}`);
    for (const line of lines) console.log(line);
  }
  stalls.sort((a, b) => a - b);
  if (stalls.length > 0) {
    console.log(
      `liveness: no client answered after healing in ${stalls.length} seed(s): ${stalls.slice(0, 20).join(', ')}`,
    );
  }
  console.log(`seeds: ${done}, violations: ${failures.length}`);
  console.log(
    `(${seconds.toFixed(1)} s wall, ${(cpuMs / 1000).toFixed(1)} s CPU in the simulation, ${jobs} process${jobs === 1 ? '' : 'es'}; ` +
      `lincheck unknown: ${unknown.length}; stalled: ${stalls.length})`,
  );
  return failures.length === 0 ? 0 : 1;
}

async function runWorker(opts: CliOptions): Promise<void> {
  const offset = Number(process.env['SIM_WORKER_OFFSET'] ?? '0');
  const cpu0 = process.cpuUsage();
  await runRange(opts.start, opts.seeds, opts.jobs, offset, opts, (o) =>
    process.send!(resultMessage(o, opts)),
  );
  const cpu = process.cpuUsage(cpu0);
  const done: WorkerMessage = { kind: 'done', cpuMs: (cpu.user + cpu.system) / 1000 };
  process.send!(done);
}

/** A seed's outcome as the parent process hears it; failing histories are written where the seed ran. */
function resultMessage(o: SeedOutcome, opts: CliOptions): Extract<WorkerMessage, { kind: 'result' }> {
  const r = o.result;
  if (o.violations.length > 0) writeHistory(r, opts.out, o.violations);
  return {
    kind: 'result',
    seed: r.seed,
    violations: o.violations,
    stalled: r.stalled,
    lincheck: r.lincheck,
    ...(r.lincheckReason === undefined ? {} : { lincheckReason: r.lincheckReason }),
    profile: r.config.profile,
    ...(o.liveness === undefined ? {} : { ratio: o.liveness.ratio }),
    summary: summarize(r, o.liveness),
  };
}

async function replayOne(seed: number, opts: CliOptions): Promise<number> {
  const o = await runOne(seed, opts, { trace: (line) => console.log(line) });
  const r = o.result;
  console.log(`config: ${JSON.stringify(r.config)}`);
  console.log(summarize(r, o.liveness));
  for (const v of o.violations) console.log(`VIOLATION ${v}`);
  if (o.violations.length > 0) console.log(`history written to ${writeHistory(r, opts.out, o.violations)}`);
  console.log(`seeds: 1, violations: ${o.violations.length === 0 ? 0 : 1}`);
  return o.violations.length === 0 ? 0 : 1;
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  if (opts.worker) {
    await runWorker(opts);
    return 0;
  }
  if (opts.seed !== undefined) return replayOne(opts.seed, opts);
  return runMany(opts);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof UsageError ? `usage: ${err.message}` : err);
    process.exitCode = 2;
  },
);
