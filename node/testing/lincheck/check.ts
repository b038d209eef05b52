// Checks a whole history: split it into independent partitions (per key for the key-value model), search each with
// the memoized Wing–Gong algorithm (wgl.ts), and on the first violation shrink it to a readable counterexample.
// Every search is bounded; a search that runs out of budget gives "unknown", never a pass or a fail.
import { effectiveReturn, type Operation } from './history.js';
import type { Model } from './model.js';
import { shrinkViolation } from './shrink.js';
import { searchLinearization, type SearchLimits } from './wgl.js';

export type CheckResult =
  | { kind: 'linearizable'; operations: number; partitions: number }
  | {
      kind: 'violation';
      partitionKey: string;
      /** The smallest still non-linearizable set of operations found, in call order. */
      operations: Operation<unknown, unknown>[];
      explanation: string;
      /** How many operations the failing partition had before shrinking. */
      partitionOperations: number;
    }
  | { kind: 'unknown'; reason: string };

export interface CheckOptions {
  /** Search steps allowed per partition (default 5,000,000: a few seconds, enough for 10,000 ops on one busy key). */
  budgetSteps?: number;
  /** Wall-clock bound for the whole check, shrinking included, measured with `now`. */
  deadlineMs?: number;
  /** Milliseconds clock used for deadlineMs (default performance.now). */
  now?: () => number;
  /** Search steps shared by all checks made while shrinking a violation (default 2,000,000). */
  shrinkBudgetSteps?: number;
  /** Memory bound of one partition's memo cache (default 256 MiB). */
  maxCacheBytes?: number;
}

export const DEFAULT_BUDGET_STEPS = 5_000_000;
export const DEFAULT_SHRINK_BUDGET_STEPS = 2_000_000;
export const DEFAULT_MAX_CACHE_BYTES = 256 * 1024 * 1024;

export function checkLinearizable<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckResult {
  history.forEach(validateOperation);
  const budgetSteps = positive('budgetSteps', options.budgetSteps ?? DEFAULT_BUDGET_STEPS);
  const shrinkBudgetSteps = positive(
    'shrinkBudgetSteps',
    options.shrinkBudgetSteps ?? DEFAULT_SHRINK_BUDGET_STEPS,
  );
  const maxCacheBytes = positive('maxCacheBytes', options.maxCacheBytes ?? DEFAULT_MAX_CACHE_BYTES);
  const now = options.now ?? (() => performance.now());
  const deadline =
    options.deadlineMs === undefined ? undefined : now() + nonNegative('deadlineMs', options.deadlineMs);
  const limits: SearchLimits = {
    budgetSteps,
    maxCacheBytes,
    ...(deadline === undefined ? {} : { deadline, now }),
  };

  const partitions = model.partition ? model.partition(history) : [history.slice()];
  const exhausted: string[] = [];
  for (let index = 0; index < partitions.length; index++) {
    const part = partitions[index]!;
    const key = model.partitionKey ? model.partitionKey(part) : `#${index}`;
    const canonical = model.canonicalize ? model.canonicalize(part) : part;
    if (canonical.length !== part.length) {
      throw new RangeError(`model.canonicalize returned ${canonical.length} operations for ${part.length}`);
    }
    const outcome = searchLinearization(model, canonical, limits);
    if (outcome.kind === 'violation') {
      const shrunk = shrinkViolation(model, part, outcome, {
        ...limits,
        budgetSteps: shrinkBudgetSteps,
      });
      // Report the operations as recorded, not their canonical rewrites.
      const operations = shrunk.indices.map((i) => part[i]!);
      return {
        kind: 'violation',
        partitionKey: key,
        operations,
        explanation: explain(model, key, part.length, operations, shrunk.complete),
        partitionOperations: part.length,
      };
    }
    if (outcome.kind === 'exhausted') {
      exhausted.push(
        `partition ${JSON.stringify(key)} (${part.length} operations): ${limitText(outcome.limit)}`,
      );
      // The deadline is global: later partitions would stop at once too.
      if (outcome.limit === 'deadline') break;
    }
  }
  if (exhausted.length > 0) {
    return {
      kind: 'unknown',
      reason: `budget exhausted in ${exhausted.length} partition(s): ${exhausted.join('; ')}`,
    };
  }
  return { kind: 'linearizable', operations: history.length, partitions: partitions.length };
}

function limitText(limit: 'steps' | 'memory' | 'deadline'): string {
  switch (limit) {
    case 'steps':
      return 'search step budget exhausted';
    case 'memory':
      return 'memo cache memory bound reached';
    case 'deadline':
      return 'deadline passed';
  }
}

function validateOperation(op: Operation<unknown, unknown>, index: number): void {
  if (typeof op.call !== 'number' || !Number.isFinite(op.call)) {
    throw new RangeError(`operation #${index}: call must be a finite number, got ${String(op.call)}`);
  }
  if (
    op.return !== undefined &&
    (typeof op.return !== 'number' || Number.isNaN(op.return) || op.return < op.call)
  ) {
    throw new RangeError(
      `operation #${index}: return (${String(op.return)}) must be a number >= call (${op.call})`,
    );
  }
}

function positive(name: string, value: number): number {
  if (!(value > 0)) throw new RangeError(`${name} must be > 0, got ${value}`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0)) throw new RangeError(`${name} must be >= 0, got ${value}`);
  return value;
}

/** `[call, return]` or `[call, inf)` when the return is unbounded. */
export function describeOperation<S, I, O>(model: Model<S, I, O>, op: Operation<I, O>): string {
  const end = effectiveReturn(op);
  const window = Number.isFinite(end) ? `[${op.call}, ${end}]` : `[${op.call}, inf)`;
  return `${window} client ${op.client}: ${model.describe(op.input, op.output)}`;
}

function explain<S, I, O>(
  model: Model<S, I, O>,
  key: string,
  partitionSize: number,
  ops: readonly Operation<I, O>[],
  complete: boolean,
): string {
  const others = partitionSize - ops.length;
  const header =
    `partition ${JSON.stringify(key)}: no order of these ${ops.length} operations agrees with both the model and ` +
    `real time, even if the other ${others} operations of the partition had unknown outcomes (took effect at any ` +
    `time after their call, or never)` +
    (complete ? '' : ' (shrinking stopped at its budget; a smaller set may exist)');
  return [header + ':', ...ops.map((op) => '  ' + describeOperation(model, op))].join('\n');
}
