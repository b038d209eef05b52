// A load worker process: opens its own gRPC channels, waits for "go", runs its share of the load for a fixed
// duration and reports counts, a latency histogram, the longest gap between acks and its own CPU over IPC.
// Several of these run at once so that the generator is not the bottleneck (each is one Node event loop).
import { randomBytes } from 'node:crypto';
import { LatencyHistogram } from './histogram.js';
import { keyOf, routeKeys } from './key-routes.js';
import { openTarget, type KvTarget } from './kv-target.js';
import type { DriverMessage, GapOutcome, WorkerJob, WorkerMessage, WorkerResult } from './protocol.js';

const CONNECT_TIMEOUT_MS = 10_000;
/** Bound on outstanding paced requests: with a dead endpoint and long deadlines they could otherwise pile up. */
const MAX_PACED_OUTSTANDING = 4096;
/** Bound on the paced requests remembered for explaining the longest gap (a 4 s run at 2 ms needs 2000). */
const MAX_TIMELINE = 100_000;
/** Error texts are grouped by this prefix (gRPC code and the start of the details). */
const OUTCOME_CHARS = 100;

interface Issued {
  readonly endpoint: string;
  readonly start_ms: number;
  end_ms: number;
  outcome: string;
}

/** Groups the requests issued during [from, to] by endpoint and outcome. */
function outcomesDuring(timeline: readonly Issued[], from: number, to: number): GapOutcome[] {
  const groups = new Map<string, { -readonly [K in keyof GapOutcome]: GapOutcome[K] }>();
  for (const r of timeline) {
    if (r.start_ms < from || r.start_ms > to) continue;
    const key = `${r.endpoint} ${r.outcome}`;
    const latency = r.end_ms - r.start_ms;
    const g = groups.get(key);
    if (g) {
      g.count++;
      g.lastStart_ms = r.start_ms - from;
      g.maxLatency_ms = Math.max(g.maxLatency_ms, latency);
    } else {
      groups.set(key, {
        endpoint: r.endpoint,
        outcome: r.outcome,
        count: 1,
        firstStart_ms: r.start_ms - from,
        lastStart_ms: r.start_ms - from,
        maxLatency_ms: latency,
      });
    }
  }
  return [...groups.values()].sort((a, b) => a.firstStart_ms - b.firstStart_ms);
}

function send(msg: WorkerMessage): void {
  if (!process.send) throw new Error('worker.ts must be started with child_process.fork');
  process.send(msg);
}

