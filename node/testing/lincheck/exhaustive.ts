// A deliberately naive reference checker: tries every order of the operations that respects real time, with no
// memoization, no event list and no heuristics. Exponential, so only for tiny histories; the property tests use it
// as an independent oracle for the WGL search.
import { effectiveReturn, type Operation } from './history.js';
import type { Model } from './model.js';

export const EXHAUSTIVE_MAX_OPERATIONS = 10;

export function isLinearizableExhaustive<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
): boolean {
  if (ops.length > EXHAUSTIVE_MAX_OPERATIONS) {
    throw new RangeError(
      `exhaustive check allows at most ${EXHAUSTIVE_MAX_OPERATIONS} operations, got ${ops.length}`,
    );
  }
  const placed = ops.map(() => false);
  // An unknown-outcome operation may be left out entirely: it never took effect.
  const mustPlace = ops.filter((op) => op.output !== undefined).length;
  const precedes = (a: Operation<I, O>, b: Operation<I, O>): boolean => effectiveReturn(a) < b.call;

  const search = (state: S, placedKnown: number): boolean => {
    if (placedKnown === mustPlace) return true;
    for (let i = 0; i < ops.length; i++) {
      if (placed[i]) continue;
      const op = ops[i]!;
      if (ops.some((other, j) => !placed[j] && j !== i && precedes(other, op))) continue;
      const result = model.step(state, op.input, op.output);
      if (!result.ok) continue;
      placed[i] = true;
      const found = search(result.state, placedKnown + (op.output === undefined ? 0 : 1));
      placed[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search(model.init(), 0);
}
