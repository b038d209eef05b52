// Command line of the simulation:
//   npm run sim -- --seeds 1000 [--start S] [--jobs J] [--out DIR] [--duration-ms MS]
//   npm run sim -- --seed S          replays one seed with a readable trace (one line per event)
// Prints `seeds: N, violations: V` and, per failing seed, the command that replays it; failing histories are
// written as JSON Lines to --out (default .sim-out/). Exit code 1 when any seed failed.
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toJsonLines } from '../lincheck/history.js';
import { runSeed, type SeedResult } from './simulator.js';

interface CliOptions {
  seed?: number;
  seeds: number;
  start: number;
  jobs: number;
  out: string;
  durationMs?: number;
  quiet: boolean;
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
      case '--worker':
        opts.worker = true;
        break;
      default:
        throw new UsageError(`unknown argument ${a}`);
    }
  }
  return opts;
}

function replayCommand(seed: number, opts: CliOptions): string {
  return `npm run sim -- --seed ${seed}${opts.durationMs === undefined ? '' : ` --duration-ms ${opts.durationMs}`}`;
}

function summarize(r: SeedResult): string {
  const s = r.stats;
  return (
    `seed ${r.seed}: ${r.violations.length === 0 ? 'ok' : 'VIOLATION'} ${r.config.profile} ops ${s.operations} (ok ${s.completed}, unknown ${s.unknown}) ` +
    `leaders ${s.leaders} commit ${s.maxCommitted} crashes ${s.crashes} partitions ${s.partitions} ` +
    `membership ${s.membershipChanges} transfers ${s.transfers} members ${s.members} lincheck ${r.lincheck}` +
    (r.stalled ? ' STALLED' : '')
  );
}

function writeHistory(r: SeedResult, out: string): string {
  mkdirSync(out, { recursive: true });
  const file = join(out, `seed-${r.seed}.jsonl`);
  writeFileSync(file, toJsonLines(r.history));
  writeFileSync(join(out, `seed-${r.seed}.violations.txt`), r.violations.join('\n\n') + '\n');
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
      summary: string;
    }
  | { kind: 'done'; cpuMs: number };

function runRange(
  start: number,
  count: number,
  step: number,
  offset: number,
  opts: CliOptions,
  report: (r: SeedResult) => void,
): void {
  for (let i = offset; i < count; i += step) {
    report(
      runSeed({ seed: start + i, ...(opts.durationMs === undefined ? {} : { durationMs: opts.durationMs }) }),
    );
  }
}

async function runMany(opts: CliOptions): Promise<number> {
  const began = performance.now();
  const failures: { seed: number; violations: string[] }[] = [];
  const unknown: { seed: number; reason: string }[] = [];
  const stalls: number[] = [];
  let done = 0;
  let cpuMs = 0;
  const onResult = (
    seed: number,
    violations: string[],
    stalled: boolean,
    lincheck: string,
    reason: string | undefined,
    summary: string,
  ): void => {
    done++;
    if (stalled) stalls.push(seed);
    if (!opts.quiet && violations.length > 0) console.log(summary);
    if (violations.length > 0) failures.push({ seed, violations });
    if (lincheck === 'unknown') unknown.push({ seed, reason: reason ?? '' });
  };
  const jobs = Math.min(opts.jobs, Math.max(1, opts.seeds));
  if (jobs === 1) {
    const cpu0 = process.cpuUsage();
    runRange(opts.start, opts.seeds, 1, 0, opts, (r) => {
      if (r.violations.length > 0) writeHistory(r, opts.out);
      onResult(r.seed, [...r.violations], r.stalled, r.lincheck, r.lincheckReason, summarize(r));
    });
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
        ];
        if (opts.durationMs !== undefined) args.push('--duration-ms', String(opts.durationMs));
        const child = fork(self, args, { env: { ...process.env, SIM_WORKER_OFFSET: String(k) } });
        return new Promise<void>((resolve, reject) => {
          child.on('message', (m: WorkerMessage) => {
            if (m.kind === 'result') {
              onResult(m.seed, m.violations, m.stalled, m.lincheck, m.lincheckReason, m.summary);
            } else cpuMs += m.cpuMs;
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

function runWorker(opts: CliOptions): void {
  const offset = Number(process.env['SIM_WORKER_OFFSET'] ?? '0');
  const cpu0 = process.cpuUsage();
  runRange(opts.start, opts.seeds, opts.jobs, offset, opts, (r) => {
    if (r.violations.length > 0) writeHistory(r, opts.out);
    const m: WorkerMessage = {
      kind: 'result',
      seed: r.seed,
      violations: [...r.violations],
      stalled: r.stalled,
      lincheck: r.lincheck,
      ...(r.lincheckReason === undefined ? {} : { lincheckReason: r.lincheckReason }),
      summary: summarize(r),
    };
    process.send!(m);
  });
  const cpu = process.cpuUsage(cpu0);
  const done: WorkerMessage = { kind: 'done', cpuMs: (cpu.user + cpu.system) / 1000 };
  process.send!(done);
}

function replayOne(seed: number, opts: CliOptions): number {
  const r = runSeed({
    seed,
    ...(opts.durationMs === undefined ? {} : { durationMs: opts.durationMs }),
    trace: (line) => console.log(line),
  });
  console.log(`config: ${JSON.stringify(r.config)}`);
  console.log(summarize(r));
  for (const v of r.violations) console.log(`VIOLATION ${v}`);
  if (r.violations.length > 0) console.log(`history written to ${writeHistory(r, opts.out)}`);
  console.log(`seeds: 1, violations: ${r.violations.length === 0 ? 0 : 1}`);
  return r.violations.length === 0 ? 0 : 1;
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.worker) {
    runWorker(opts);
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
