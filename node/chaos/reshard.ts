// The chaos run's coordinator: reshards N → N+1 → N while the fault schedule runs. It starts the new group (shard N),
// moves batches to it until all N+1 groups own an even share, then moves every slot off it back to the N original
// groups and stops it. Each batch is driven by the operator's own loop (driveMove), and because that loop is
// level-triggered and resumable at the same epoch, a batch whose call failed (a member killed, paused or cut off
// under it) is simply driven again at that epoch — a bounded number of times, then the reshard fails with a clear
// error. Phases start from the layout the groups report, not from what the coordinator believes it did.
import { describeError } from '../shared/client/failover-client.js';
import { driveMove, MoveStuckError, nextEpoch, type MoveBatch } from '../shared/sharding/move-driver.js';
import type { SlotState } from '../shared/sharding/move-phase.js';
import type { MeteredSlotGroups } from './metered-slot-groups.js';
import {
  ALL_SLOTS,
  describeBatch,
  describeCounts,
  observeLayout,
  planBatches,
  shardIds,
  unevenBy,
  type Layout,
} from './reshard-plan.js';

export interface ReshardLimits {
  readonly maxBatchSlots: number;
  /** driveMove attempts per batch (and tries of each read) before the reshard fails. */
  readonly attemptsPerBatch: number;
  /** Wall time one batch may take, retries included. */
  readonly batchDeadlineMs: number;
  /** Pause between two attempts (doubling up to 4×). */
  readonly retryPauseMs: number;
  /** Time spent at N+1 shards before moving back, so the workload runs against that layout too. */
  readonly dwellMs: number;
}

export const RESHARD_LIMITS: ReshardLimits = {
  maxBatchSlots: 256,
  attemptsPerBatch: 40,
  batchDeadlineMs: 180_000,
  retryPauseMs: 500,
  dwellMs: 2000,
};

export interface ReshardDeps {
  /** The original shard count N; the new group is shard N. */
  readonly shards: number;
  readonly groups: MeteredSlotGroups;
  /** Starts shard N's founders and resolves once it has a leader (throws when it does not within its bound). */
  readonly startNewShard: () => Promise<void>;
  /** Stops shard N's members once it owns nothing. */
  readonly stopNewShard: () => Promise<void>;
  readonly event: (line: string) => void;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly limits?: ReshardLimits;
}

export interface BatchFigures {
  readonly batch: string;
  readonly epoch: number;
  readonly attempts: number;
  /** Keys the target acknowledged over all attempts (a page an attempt redid counts again). */
  readonly keysCopied: number;
  readonly pauseMs: number;
  readonly tookMs: number;
}

export interface ReshardReport {
  readonly batches: readonly BatchFigures[];
  readonly keysCopied: number;
  readonly maxPauseMs: number;
  /** Start of shard N to an even spread over N+1. */
  readonly outMs: number;
  /** From the dwell's end to an even spread over N, shard N stopped. */
  readonly backMs: number;
}

export class ReshardError extends Error {
  override readonly name = 'ReshardError';
}

