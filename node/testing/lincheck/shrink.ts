// Shrinks a non-linearizable partition to a small set of operations that is still non-linearizable, so that a
// human can read the counterexample: a stale read buried in a long history is reported as the read, the write it
// saw and the write that had replaced it. The same checks also find violations the whole-partition search could
// not decide within its budget (localizeViolation).
//
// Dropping an operation outright can CREATE a violation (drop the delete that explains a later read of nothing and
// that read now fails), and the result would point at the wrong operations. So an operation is never dropped, it is
// RELAXED: its outcome becomes unknown (it may have happened at any time after its call, or never). Relaxing can
// only make a history easier to linearize, so a relaxed history that still fails fails for the operations left
// intact, and those alone are reported: on their own they are non-linearizable too, because removing an
// unknown-outcome operation only takes options away. The same holds a fortiori when a relaxed operation is made
// even more permissive (Model.relax: a cas with an unknown outcome becomes a put of its value, a read goes away),
// which is what keeps these checks cheap: a relaxed history is mostly unknown outcomes, and what makes unknown
// outcomes expensive to search is the values they might leave, which this cuts to the few the intact operations
// look at (Model.prune then leaves out the rest). Only when that says "linearizable" and it was not exact is the
// exact relaxed history searched too.
//
// The steps, each cheap before the next:
//  1. Keep only what the failing search had reached: the operations called before the point it could not get past.
//     This needs no check: everything called later is relaxed, and it could only have been linearized after that
//     point, so the search fails exactly as before (the same holds after every later check that fails, whose own
//     furthest point cuts again).
//  2. The operation that could not be fitted in, alone (a read of a value nobody wrote fails on its own).
//  3. Localize: that operation plus its 2, 4, 8, ... nearest known operations in time, until they fail.
//  4. Delta debugging on what is left: first every read but that operation at once (a core of writes says who
//     wrote what), then chunks, halving their size, until no single operation can be relaxed.
//
// Every check draws on one step budget and the caller's deadline, each is capped so that one hard check cannot use
// up the budget, and their number is bounded: an inconclusive check counts as "no longer fails" (the operations
// stay), so the result is still a proven failure, only possibly not the smallest.
import { effectiveReturn, type Operation } from './history.js';
import type { Model } from './model.js';
import { searchPartition } from './search.js';
import type { SearchLimits } from './wgl.js';

export interface ShrinkResult {
  /** Indices into the operations given, in call order: the operations that keep their outcome. */
  readonly indices: number[];
  /** False when the budget or deadline ran out, or a check was inconclusive: a smaller set may exist. */
  readonly complete: boolean;
  /** Searches run. */
  readonly checks: number;
}

/** Search steps one check may use: at least this, or a fiftieth of the whole budget. */
const MIN_STEPS_PER_CHECK = 20_000;
const CHECKS_PER_BUDGET = 50;
/** Most checks one shrink runs, whatever they cost: building each candidate is O(partition) on its own. */
const MAX_SHRINK_CHECKS = 2_000;
/** Step 3 stops growing the neighbourhood at this many operations (then delta debugging takes what is left). */
const MAX_NEIGHBOURHOOD = 256;

/**
 * Shrinks the violation a search found.
 * @param ops the failing partition as recorded (each check prunes and canonicalizes its own candidate).
 * @param hint from the failing search (wgl.ts): `prefix` and `blocker` are indices into `ops`.
 * @param limits `budgetSteps` is shared by all the checks made while shrinking.
 */
export function shrinkViolation<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  hint: { readonly prefix: readonly number[]; readonly blocker: number },
  limits: SearchLimits,
): ShrinkResult {
  if (!hint.prefix.includes(hint.blocker) || ops[hint.blocker]?.output === undefined) {
    throw new RangeError(`shrink hint: blocker #${hint.blocker} must be a known outcome within the prefix`);
  }
  const checks = new RelaxedChecks(model, ops, limits);
  // Step 1. Unknown-outcome operations are relaxed already; only the others can be the reason for a violation.
  const reached = new Set(hint.prefix);
  let current = checks.byCall.filter((i) => ops[i]!.output !== undefined && reached.has(i));
  // Step 2.
  if (current.length > 1 && checks.fails([hint.blocker]) !== undefined) current = [hint.blocker];
  // Step 3.
  if (current.length > 2) current = localize(checks, current, hint.blocker) ?? current;
  return deltaDebug(checks, withoutOtherReads(checks, current, hint.blocker));
}

/**
 * Looks for a violation around `blocker` (the furthest point a search that ran out of budget reached): the
 * operation with its nearest known operations intact, the rest relaxed (step 3 above). Found, it is shrunk like
 * any other; undefined when no neighbourhood up to MAX_NEIGHBOURHOOD operations fails within the budget, which
 * proves nothing.
 */
