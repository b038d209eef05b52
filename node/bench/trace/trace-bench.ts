// npm run bench:trace: where a write's time goes, at 1, 16 and 256 puts in flight. For each level a fresh 3-member
// raftstore cluster (fsync on, loopback, the compiled build) runs with --trace-writes, the bench's load generator
// puts for --seconds, the members stop (their traces flushed), and the report joins the traces into per-stage
// distributions (trace-report.ts). `npm run bench:trace -- --report DIR` reports an existing trace directory.
// Figures, not assertions: tracing itself costs a little (one array push per sampled entry per stage).
import { createReadStream, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { TraceRecord } from '../../src/observability/write-trace.js';
import { runScenario } from '../load/run-scenario.js';
import { RaftstoreSystem } from '../load/system.js';
import { formatTraceReport, parseTraceLine, traceReport } from './trace-report.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const HELP = `usage: bench:trace [--seconds S] [--inflight 1,16,256] [--sample N] [--workers N] [--out DIR] [--source]
       bench:trace --report DIR
  --seconds   puts per level (default 5)
  --inflight  the in-flight levels, comma-separated (default 1,16,256)
  --sample    trace every N-th log index (default 16)
  --workers   load worker processes for levels above 1 (default 2)
  --out       where the traces go (default .bench-out/trace-<time>), one directory per level
  --report    only report the traces in DIR (every *.trace.jsonl in it)
  --source    run the members from TypeScript sources (default: dist/, needs npm run build)`;

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    inflight: { type: 'string', default: '1,16,256' },
    sample: { type: 'string', default: '16' },
    workers: { type: 'string', default: '2' },
    out: { type: 'string' },
    report: { type: 'string' },
    source: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

function positiveInteger(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
  return n;
}

/** Every record of every member's trace file in `dir`; a malformed line stops the report, naming it. */
export async function readTraces(dir: string): Promise<TraceRecord[]> {
  if (!existsSync(dir)) throw new Error(`${dir} does not exist`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.trace.jsonl'));
  if (files.length === 0) throw new Error(`${dir} holds no *.trace.jsonl file`);
  const records: TraceRecord[] = [];
  for (const file of files) {
    let n = 0;
    for await (const line of createInterface({
      input: createReadStream(join(dir, file)),
      crlfDelay: Infinity,
    })) {
      n++;
      if (line === '') continue;
      const r = parseTraceLine(line);
      if (typeof r === 'string') throw new Error(`${join(dir, file)} line ${n}: ${r}`);
      records.push(r);
    }
  }
  return records;
}

async function traceLevel(inflight: number, dir: string): Promise<void> {
  const seconds = Number(args.seconds);
  const workers = inflight === 1 ? 1 : Math.min(positiveInteger('workers', args.workers), inflight);
  process.env['RAFTSTORE_TRACE_WRITES'] = dir;
  process.env['RAFTSTORE_TRACE_SAMPLE'] = String(positiveInteger('sample', args.sample));
  const sut = await RaftstoreSystem.start({ compiled: !args.source, logLevel: 'warn' });
  try {
    const leader = await sut.leaderEndpoint(30_000);
    const r = await runScenario(
      Array.from({ length: workers }, (_, i) => ({
        system: 'raftstore' as const,
        op: 'put' as const,
        endpoints: [leader],
        inflight: Math.floor(inflight / workers) + (i < inflight % workers ? 1 : 0),
        channelsPerEndpoint: inflight >= 64 ? 2 : 1,
        duration_ms: seconds * 1000,
        deadline_ms: 5000,
        keySpace: 10_000,
        valueBytes: 256,
        workerIndex: i,
      })),
      () => sut.pids(),
    );
    process.stdout.write(
      `\n${inflight} in flight: ${r.rate_per_s.toFixed(0)} puts/s, p50 ${(r.histogram.quantile_us(0.5) / 1000).toFixed(2)} ms, ` +
        `p99 ${(r.histogram.quantile_us(0.99) / 1000).toFixed(2)} ms, ${r.errors} errors\n`,
    );
  } finally {
    await sut.stop();
    delete process.env['RAFTSTORE_TRACE_WRITES'];
  }
  process.stdout.write(formatTraceReport(traceReport(await readTraces(dir)), `${inflight} in flight`) + '\n');
}

async function main(): Promise<void> {
  if (args.help) {
    process.stdout.write(HELP + '\n');
    return;
  }
  if (args.report !== undefined) {
    process.stdout.write(formatTraceReport(traceReport(await readTraces(args.report)), args.report) + '\n');
    return;
  }
  const levels = args.inflight.split(',').map((v) => positiveInteger('inflight', v.trim()));
  const out = args.out ?? join(REPO, '.bench-out', `trace-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  process.stdout.write(
    `traces in ${out}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  for (const level of levels) {
    const dir = join(out, `inflight-${level}`);
    mkdirSync(dir, { recursive: true });
    await traceLevel(level, dir);
  }
  process.stdout.write(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:trace: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
