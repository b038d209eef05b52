// Shrinks a non-linearizable partition to a small set of operations that is still non-linearizable, so that a
// human can read the counterexample.
//
// Dropping an operation outright can CREATE a violation (drop the delete that explains a later read of nothing and
// that read now fails), and the result would point at the wrong operations. So an operation is never dropped, it is
// RELAXED: its outcome becomes unknown (it may have happened at any time after its call, or never). Relaxing can
// only make a history easier to linearize, so a relaxed history that still fails fails for the operations left
// intact, and those alone are reported: on their own they are non-linearizable too, because removing an
// unknown-outcome operation only takes options away.
//
// First relax everything called after the point the failing search could not get past, then try the operation that
// could not be fitted in on its own (a read of a value never written fails alone), then relax chunks of the rest
// (halving the chunk size, as in delta debugging) while the history still fails. Every check draws on one step
// budget and the caller's deadline, and each is capped so that one hard check cannot use up the budget: an
// inconclusive check counts as "no longer fails" (the operations stay), so the result is still a proven failure,
// only possibly not the smallest.
import { effectiveReturn, type Operation } from './history.js';
import type { Model } from './model.js';
import { searchLinearization, type SearchLimits } from './wgl.js';

export interface ShrinkResult {
  /** Indices into the operations given, in call order: the operations that keep their outcome. */
  readonly indices: number[];
  /** False when the budget or deadline ran out, or a check was inconclusive: a smaller set may exist. */
  readonly complete: boolean;
}

/** Search steps one shrinking check may use: at least this, or a fiftieth of the whole shrinking budget. */
const MIN_STEPS_PER_CHECK = 20_000;

/**
 * @param ops the failing partition as recorded (each check canonicalizes its own candidate).
 * @param hint from the failing search (wgl.ts): `prefix` and `blocker` are indices into `ops`.
 * @param limits `budgetSteps` is shared by all the checks made while shrinking.
 */
export function shrinkViolation<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  hint: { readonly prefix: readonly number[]; readonly blocker: number },
  limits: SearchLimits,
): ShrinkResult {
  let remaining = limits.budgetSteps;
  const perCheck = Math.max(MIN_STEPS_PER_CHECK, Math.floor(limits.budgetSteps / 50));
  let outOfBudget = false;
  let inconclusive = false;
  const byCall = ops.map((_, i) => i).sort((a, b) => ops[a]!.call - ops[b]!.call || a - b);
  const relaxed = ops.map((op): Operation<I, O> => ({ client: op.client, input: op.input, call: op.call }));

  /** When the history with only `kept` intact still fails: the failing search's prefix, as indices into `ops`. */
  const fails = (kept: readonly number[]): number[] | undefined => {
    if (outOfBudget || kept.length === 0) return undefined;
    const keep = new Set(kept);
    // A relaxed operation called after every kept one has returned can only go last: leave it out.
    let horizon = -Infinity;
    for (const i of kept) horizon = Math.max(horizon, effectiveReturn(ops[i]!));
    const chosen = byCall.filter((i) => keep.has(i) || ops[i]!.call <= horizon);
    const candidate = chosen.map((i) => (keep.has(i) ? ops[i]! : relaxed[i]!));
    const canonical = model.canonicalize ? model.canonicalize(candidate) : candidate;
    const outcome = searchLinearization(model, canonical, {
      ...limits,
      budgetSteps: Math.min(remaining, perCheck),
    });
    remaining -= outcome.steps;
    if (outcome.kind === 'exhausted') {
      inconclusive = true;
      if (outcome.limit === 'deadline' || remaining <= 0) outOfBudget = true;
    }
    return outcome.kind === 'violation' ? outcome.prefix.map((k) => chosen[k]!) : undefined;
  };
  /** `kept` minus what is not in `hint`, if that still fails; otherwise `kept`. */
  const cutTo = (kept: number[], hint: readonly number[]): number[] => {
    const inHint = new Set(hint);
    const cut = kept.filter((i) => inHint.has(i));
    if (cut.length === 0 || cut.length === kept.length) return kept;
    return fails(cut) !== undefined ? cut : kept;
  };

  // Unknown-outcome operations are relaxed already; only the others can be the reason for a violation.
  let current = cutTo(
    byCall.filter((i) => ops[i]!.output !== undefined),
    hint.prefix,
  );
  if (current.length > 1 && current.includes(hint.blocker) && fails([hint.blocker]) !== undefined) {
    current = [hint.blocker];
  }
  let chunk = Math.max(1, Math.floor(current.length / 2));
  for (;;) {
    let relaxedAny = false;
    // From the end backwards: late operations are the likeliest to be irrelevant to a violation already reached.
    for (let end = current.length; end > 0 && current.length > 1;) {
      const start = Math.max(0, end - chunk);
      const candidate = [...current.slice(0, start), ...current.slice(end)];
      const hint = fails(candidate);
      if (hint !== undefined) {
        current = cutTo(candidate, hint);
        relaxedAny = true;
        end = Math.min(start, current.length);
      } else {
        end = start;
      }
      if (outOfBudget) return { indices: current, complete: false };
    }
    if (chunk === 1 && !relaxedAny) return { indices: current, complete: !inconclusive };
    if (!relaxedAny || chunk > current.length) chunk = Math.max(1, Math.floor(chunk / 2));
  }
}
