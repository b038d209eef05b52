// Checks a whole history: split it into independent partitions (per key for the key-value model), run the model's
// cheap pre-checks on every partition (precheck.ts: they decide some violations at once, whatever the budget), then
// search each partition with the memoized Wing–Gong algorithm (search.ts, wgl.ts), and on the first violation shrink
// it to a readable counterexample. Every search is bounded; a search that runs out of budget gives "unknown", never
// a pass or a fail.
import { effectiveReturn, type Operation } from './history.js';
import type { Model, PrecheckFinding } from './model.js';
import { searchPartition } from './search.js';
import { localizeViolation, shrinkViolation } from './shrink.js';
import type { SearchLimits, SearchOutcome } from './wgl.js';

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
      /**
       * 'precheck': a cheap check proved it before any search (Model.precheck); 'search': the search of the
       * partition; 'local-search': that search ran out of budget, and a search around the furthest point it
       * reached, with the other operations relaxed, proved it (shrink.ts, localizeViolation).
       */
      decidedBy: 'precheck' | 'search' | 'local-search';
    }
  | { kind: 'unknown'; reason: string };

export interface CheckOptions {
  /**
   * Search steps allowed per partition (default 5,000,000: a few seconds, enough for 10,000 ops on one busy key).
   * A first try with a tenth of them comes before (FIRST_SEARCH_SHARE), so a partition may take 1.1 times this.
   */
  budgetSteps?: number;
  /** Wall-clock bound for the whole check, shrinking included, measured with `now`. */
  deadlineMs?: number;
  /** Milliseconds clock used for deadlineMs (default performance.now). */
  now?: () => number;
  /**
   * Search steps shared by all checks made while shrinking a violation, or while looking for one around the point
   * where a search that ran out of budget stopped (default 2,000,000).
   */
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
  const keys = partitions.map((part, index) => (model.partitionKey ? model.partitionKey(part) : `#${index}`));
  // Pre-checks first, on every partition: they cost O(n) and need no budget, so a violation they prove in the last
  // partition is not hidden behind a search that runs out of budget on the first.
  if (model.precheck) {
    for (let index = 0; index < partitions.length; index++) {
      const part = partitions[index]!;
      const finding = model.precheck(part);
      if (finding !== undefined) return precheckViolation(model, keys[index]!, part, finding);
    }
  }
  const exhausted: string[] = [];
  for (let index = 0; index < partitions.length; index++) {
    const part = partitions[index]!;
    const outcome = checkPartition(model, keys[index]!, part, limits, shrinkBudgetSteps);
    if (outcome.kind === 'violation') return outcome;
    if (outcome.kind === 'exhausted') {
      exhausted.push(
        `partition ${JSON.stringify(keys[index])} (${part.length} operations): ${limitText(outcome.limit)}`,
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

/**
 * The share of the step budget a first search of a partition may use before looking around where it stopped
 * (localizeViolation, with as many steps again): most violations are local, and that finds them in a fraction of
 * the time. If it finds nothing, the search starts over with the whole budget, and if that runs out too, the place
 * where it stopped is looked around with the whole shrinking budget.
 */
const FIRST_SEARCH_SHARE = 10;

type Violation = Extract<CheckResult, { kind: 'violation' }>;

/** Searches one partition (after the pre-checks): a violation shrunk to its core, or how the search ended. */
function checkPartition<S, I, O>(
  model: Model<S, I, O>,
  key: string,
  part: readonly Operation<I, O>[],
  limits: SearchLimits,
  shrinkBudgetSteps: number,
): Violation | Exclude<SearchOutcome, { kind: 'violation' }> {
  const shrinkLimits = { ...limits, budgetSteps: shrinkBudgetSteps };
  const report = (
    operations: Operation<I, O>[],
    complete: boolean,
    decidedBy: Violation['decidedBy'],
  ): Violation => ({
    kind: 'violation',
    partitionKey: key,
    operations,
    explanation:
      explain(model, key, part.length, operations, complete) +
      (decidedBy === 'local-search'
        ? '\n(found by a search around the point where the search of the whole partition stopped)'
        : ''),
    partitionOperations: part.length,
    decidedBy,
  });
  /** Where the search was looked around already, with how many steps. */
  const localized = new Map<number, number>();
  /**
   * Out of steps or memory: look around where the search got stuck (once per place and budget), with at most
   * `lookSteps` of the shrinking budget; what is found is shrunk with the rest.
   */
  const lookAround = (outcome: SearchOutcome, lookSteps: number): Violation | undefined => {
    if (outcome.kind !== 'exhausted' || outcome.limit === 'deadline' || outcome.blocker === undefined) return;
    if ((localized.get(outcome.blocker) ?? 0) >= lookSteps) return;
    localized.set(outcome.blocker, lookSteps);
    const local = localizeViolation(model, part, outcome.blocker, shrinkLimits, lookSteps);
    return (
      local &&
      report(
        local.indices.map((i) => part[i]!),
        local.complete,
        'local-search',
      )
    );
  };

  // A first try with a share of the budget; looking around where it stopped costs no more than it did, so that
  // a linearizable history that merely needs more steps pays little for it.
  const firstBudget = Math.ceil(limits.budgetSteps / FIRST_SEARCH_SHARE);
  let outcome = searchPartition(model, part, { ...limits, budgetSteps: firstBudget });
  if (outcome.kind === 'exhausted' && outcome.limit === 'steps' && firstBudget < limits.budgetSteps) {
    const found = lookAround(outcome, Math.min(firstBudget, shrinkBudgetSteps));
    if (found !== undefined) return found;
    // A memory bound reached with part of the budget would be reached again with all of it, so only steps.
    outcome = searchPartition(model, part, limits);
  }
  if (outcome.kind === 'violation') {
    const shrunk = shrinkViolation(model, part, outcome, shrinkLimits);
    // Report the operations as recorded, not their canonical rewrites.
    return report(
      shrunk.indices.map((i) => part[i]!),
      shrunk.complete,
      'search',
    );
  }
  return lookAround(outcome, shrinkBudgetSteps) ?? outcome;
}

function precheckViolation<S, I, O>(
  model: Model<S, I, O>,
  key: string,
  part: readonly Operation<I, O>[],
  finding: PrecheckFinding,
): CheckResult {
  const op = part[finding.index];
  if (op === undefined || finding.related.some((i) => part[i] === undefined)) {
    throw new RangeError(`model.precheck named an operation outside the ${part.length} of its partition`);
  }
  const others = part.length - 1;
  const lines = [
    `partition ${JSON.stringify(key)}, found by a pre-check before any search: this operation ${finding.reason}, ` +
      `so no order can explain it, even if the other ${others} operations of the partition had unknown outcomes ` +
      `(took effect at any time after their call, or never):`,
    '  ' + describeOperation(model, op),
  ];
  if (finding.related.length > 0) {
    lines.push(finding.related.length === 1 ? 'the operation it refers to:' : 'the operations it refers to:');
    for (const i of finding.related) lines.push('  ' + describeOperation(model, part[i]!));
  }
  return {
    kind: 'violation',
    partitionKey: key,
    operations: [op],
    explanation: lines.join('\n'),
    partitionOperations: part.length,
    decidedBy: 'precheck',
  };
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