export function localizeViolation<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  blocker: number,
  limits: SearchLimits,
  /** Of `limits.budgetSteps`, how many looking may use; shrinking what it found may use the rest. */
  lookBudgetSteps = limits.budgetSteps,
): ShrinkResult | undefined {
  if (ops[blocker]?.output === undefined) {
    throw new RangeError(`localize: operation #${blocker} must exist and have a known outcome`);
  }
  const checks = new RelaxedChecks(model, ops, limits);
  const end = effectiveReturn(ops[blocker]);
  // Only operations called before the blocker returned can be linearized before it.
  const known = checks.byCall.filter((i) => ops[i]!.output !== undefined && ops[i]!.call <= end);
  const found = checks.capped(
    lookBudgetSteps,
    () => checks.fails([blocker]) ?? localize(checks, known, blocker),
  );
  return found === undefined ? undefined : deltaDebug(checks, withoutOtherReads(checks, found, blocker));
}

/**
 * Step 4's first try: relax every read-only operation but the blocker at once. Several cores often exist (a read
 * of v, then of nothing, then of v again; or the write of v, a later write, and the last read), and the one made
 * of writes says who wrote what, so it is preferred when it fails too.
 */
function withoutOtherReads(checks: RelaxedChecks, current: number[], blocker: number): number[] {
  const writes = current.filter((i) => i === blocker || !checks.isReadOnly(i));
  if (writes.length === current.length || writes.length === 0) return current;
  return checks.fails(writes) ?? current;
}

/**
 * Step 3: the blocker and its m nearest operations of `among`, m = 2, 4, 8, ...: the first set that fails, cut.
 * For each m, the m nearest writes are tried before the m nearest operations of any kind: a core of writes says
 * who wrote what (see withoutOtherReads).
 */
function localize(checks: RelaxedChecks, among: readonly number[], blocker: number): number[] | undefined {
  const ops = checks.ops;
  const end = effectiveReturn(ops[blocker]!);
  const distance = (i: number): number => Math.abs(effectiveReturn(ops[i]!) - end);
  const nearest = among.filter((i) => i !== blocker).sort((a, b) => distance(a) - distance(b) || a - b);
  const nearestWrites = nearest.filter((i) => !checks.isReadOnly(i));
  const limit = Math.min(nearest.length, MAX_NEIGHBOURHOOD);
  for (let m = 2; m < 2 * limit && !checks.outOfBudget; m *= 2) {
    for (const from of m < nearestWrites.length * 2 ? [nearestWrites, nearest] : [nearest]) {
      // Few checks, each harder than the last: each may use a quarter of what is left.
      const cut = checks.fails([blocker, ...from.slice(0, m)].sort(checks.callOrder), 4);
      if (cut !== undefined) return cut;
    }
  }
  return undefined;
}

/** Step 4 proper: relax chunks of `start` (known to fail), halving their size, until no single operation can go. */
function deltaDebug(checks: RelaxedChecks, start: number[]): ShrinkResult {
  let current = start;
  let chunk = Math.max(1, Math.floor(current.length / 2));
  for (;;) {
    let relaxedAny = false;
    // The last pass, with single operations, proves 1-minimality only if none of its checks was inconclusive.
    checks.inconclusive = false;
    // From the end backwards: late operations are the likeliest to be irrelevant to a violation already reached.
    for (let end = current.length; end > 0 && current.length > 1;) {
      const begin = Math.max(0, end - chunk);
      const cut = checks.fails([...current.slice(0, begin), ...current.slice(end)]);
      if (cut !== undefined) {
        current = cut;
        relaxedAny = true;
        end = Math.min(begin, current.length);
      } else {
        end = begin;
      }
      if (checks.outOfBudget) return { indices: current, complete: false, checks: checks.count };
    }
    if (chunk === 1 && !relaxedAny) {
      return { indices: current, complete: !checks.inconclusive, checks: checks.count };
    }
    if (!relaxedAny || chunk > current.length) chunk = Math.max(1, Math.floor(chunk / 2));
  }
}

/** Searches of the partition with only some operations intact, on one budget. */
class RelaxedChecks<S = unknown, I = unknown, O = unknown> {
  /** Indices of `ops` in call order. */
  readonly byCall: number[];
  readonly callOrder = (a: number, b: number): number => this.ops[a]!.call - this.ops[b]!.call || a - b;
  count = 0;
  /** Set when a check could not decide (so a "no" may have been a "yes"); callers reset it. */
  inconclusive = false;
  private remaining: number;
  private deadlinePassed = false;
  private readonly perCheck: number;
  /** Each operation with its outcome unknown: exactly, and as Model.relax makes it (null: left out). */
  private readonly relaxed: Operation<I, O>[];
  private readonly relaxedLoosely: (Operation<I, O> | null)[];
  /** Whether relaxedLoosely[i] is the same as relaxed[i] (or leaves out an operation that never has an effect). */
  private readonly looseIsExact: boolean[];

