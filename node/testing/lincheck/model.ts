// A sequential specification: what the object would do if operations ran one at a time. The checker asks whether
// some order of the history's operations, consistent with their real-time order, is accepted by this model.
// Models are pure and deterministic: step() never mutates its argument and always gives the same answer.
import type { Operation } from './history.js';

/** What a pre-check (Model.precheck) proves: one operation whose observation no order of the history can explain. */
export interface PrecheckFinding {
  /**
   * The operation (an index into the operations given). It is non-linearizable on its own, and stays so even if
   * every other operation's outcome were unknown: it is the whole counterexample.
   */
  readonly index: number;
  /** Completes "this operation ...", e.g. `observed "v7", which no operation ever wrote to this key`. */
  readonly reason: string;
  /** Other operations the reason names (say, writers called too late), shown in the report, not blamed. */
  readonly related: readonly number[];
}

export interface Model<S, I, O> {
  init(): S;
  /**
   * Applies `input` to `state`. `ok` says whether `output` is what the sequential object would have answered.
   * `output` undefined means the outcome is unknown: it must be ok, and the state shows the effect as if applied.
   */
  step(state: S, input: I, output: O | undefined): { ok: boolean; state: S };
  /**
   * True when step() never changes any state for this input with this known output (a read; a compare-and-set
   * known to have failed). Optional; lets the search commit to such an operation as soon as it fits instead of also
   * trying the alternatives. Must not be true for a write, even one that may leave the state as it was.
   */
  isReadOnly?(input: I, output: O): boolean;
  /**
   * Splits the history into independent parts (P-compositionality: for a key-value store, one part per key); the
   * history is linearizable if and only if every part is. Much faster than checking the whole history at once.
   */
  partition?(ops: readonly Operation<I, O>[]): Operation<I, O>[][];
  /**
   * Rewrites one partition into one with the same verdict that the search handles faster, index for index (the
   * i-th result replaces the i-th operation; reports still show the originals). For a key-value store: values
   * that no operation ever observes are indistinguishable, so they can all become one value, which merges states.
   */
  canonicalize?(ops: readonly Operation<I, O>[]): Operation<I, O>[];
  /**
   * Cheap checks run on each partition (as recorded) before the search: a finding proves a violation at once, with
   * a plain reason. Must never report a linearizable history; returns undefined when it proves nothing.
   */
  precheck?(ops: readonly Operation<I, O>[]): PrecheckFinding | undefined;
  /**
   * Marks the operations of one partition that the search may leave out without changing the verdict (true =
   * leave out), e.g. unknown-outcome operations whose effect no other operation could ever notice. Applied to the
   * operations as recorded, before canonicalize().
   */
  prune?(ops: readonly Operation<I, O>[]): boolean[];
  /**
   * For proofs by relaxation (shrink.ts): the input of an unknown-outcome operation that can do at least all that
   * an unknown-outcome operation with `input` can (the input itself, or a put for a compare-and-set), or null when
   * such an operation never changes any state (a read). Default: the input itself.
   */
  relax?(input: I): I | null;
  /** Names a part returned by partition() in reports, e.g. its key. */
  partitionKey?(ops: readonly Operation<I, O>[]): string;
  equal(a: S, b: S): boolean;
  /** Equal states must have equal hashes. Numbers are cheapest; strings are hashed again by the checker. */
  hash(state: S): string | number;
  /** One readable line, e.g. `put("k", "v") -> ok` or `get("k") -> ?` for an unknown outcome. */
  describe(input: I, output: O | undefined): string;
}