export async function reshardOutAndBack(d: ReshardDeps): Promise<ReshardReport> {
  const limits = d.limits ?? RESHARD_LIMITS;
  const n = d.shards;
  const originals = shardIds(n);
  const all = shardIds(n + 1);
  const batches: BatchFigures[] = [];

  /** Runs a read until it answers, within the batch bounds (a read is always safe to repeat). */
  const retried = async <T>(what: string, read: () => Promise<T>): Promise<T> => {
    const started = d.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await read();
      } catch (err) {
        if (attempt >= limits.attemptsPerBatch || d.now() - started > limits.batchDeadlineMs) {
          throw new ReshardError(
            `${what} failed ${attempt} times over ${d.now() - started} ms; last error: ${describeError(err)}`,
          );
        }
        await d.sleep(limits.retryPauseMs);
      }
    }
  };

  const layoutOf = async (shards: readonly number[]): Promise<Layout> => {
    const states = new Map<number, SlotState[]>();
    for (const shard of shards) {
      const status = await retried(`reading shard ${shard}'s slots`, () => d.groups.status(shard, ALL_SLOTS));
      states.set(
        shard,
        status.records.map((r) => r.state),
      );
    }
    return observeLayout(states);
  };

  const driveBatch = async (batch: MoveBatch, label: string): Promise<void> => {
    const started = d.now();
    d.groups.startBatch();
    const epoch = await retried(`choosing the epoch of ${label}`, () => nextEpoch(d.groups, batch));
    let finalAttemptKeys = 0;
    let attempts = 0;
    for (;;) {
      attempts += 1;
      try {
        finalAttemptKeys = (await driveMove(d.groups, batch, epoch, { now: d.now })).keysCopied;
        break;
      } catch (err) {
        // The groups refused the same step round after round: retrying cannot help, and says nothing new.
        if (err instanceof MoveStuckError) throw new ReshardError(`${label}: ${err.message}`);
        const tookMs = d.now() - started;
        if (attempts >= limits.attemptsPerBatch || tookMs > limits.batchDeadlineMs) {
          throw new ReshardError(
            `${label} at epoch ${epoch} did not complete after ${attempts} attempts over ${tookMs} ms; ` +
              `last error: ${describeError(err)}`,
          );
        }
        d.event(
          `reshard ${label} attempt ${attempts} failed (${describeError(err)}); again at epoch ${epoch}`,
        );
        await d.sleep(limits.retryPauseMs * Math.min(4, attempts));
      }
    }
    const meter = d.groups.finishBatch();
    const figures: BatchFigures = {
      batch: label,
      epoch,
      attempts,
      keysCopied: meter.keysIngested,
      pauseMs: Math.round(meter.pauseMs),
      tookMs: Math.round(d.now() - started),
    };
    batches.push(figures);
    d.event(
      `reshard ${label} done at epoch ${epoch}: ${meter.keysIngested} keys copied (${finalAttemptKeys} by the ` +
        `attempt that finished), writes paused ${figures.pauseMs} ms, ${attempts} attempt(s), ${meter.failedCalls} failed call(s), ` +
        `${figures.tookMs} ms`,
    );
  };

  /** Moves batches until `layout` is even over `target`; returns the layout the groups then report. */
  const phase = async (name: string, from: Layout, target: readonly number[]): Promise<Layout> => {
    if (from.map === undefined)
      throw new ReshardError(`${name}: no clean layout to plan from: ${from.problems.join('; ')}`);
    const plan = planBatches(from.map, target, limits.maxBatchSlots);
    d.event(`reshard ${name}: ${plan.length} batches from ${describeCounts(from)}`);
    for (const [i, batch] of plan.entries()) {
      await driveBatch(batch, `${name} batch ${i + 1}/${plan.length} ${describeBatch(batch)}`);
    }
    const after = await layoutOf(all);
    const uneven = unevenBy(after, target);
    if (uneven !== undefined) throw new ReshardError(`${name} ended uneven: ${uneven}`);
    d.event(`reshard ${name} even: ${describeCounts(after)}`);
    return after;
  };

  const t0 = d.now();
  d.event(`reshard ${n} -> ${n + 1}: starting shard ${n}`);
  await d.startNewShard();
  d.event(`reshard: shard ${n} has a leader after ${Math.round(d.now() - t0)} ms`);
  const start = await layoutOf(all);
  const startUneven = unevenBy(start, originals);
  if (startUneven !== undefined) throw new ReshardError(`the layout before the reshard: ${startUneven}`);
  const atN1 = await phase(`out ${n}->${n + 1}`, start, all);
  const outMs = d.now() - t0;
  await d.sleep(limits.dwellMs);
  const t1 = d.now();
  await phase(`back ${n + 1}->${n}`, atN1, originals);
  d.event(`reshard: shard ${n} owns nothing; stopping its members`);
  await d.stopNewShard();
  const backMs = d.now() - t1;
  const report: ReshardReport = {
    batches,
    keysCopied: batches.reduce((sum, b) => sum + b.keysCopied, 0),
    maxPauseMs: Math.max(0, ...batches.map((b) => b.pauseMs)),
    outMs: Math.round(outMs),
    backMs: Math.round(backMs),
  };
  d.event(
    `reshard summary: ${batches.length} batches (${batches.reduce((s, b) => s + b.attempts, 0)} attempts), ` +
      `${report.keysCopied} keys copied, max pause ${report.maxPauseMs} ms, out ${report.outMs} ms, back ${report.backMs} ms`,
  );
  return report;
}