async function run(job: WorkerJob, targets: readonly KvTarget[], value: Buffer): Promise<WorkerResult> {
  const hist = new LatencyHistogram();
  let ok = 0;
  let okInWindow = 0;
  let errors = 0;
  let firstError = '';
  let firstAck_ms = 0;
  let lastAck_ms = 0;
  let maxGap_ms = 0;
  let maxGapEnd_ms = 0;
  let maxGapBeforeFault_ms = 0;
  let next = 0;
  let answeredByAsked = 0;
  const timeline: Issued[] = [];
  // Routed jobs: key index → endpoint, computed before the clock starts; the channel still rotates per request.
  const routes = job.routing ? routeKeys(job.keySpace, job.routing, job.endpoints.length) : undefined;
  const channels = job.channelsPerEndpoint;
  const paced = job.paced_interval_ms !== undefined;
  const cpu0 = process.cpuUsage();
  const start_ms = Date.now();
  const end_ms = start_ms + job.duration_ms;
  const fault_ms = job.fault_at_ms === undefined ? start_ms : start_ms + job.fault_at_ms;
  /** Records an interval without acks that ended at `to`. */
  const gap = (from: number, to: number): void => {
    if (to < fault_ms) {
      maxGapBeforeFault_ms = Math.max(maxGapBeforeFault_ms, to - from);
      return;
    }
    if (to - from > maxGap_ms) {
      maxGap_ms = to - from;
      maxGapEnd_ms = to;
    }
  };

  const one = async (): Promise<void> => {
    const n = Math.floor(Math.random() * job.keySpace);
    const slot = routes ? routes[n]! * channels + (next++ % channels) : next++ % targets.length;
    const target = targets[slot]!;
    const key = keyOf(n);
    const t0 = process.hrtime.bigint();
    const issued: Issued | undefined =
      paced && timeline.length < MAX_TIMELINE
        ? {
            endpoint: job.endpoints[Math.floor(slot / channels)] ?? '?',
            start_ms: Date.now(),
            end_ms: 0,
            outcome: 'ok',
          }
        : undefined;
    if (issued) timeline.push(issued);
    try {
      if (job.op === 'put') {
        const member = await target.put(key, value, job.deadline_ms);
        if (routes && member === job.routing!.endpointNames[Math.floor(slot / channels)]) answeredByAsked++;
      } else await target.get(key, job.op === 'get-serializable', job.deadline_ms);
      hist.record(Number(process.hrtime.bigint() - t0) / 1000);
      ok++;
      const now = Date.now();
      if (now <= end_ms) okInWindow++;
      if (firstAck_ms === 0) firstAck_ms = now;
      if (lastAck_ms > 0) gap(lastAck_ms, now);
      lastAck_ms = Math.max(lastAck_ms, now);
      if (issued) issued.end_ms = now;
    } catch (e) {
      errors++;
      const message = e instanceof Error ? e.message : String(e);
      if (!firstError) firstError = message;
      if (issued) {
        issued.end_ms = Date.now();
        issued.outcome = message.slice(0, OUTCOME_CHARS);
      }
    }
  };

  if (job.paced_interval_ms !== undefined) {
    const interval = job.paced_interval_ms;
    const outstanding = new Set<Promise<void>>();
    for (let i = 0; Date.now() < end_ms; i++) {
      if (outstanding.size < MAX_PACED_OUTSTANDING) {
        const p = one().finally(() => outstanding.delete(p));
        outstanding.add(p);
      }
      // Absolute schedule, so a slow tick does not shift every later request.
      const wait = start_ms + (i + 1) * interval - Date.now();
      await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    }
    await Promise.all(outstanding);
  } else {
    const loop = async (): Promise<void> => {
      while (Date.now() < end_ms) await one();
    };
    await Promise.all(Array.from({ length: job.inflight }, loop));
  }
  const cpu = process.cpuUsage(cpu0);
  // The first ack and the end of the run bound gaps too: an outage that outlasts the run must not vanish.
  const stopped_ms = Math.max(end_ms, lastAck_ms);
  const edges: [number, number][] = [
    [start_ms, firstAck_ms || stopped_ms],
    [lastAck_ms || start_ms, stopped_ms],
  ];
  for (const [from, to] of edges) gap(from, to);
  return {
    ok,
    okInWindow,
    errors,
    firstError,
    histogram: hist.toCounts(),
    maxAckGap_ms: maxGap_ms,
    maxAckGapEnd_ms: maxGapEnd_ms,
    ...(job.fault_at_ms === undefined ? {} : { maxAckGapBeforeFault_ms: maxGapBeforeFault_ms }),
    ...(paced ? { gapOutcomes: outcomesDuring(timeline, maxGapEnd_ms - maxGap_ms, maxGapEnd_ms) } : {}),
    ...(routes ? { answeredByAsked } : {}),
    cpu_us: cpu.user + cpu.system,
    elapsed_ms: Date.now() - start_ms,
  };
}

async function main(): Promise<void> {
  const job = await new Promise<WorkerJob>((resolve) =>
    process.once('message', (m: DriverMessage) => {
      if (m.type === 'job') resolve(m.job);
    }),
  );
  const targets: KvTarget[] = [];
  for (const endpoint of job.endpoints)
    for (let c = 0; c < job.channelsPerEndpoint; c++)
      targets.push(openTarget(job.system, endpoint, job.routing !== undefined));
  // Paced gap writers start while an endpoint may be down later, but all are up at the start.
  await Promise.all(targets.map((t) => t.waitReady(CONNECT_TIMEOUT_MS)));
  const value = randomBytes(job.valueBytes);
  const go = new Promise<void>((resolve) =>
    process.on('message', (m: DriverMessage) => {
      if (m.type === 'go') resolve();
    }),
  );
  send({ type: 'ready' });
  await go;
  const result = await run(job, targets, value);
  for (const t of targets) t.close();
  send({ type: 'result', result });
}

main().then(
  () => process.disconnect?.(),
  (e: unknown) => {
    send({ type: 'failed', error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    process.exitCode = 1;
    process.disconnect?.();
  },
);
