// Driver side of one scenario: fork the workers, let them connect, then start them together and measure server
// and generator CPU over the same window.
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monotonic_us, type ProfileWindow } from './cpu-profile.js';
import { LatencyHistogram } from './histogram.js';
import { machineCpu, summedCpu_us } from './proc-cpu.js';
import type { DriverMessage, GapOutcome, WorkerJob, WorkerMessage, WorkerResult } from './protocol.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Workers must connect within this, and finish within duration + deadline + this. */
const WORKER_SLACK_MS = 20_000;

export interface ScenarioResult {
  readonly ok: number;
  /** Requests per second acknowledged within the run's duration. */
  readonly rate_per_s: number;
  readonly errors: number;
  readonly firstError: string;
  readonly elapsed_ms: number;
  readonly histogram: LatencyHistogram;
  readonly serverCpu_us: number;
  readonly generatorCpu_us: number;
  readonly maxAckGap_ms: number;
  /** Wall-clock time (Date.now()) at which the longest gap ended. */
  readonly maxAckGapEnd_ms: number;
  /** The longest gap that ended before the fault: the machine's own stalls, for context. */
  readonly maxAckGapBeforeFault_ms: number;
  /** What requests issued during the longest gap got (paced runs). */
  readonly gapOutcomes: readonly GapOutcome[];
  /** Routed jobs: acks answered by the member asked (not relayed from another), summed over workers. */
  readonly answeredByAsked: number;
  /** When server CPU was measured, on the monotonic clock V8 cpu profiles use: to cut profiles to the run. */
  readonly window_us: ProfileWindow;
  /**
   * CPU the rest of the machine used over the window (everything but the servers and the load workers: the
   * driver, idle clusters, other users of a shared machine); NaN in a fault run.
   */
  readonly otherCpu_us: number;
  /** CPU time the hypervisor took away over the window, summed over cores. */
  readonly steal_us: number;
}

function forkWorker(): ChildProcess {
  // Run the compiled worker when the driver itself is compiled, else the TypeScript source through tsx.
  const compiled = fileURLToPath(import.meta.url).endsWith('.js');
  const file = join(HERE, compiled ? 'worker.js' : 'worker.ts');
  return fork(file, [], {
    execArgv: compiled ? [] : ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function nextMessage(child: ChildProcess, timeout_ms: number, what: string): Promise<WorkerMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`load worker gave no ${what} within ${timeout_ms} ms`));
    }, timeout_ms);
    const onMessage = (m: WorkerMessage): void => {
      cleanup();
      if (m.type === 'failed') reject(new Error(`load worker failed: ${m.error}`));
      else resolve(m);
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`load worker exited (code ${code}) before its ${what}`));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/**
 * Runs `jobs` (one per worker) against servers `serverPids`. `fault`, if given, runs `fault_at_ms` after the start
 * (the gap scenarios); server CPU is then not meaningful and pids may change, so it is reported as NaN.
 */
export async function runScenario(
  jobs: readonly WorkerJob[],
  serverPids: () => readonly number[],
  fault?: { readonly at_ms: number; readonly run: () => Promise<void> },
): Promise<ScenarioResult> {
  const children = jobs.map(() => forkWorker());
  try {
    const ready = children.map((c) => nextMessage(c, WORKER_SLACK_MS, 'ready'));
    children.forEach((c, i) => c.send({ type: 'job', job: jobs[i]! } satisfies DriverMessage));
    await Promise.all(ready);
    const results = children.map((c, i) =>
      nextMessage(c, jobs[i]!.duration_ms + jobs[i]!.deadline_ms + WORKER_SLACK_MS, 'result'),
    );
    const pids = serverPids();
    const cpu0 = fault ? 0 : summedCpu_us(pids);
    const machine0 = machineCpu();
    const from_us = monotonic_us();
    for (const c of children) c.send({ type: 'go' } satisfies DriverMessage);
    let faultDone: Promise<void> = Promise.resolve();
    if (fault) faultDone = new Promise((r) => setTimeout(r, fault.at_ms)).then(fault.run);
    const messages = await Promise.all(results);
    await faultDone;
    const serverCpu_us = fault ? NaN : summedCpu_us(pids) - cpu0;
    const machine1 = machineCpu();
    const to_us = monotonic_us();
    const histogram = new LatencyHistogram();
    let ok = 0;
    let okInWindow = 0;
    let errors = 0;
    let firstError = '';
    let generatorCpu_us = 0;
    let elapsed_ms = 0;
    let maxAckGap_ms = 0;
    let gapOutcomes: readonly GapOutcome[] = [];
    let maxAckGapEnd_ms = 0;
    let maxAckGapBeforeFault_ms = 0;
    let answeredByAsked = 0;
    for (const m of messages) {
      const r: WorkerResult = (m as Extract<WorkerMessage, { type: 'result' }>).result;
      histogram.merge(r.histogram);
      ok += r.ok;
      okInWindow += r.okInWindow;
      errors += r.errors;
      firstError ||= r.firstError;
      generatorCpu_us += r.cpu_us;
      answeredByAsked += r.answeredByAsked ?? 0;
      elapsed_ms = Math.max(elapsed_ms, r.elapsed_ms);
      maxAckGapBeforeFault_ms = Math.max(maxAckGapBeforeFault_ms, r.maxAckGapBeforeFault_ms ?? 0);
      if (r.maxAckGap_ms >= maxAckGap_ms) {
        maxAckGap_ms = r.maxAckGap_ms;
        gapOutcomes = r.gapOutcomes ?? [];
        maxAckGapEnd_ms = r.maxAckGapEnd_ms;
      }
    }
    const rate_per_s = (okInWindow * 1000) / jobs[0]!.duration_ms;
    return {
      ok,
      rate_per_s,
      errors,
      firstError,
      elapsed_ms,
      histogram,
      serverCpu_us,
      generatorCpu_us,
      maxAckGap_ms,
      maxAckGapEnd_ms,
      maxAckGapBeforeFault_ms,
      gapOutcomes,
      answeredByAsked,
      window_us: { from_us, to_us },
      otherCpu_us: machine1.busy_us - machine0.busy_us - serverCpu_us - generatorCpu_us,
      steal_us: machine1.steal_us - machine0.steal_us,
    };
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