  constructor(
    private readonly model: Model<S, I, O>,
    readonly ops: readonly Operation<I, O>[],
    private readonly limits: SearchLimits,
  ) {
    this.byCall = ops.map((_, i) => i).sort(this.callOrder);
    this.remaining = limits.budgetSteps;
    this.perCheck = Math.max(MIN_STEPS_PER_CHECK, Math.floor(limits.budgetSteps / CHECKS_PER_BUDGET));
    this.relaxed = ops.map((op) => ({ client: op.client, input: op.input, call: op.call }));
    const loose = ops.map((op) => (model.relax === undefined ? op.input : model.relax(op.input)));
    this.relaxedLoosely = ops.map((op, i) => {
      const input = loose[i];
      return input === null || input === undefined ? null : { client: op.client, input, call: op.call };
    });
    this.looseIsExact = ops.map((op, i) => loose[i] === null || loose[i] === op.input);
  }

  /** No more checks: the steps, the number of checks or the deadline ran out. */
  get outOfBudget(): boolean {
    return this.deadlinePassed || this.remaining <= 0 || this.count >= MAX_SHRINK_CHECKS;
  }

  /** Runs `work` with at most `steps` of the budget left; what it does not use stays for later work. */
  capped<T>(steps: number, work: () => T): T {
    const saved = this.remaining;
    const allowed = Math.min(saved, steps);
    this.remaining = allowed;
    try {
      return work();
    } finally {
      this.remaining = saved - (allowed - this.remaining);
    }
  }

  /** Whether operation `i` (with a known outcome) never changes the state (Model.isReadOnly). */
  isReadOnly(i: number): boolean {
    const op = this.ops[i]!;
    return op.output !== undefined && this.model.isReadOnly?.(op.input, op.output) === true;
  }

  /**
   * When the history with only `kept` intact still fails: `kept` cut to what that failing search reached (step 1
   * above), else undefined. Undefined too when the checks were inconclusive or the budget is spent. Each search
   * may use the usual cap or, with `shareOfRemaining` k, up to 1/k of the steps left if that is more.
   */
  fails(kept: readonly number[], shareOfRemaining?: number): number[] | undefined {
    if (this.outOfBudget || kept.length === 0) return undefined;
    const keep = new Set(kept);
    // A relaxed operation called after every kept one has returned can only go last: leave it out.
    let horizon = -Infinity;
    for (const i of kept) horizon = Math.max(horizon, effectiveReturn(this.ops[i]!));
    const chosen = this.byCall.filter((i) => keep.has(i) || this.ops[i]!.call <= horizon);
    // First with every relaxed operation as permissive as Model.relax makes it: if that fails, so does the rest.
    const loose = chosen.filter((i) => keep.has(i) || this.relaxedLoosely[i] !== null);
    const cap = Math.max(
      this.perCheck,
      shareOfRemaining === undefined ? 0 : this.remaining / shareOfRemaining,
    );
    const first = this.search(
      loose.map((i) => (keep.has(i) ? this.ops[i]! : this.relaxedLoosely[i]!)),
      loose,
      keep,
      cap,
    );
    if (first !== 'linearizable') return first;
    if (chosen.every((i) => keep.has(i) || this.looseIsExact[i])) return undefined;
    const second = this.search(
      chosen.map((i) => (keep.has(i) ? this.ops[i]! : this.relaxed[i]!)),
      chosen,
      keep,
      cap,
    );
    return second === 'linearizable' ? undefined : second;
  }

  private search(
    candidate: readonly Operation<I, O>[],
    indices: readonly number[],
    keep: ReadonlySet<number>,
    cap: number,
  ): number[] | 'linearizable' | undefined {
    if (this.outOfBudget) return undefined;
    this.count++;
    const outcome = searchPartition(this.model, candidate, {
      ...this.limits,
      budgetSteps: Math.floor(Math.min(this.remaining, cap)),
    });
    this.remaining -= outcome.steps;
    if (outcome.kind === 'exhausted') {
      this.inconclusive = true;
      if (outcome.limit === 'deadline') this.deadlinePassed = true;
      return undefined;
    }
    if (outcome.kind === 'linearizable') return 'linearizable';
    const reached = new Set(outcome.prefix.map((k) => indices[k]!));
    const cut = [...keep].filter((i) => reached.has(i)).sort(this.callOrder);
    return cut.length > 0 ? cut : [...keep].sort(this.callOrder);
  }
}
