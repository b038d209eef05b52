// One partition's search, as check.ts and shrink.ts run it: leave out the operations Model.prune says cannot
// matter, rewrite the rest with Model.canonicalize, search (wgl.ts), and report indices into the operations given.
import type { Operation } from './history.js';
import type { Model } from './model.js';
import { searchLinearization, type SearchLimits, type SearchOutcome } from './wgl.js';

export function searchPartition<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  limits: SearchLimits,
): SearchOutcome {
  const prune = model.prune?.(ops);
  if (prune !== undefined && prune.length !== ops.length) {
    throw new RangeError(`model.prune returned ${prune.length} flags for ${ops.length} operations`);
  }
  const kept: number[] = [];
  for (let i = 0; i < ops.length; i++) if (prune?.[i] !== true) kept.push(i);
  const searched = kept.length === ops.length ? ops : kept.map((i) => ops[i]!);
  const canonical = model.canonicalize ? model.canonicalize(searched) : searched;
  if (canonical.length !== searched.length) {
    throw new RangeError(`model.canonicalize returned ${canonical.length} operations for ${searched.length}`);
  }
  const outcome = searchLinearization(model, canonical, limits);
  switch (outcome.kind) {
    case 'linearizable':
      return outcome;
    case 'exhausted':
      return outcome.blocker === undefined ? outcome : { ...outcome, blocker: kept[outcome.blocker]! };
    case 'violation':
      return { ...outcome, prefix: outcome.prefix.map((k) => kept[k]!), blocker: kept[outcome.blocker]! };
  }
}
