// The worker loop of the controller-runtime contract: N workers take keys from the queue (one key is never held by
// two workers), reconcile, and put the key back: after the requeue delay on success, rate-limited on error. A
// terminal outcome is logged and counted, not retried.
import type { Logger } from 'pino';
import type { OperatorMetrics } from '../metrics/metrics.js';
import type { WorkQueue } from '../queue/work-queue.js';
import { errorMessage } from '../util/timeout.js';
import type { Outcome } from './reconciler.js';

export interface ReconcileFn {
  reconcile(key: string): Promise<Outcome>;
}

export class Controller {
  private running: Promise<void>[] = [];

  constructor(
    private readonly queue: WorkQueue,
    private readonly reconciler: ReconcileFn,
    private readonly metrics: OperatorMetrics,
    private readonly log: Logger,
    private readonly workers: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    if (!(workers >= 1)) throw new Error(`controller: workers ${workers} must be at least 1`);
  }

  start(): void {
    if (this.running.length > 0) return;
    this.running = Array.from({ length: this.workers }, (_, i) => this.worker(i));
  }

  /** Stops handing out keys and waits (up to `timeoutMs`) for reconciles in progress. True if they all finished. */
  async stop(timeoutMs: number): Promise<boolean> {
    this.queue.shutDown();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((r) => {
      timer = setTimeout(() => r(false), timeoutMs);
    });
    const finished = Promise.all(this.running).then(() => true as const);
    const ok = await Promise.race([finished, timedOut]);
    clearTimeout(timer);
    return ok;
  }

  private async worker(id: number): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.metrics.queueDepth.set(this.queue.len());
      await this.processOne(key, id);
    }
  }

  /** One reconcile of `key`, with its bookkeeping. Never throws. */
  async processOne(key: string, worker = 0): Promise<void> {
    const start = this.clock();
    let result: 'success' | 'requeue' | 'error' | 'terminal' = 'error';
    try {
      const outcome = await this.reconciler.reconcile(key);
      result = outcome.result;
      this.queue.forget(key);
      if (outcome.result === 'terminal') {
        this.log.error(
          { key, err: outcome.error },
          'reconcile failed for good; waiting for a change to the object',
        );
      } else if (outcome.requeueAfterMs !== undefined) {
        this.queue.addAfter(key, outcome.requeueAfterMs);
      }
    } catch (err) {
      result = 'error';
      const failures = this.queue.failures(key) + 1;
      this.log.warn(
        { key, worker, failures, err: errorMessage(err) },
        'reconcile failed; retrying with backoff',
      );
      this.queue.addRateLimited(key);
    } finally {
      this.queue.done(key);
      const seconds = (this.clock() - start) / 1000;
      this.metrics.reconciles.inc({ result });
      this.metrics.reconcileDuration.observe({ result }, seconds);
      this.metrics.queueDepth.set(this.queue.len());
    }
  }
}
