// Shrinks a non-linearizable partition to a small set of operations that is still non-linearizable, so that a
// human can read the counterexample. First cut to the prefix the search could not get past, then remove chunks of
// operations (halving the chunk size, as in delta debugging) while the rest still fails. Every check draws on one
// step budget and the caller's deadline; when they run out, the smallest set found so far is returned.
import type { Operation } from './history.js';
import type { Model } from './model.js';
import { searchLinearization, type SearchLimits } from './wgl.js';

export interface ShrinkResult {
  /** Indices into the operations given, in call order. */
  readonly indices: number[];
  /** False when the budget or deadline ran out before every single-operation removal had been tried. */
  readonly complete: boolean;
}

/**
 * @param prefix indices into `ops` of the operations before the point the failing search could not get past.
 * @param limits `budgetSteps` is shared by all the checks made while shrinking.
 */
export function shrinkViolation<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  prefix: readonly number[],
  limits: SearchLimits,
): ShrinkResult {
  let remaining = limits.budgetSteps;
  let outOfBudget = false;
  // Work on indices into `ops` kept in call order, so duplicate operation objects cannot confuse the bookkeeping.
  const operationsOf = (indices: readonly number[]): Operation<I, O>[] => indices.map((i) => ops[i]!);
  /** The failing search's prefix, as indices into `ops`, when `indices` is confirmed non-linearizable. */
  const fails = (indices: readonly number[]): number[] | undefined => {
    if (outOfBudget || indices.length === 0) return undefined;
    const outcome = searchLinearization(model, operationsOf(indices), { ...limits, budgetSteps: remaining });
    remaining -= outcome.steps;
    if (outcome.kind === 'exhausted') outOfBudget = true;
    return outcome.kind === 'violation' ? outcome.prefix.map((k) => indices[k]!) : undefined;
  };
  /** `indices` minus `removing`, except what the model says remaining operations depend on. */
  const without = (indices: readonly number[], removing: ReadonlySet<number>): number[] => {
    const remaining = indices.filter((i) => !removing.has(i));
    if (model.retainWhenShrinking === undefined) return remaining;
    const retained = new Set(model.retainWhenShrinking(operationsOf([...removing]), operationsOf(remaining)));
    return indices.filter((i) => !removing.has(i) || retained.has(ops[i]!));
  };
  // The prefix is a hint (wgl.ts explains why it should fail too); it is adopted only once a check confirms it.
  const cutTo = (indices: number[], hint: readonly number[]): number[] => {
    const keep = new Set(hint);
    const cut = without(indices, new Set(indices.filter((i) => !keep.has(i))));
    if (hint.length === 0 || cut.length >= indices.length) return indices;
    return fails(cut) !== undefined ? cut : indices;
  };

  const all = ops.map((_, i) => i).sort((a, b) => ops[a]!.call - ops[b]!.call || a - b);
  let current = cutTo(all, prefix);
  let chunk = Math.max(1, Math.floor(current.length / 2));
  for (;;) {
    let removedAny = false;
    // From the end backwards: late operations are the likeliest to be irrelevant to a violation already reached.
    for (let end = current.length; end > 0 && current.length > 1;) {
      const start = Math.max(0, end - chunk);
      const candidate = without(current, new Set(current.slice(start, end)));
      const hint = candidate.length < current.length ? fails(candidate) : undefined;
      if (hint !== undefined) {
        current = cutTo(candidate, hint);
        removedAny = true;
        end = Math.min(start, current.length);
      } else {
        end = start;
      }
      if (outOfBudget) return { indices: current, complete: false };
    }
    if (chunk === 1 && !removedAny) return { indices: current, complete: true };
    if (!removedAny || chunk > current.length) chunk = Math.max(1, Math.floor(chunk / 2));
  }
}
