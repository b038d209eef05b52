// The Wing–Gong search with Lowe's memoization (the algorithm porcupine uses), for one partition of a history.
//
// Every operation becomes a call event and a return event, sorted by time into a doubly linked list. The search
// walks the list from the head: any call met before the first return is a candidate to linearize next. Taking one
// applies it to the model, removes ("lifts") its call and return from the list and restarts from the head; when no
// candidate works the search backtracks. A cache of (set of linearized operations, model state) pairs already
// explored prunes the search: reaching the same pair again cannot lead anywhere new.
//
// Unknown outcomes: such an operation returns at +infinity, so it never blocks anything; since step() accepts it
// everywhere, "never took effect" is the same as "took effect after everything else". The search therefore stops as
// soon as every operation with a known outcome is linearized, and it tries unknown-outcome candidates only after the
// known ones at each point (an order heuristic; the search stays exhaustive). Unknown outcomes would otherwise blow
// up the cache: every subset of them is a different bitset. So the cache keys on the known operations and the
// state only, and a configuration is pruned when one with the same known set and state and a SUBSET of its
// unknown-outcome operations was already explored: optional operations left unused can only leave more choices.
// This also prunes an unknown-outcome operation that does not change the state (a timed-out read, say). Finally,
// unknown-outcome operations with identical inputs (compared as JSON) are interchangeable, so they are only ever
// linearized in call order: the earliest one still pending stands for all of them.
//
// Identical known outcomes (same input and output, e.g. two puts of a value nobody reads once canonicalized): of
// several that are candidates together, only the one returning first is tried. Any solution that takes another
// first can swap the two, as no operation placed between them may be called after the earlier return.
//
// Unknown outcomes just in time: right after an unknown-outcome operation u, an operation x is not tried if x alone,
// from the state before u, would reach the same state (u did nothing that mattered: the configuration without u
// dominates), or if x then u would (the same configuration, which the search reaches from the parent; between two
// unknown-outcome operations only the earlier-called may go first, so one of the two orders stays). So u is only
// ever placed where something after it needs it. And a bucket of the cache keeps only configurations that do not
// dominate each other: adding one drops those with the same known set and state but more unknown outcomes used.
//
// Reads commit: when a known-outcome candidate that never changes any state (Model.isReadOnly) is accepted,
// linearizing it at once loses nothing (any solution can be rearranged to take it now: it changes nothing where it
// was, and everything that must precede it is already linearized), so if that branch fails, or was already
// explored, the whole configuration fails and its other candidates are not tried. It is not enough that the step
// left this state unchanged: a write of the value already there changes the state elsewhere in the order. Unknown
// outcomes are excluded: a read-only one is "seen" against the in-progress configuration itself.
import { Bitset } from './bitset.js';
import { hashString, mix32 } from './hash.js';
import { effectiveReturn, type Operation } from './history.js';
import type { Model } from './model.js';

export interface SearchLimits {
  /** Search steps (candidate tries plus backtracks) allowed before giving up. */
  readonly budgetSteps: number;
  /** Bytes the memo cache may hold before giving up (approximate: bitset words plus a fixed overhead). */
  readonly maxCacheBytes: number;
  /** Absolute time, on the `now` clock, after which the search gives up. */
  readonly deadline?: number;
  readonly now?: () => number;
}

export type SearchOutcome =
  | { readonly kind: 'linearizable'; readonly steps: number }
  /**
   * `prefix`: indices of the operations called before the furthest point the search reached; `blocker`: the
   * operation whose return is that point, the one no order could fit in (hints for shrink.ts).
   */
  | {
      readonly kind: 'violation';
      readonly steps: number;
      readonly prefix: number[];
      readonly blocker: number;
    }
  /**
   * `blocker`, when the search got anywhere: the operation whose return is the furthest point it reached, where a
   * violation is likeliest to be (check.ts then looks for one there, shrink.ts localizeViolation).
   */
  | {
      readonly kind: 'exhausted';
      readonly steps: number;
      readonly limit: 'steps' | 'memory' | 'deadline';
      readonly blocker?: number;
    };

interface CacheEntry<S> {
  /** First known return still in the list: it fixes every known bit outside the snapshot (see `windowOf`). */
  readonly frontier: number;
  /** The linearized known operations inside the frontier's window, as bitset words. */
  readonly window: readonly number[];
  /** Linearized operations with an unknown outcome (all words). */
  readonly optional: readonly number[];
  readonly state: S;
}

const END = -1;
const HEAD = 0;
/** Rough per-entry cost of the cache besides the bitset words: object, arrays, state reference. */
const CACHE_ENTRY_OVERHEAD_BYTES = 96;
/** How often (in steps) the deadline clock is read; reading it every step would dominate small searches. */
const DEADLINE_CHECK_INTERVAL_STEPS = 1024;

export function searchLinearization<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  limits: SearchLimits,
): SearchOutcome {
  const n = ops.length;
  const known = ops.map((op) => op.output !== undefined);
  const readOnly = Uint8Array.from(ops, (op, i) =>
    known[i] && model.isReadOnly?.(op.input, op.output!) === true ? 1 : 0,
  );
  const knownTotal = known.filter(Boolean).length;
  if (knownTotal === 0) return { kind: 'linearizable', steps: 0 };

  // Node 0 is the head sentinel; node k >= 1 is the (k-1)th event in time order, so node numbers are positions.
  const events: { time: number; isCall: boolean; op: number }[] = [];
  for (let i = 0; i < n; i++) {
    const op = ops[i]!;
    events.push({ time: op.call, isCall: true, op: i }, { time: effectiveReturn(op), isCall: false, op: i });
  }
  // Equal times: calls first, so touching operations count as concurrent (never a false violation); at +infinity,
  // known outcomes' returns first, so that an unknown outcome's return never blocks a known operation.
  events.sort(
    (a, b) =>
      a.time - b.time ||
      Number(b.isCall) - Number(a.isCall) ||
      Number(known[b.op]) - Number(known[a.op]) ||
      a.op - b.op ||
      0,
  );
  const nodes = 2 * n + 1;
  // The event list, and a second list threading only the known outcomes' returns (its head is the frontier).
  const next = new Int32Array(nodes);
  const prev = new Int32Array(nodes);
  const nextReturn = new Int32Array(nodes);
  const prevReturn = new Int32Array(nodes);
  const isCall = new Uint8Array(nodes);
  const opOf = new Int32Array(nodes);
  const match = new Int32Array(nodes);
  const callNodeOf = new Int32Array(n);
  // Each operation's bit: known outcomes numbered in call order (so that a window of concurrent operations is a
  // narrow range of words), unknown outcomes separately.
  const slot = new Int32Array(n);
  const returnNodeOfSlot: number[] = [];
  let optionalSlots = 0;
  // Interchangeable operations (see the header): class id per op; unknown-outcome classes list their members in
  // call order, known-outcome ones in return order, where `rank` is each member's position.
  const classOf = new Int32Array(n).fill(-1);
  const classMembers: number[][] = [];
  const rank = new Int32Array(n);
  const classIds = new Map<string, number>();
  const joinClass = (op: number, text: string): void => {
    let id = classIds.get(text);
    if (id === undefined) {
      id = classMembers.push([]) - 1;
      classIds.set(text, id);
    }
    classOf[op] = id;
    rank[op] = classMembers[id]!.push(op) - 1;
  };
  let lastReturn = HEAD;
  prevReturn[HEAD] = END;
  nextReturn[HEAD] = END;
  for (let node = 0; node < nodes; node++) {
    next[node] = node + 1 < nodes ? node + 1 : END;
    prev[node] = node - 1;
  }
  for (let k = 0; k < events.length; k++) {
    const event = events[k]!;
    const node = k + 1;
    const op = event.op;
    isCall[node] = event.isCall ? 1 : 0;
    opOf[node] = op;
    if (event.isCall) {
      callNodeOf[op] = node;
      slot[op] = known[op] ? returnNodeOfSlot.push(0) - 1 : optionalSlots++;
      // Nodes are visited in time order, so members join in call order here.
      if (!known[op]) joinClass(op, 'unknown ' + JSON.stringify(ops[op]!.input));
    } else {
      match[node] = callNodeOf[op]!;
      match[callNodeOf[op]!] = node;
      if (known[op]) {
        // ... and in return order here.
        joinClass(op, 'known ' + JSON.stringify([ops[op]!.input, ops[op]!.output]));
        returnNodeOfSlot[slot[op]!] = node;
        nextReturn[lastReturn] = node;
        prevReturn[node] = lastReturn;
        nextReturn[node] = END;
        lastReturn = node;
      }
    }
  }

  // With frontier f (the first known return still in the list), every known operation whose return is before f
  // has been linearized and none called after f has, so two configurations with the same frontier can differ only
  // on the operations open at f: slots from the earliest-called one still open to the last one called. Comparing
  // and copying only those words keeps each step O(concurrency) rather than O(history).
  const windowFrom = new Int32Array(nodes);
  const windowTo = new Int32Array(nodes);
  {
    let callsBefore = 0;
    let earliestOpen = 0;
    for (let node = 1; node < nodes; node++) {
      const op = opOf[node]!;
      if (!known[op]) continue;
      if (isCall[node] === 1) {
        callsBefore++;
        continue;
      }
      while (earliestOpen < callsBefore && returnNodeOfSlot[earliestOpen]! <= node) earliestOpen++;
      windowTo[node] = (callsBefore + 31) >>> 5;
      windowFrom[node] = earliestOpen < callsBefore ? earliestOpen >>> 5 : windowTo[node]!;
    }
  }

  const unlink = (node: number): void => {
    next[prev[node]!] = next[node]!;
    if (next[node] !== END) prev[next[node]!] = prev[node]!;
    if (isCall[node] === 0 && known[opOf[node]!]) {
      nextReturn[prevReturn[node]!] = nextReturn[node]!;
      if (nextReturn[node] !== END) prevReturn[nextReturn[node]!] = prevReturn[node]!;
    }
  };
  const relink = (node: number): void => {
    next[prev[node]!] = node;
    if (next[node] !== END) prev[next[node]!] = node;
    if (isCall[node] === 0 && known[opOf[node]!]) {
      nextReturn[prevReturn[node]!] = node;
      if (nextReturn[node] !== END) prevReturn[nextReturn[node]!] = node;
    }
  };
  // Lifting removes the call then its return; unlifting must restore them in the reverse order.
  const lift = (callNode: number): void => {
    unlink(callNode);
    unlink(match[callNode]!);
  };
  const unlift = (callNode: number): void => {
    relink(match[callNode]!);
    relink(callNode);
  };

  // The linearized operations: known outcomes and unknown ones apart (see CacheEntry).
  const knownBits = new Bitset(returnNodeOfSlot.length);
  const optionalBits = new Bitset(optionalSlots);
  const linearizedOfClass = new Int32Array(classMembers.length);
  /** Whether `op` is the earliest pending member of its class of interchangeable operations. */
  const isClassHead = (op: number): boolean => {
    const id = classOf[op]!;
    return classMembers[id]![linearizedOfClass[id]!] === op;
  };

  /**
   * Whether a known-outcome candidate `op` has an identical twin (same input and output) that is also a candidate
   * and returns earlier: then only the twin needs trying (see the header).
   */
  const hasEarlierTwin = (op: number): boolean => {
    const members = classMembers[classOf[op]!]!;
    const frontier = nextReturn[HEAD]!;
    for (let k = rank[op]! - 1; k >= 0; k--) {
      const twin = members[k]!;
      // Members returning before the frontier are linearized, and so are all before them.
      if (match[callNodeOf[twin]!]! < frontier) return false;
      if (!knownBits.has(slot[twin]!) && callNodeOf[twin]! < frontier) return true;
    }
    return false;
  };

  let furthest = 0;
  /** The next call node after `from` whose outcome is known (or unknown), or END at the first return. */
  const scan = (from: number, wantKnown: boolean): number => {
    let node = next[from]!;
    while (node !== END && isCall[node] === 1) {
      const op = opOf[node]!;
      if (known[op] === wantKnown && (wantKnown ? !hasEarlierTwin(op) : isClassHead(op))) return node;
      node = next[node]!;
    }
    if (node > furthest) furthest = node;
    return END;
  };
  const nextCandidate = (from: number, wantKnown: boolean): number => {
    const candidate = scan(from, wantKnown);
    return candidate === END && wantKnown ? scan(HEAD, false) : candidate;
  };

  const stateHash = (state: S): number => {
    const h = model.hash(state);
    return typeof h === 'number' ? mix32(h) : hashString(h);
  };
  const cache = new Map<number, CacheEntry<S>[]>();
  let cacheBytes = 0;
  const entryBytes = (entry: CacheEntry<S>): number =>
    (entry.window.length + entry.optional.length) * 8 + CACHE_ENTRY_OVERHEAD_BYTES;
  /**
   * Adds the current configuration to the cache, unless one that dominates it is there already; entries it
   * dominates in turn (same known set and state, more unknown-outcome operations used) are dropped, so that a
   * bucket stays small: it only ever holds incomparable sets of unknown-outcome operations.
   */
  const remember = (state: S): 'new' | 'seen' | 'full' => {
    const frontier = nextReturn[HEAD]!;
    const from = windowFrom[frontier]!;
    const key = (knownBits.hash ^ stateHash(state)) >>> 0;
    let bucket = cache.get(key);
    let dominated = 0;
    if (bucket !== undefined) {
      for (const entry of bucket) {
        if (
          entry.frontier !== frontier ||
          !knownBits.equalsRange(entry.window, from) ||
          !model.equal(entry.state, state)
        ) {
          continue;
        }
        if (optionalBits.includes(entry.optional)) return 'seen';
        if (optionalBits.isSubsetOf(entry.optional)) dominated++;
      }
    }
    if (bucket !== undefined && dominated > 0) {
      const kept = bucket.filter((entry) => {
        const drop =
          entry.frontier === frontier &&
          optionalBits.isSubsetOf(entry.optional) &&
          knownBits.equalsRange(entry.window, from) &&
          model.equal(entry.state, state);
        if (drop) cacheBytes -= entryBytes(entry);
        return !drop;
      });
      bucket.length = 0;
      bucket.push(...kept);
    }
    const entry = {
      frontier,
      window: knownBits.snapshot(from, windowTo[frontier]),
      optional: optionalBits.snapshot(),
      state,
    };
    cacheBytes += entryBytes(entry);
    if (cacheBytes > limits.maxCacheBytes) return 'full';
    if (bucket === undefined) {
      bucket = [];
      cache.set(key, bucket);
    }
    bucket.push(entry);
    return 'new';
  };
  const mark = (op: number, linearized: boolean): void => {
    if (!known[op]) linearizedOfClass[classOf[op]!]! += linearized ? 1 : -1;
    const bits = known[op] ? knownBits : optionalBits;
    if (linearized) bits.set(slot[op]!);
    else bits.clear(slot[op]!);
  };

  /** `forced`: a read-only step (see the header), so the configuration below it has no other option worth trying. */
  const stack: { node: number; state: S; forced: boolean }[] = [];
  /**
   * Just in time (see the header): when the last step took an unknown-outcome operation u, whether taking `op` next,
   * reaching `after`, is a detour: `op` alone from the state before u reaches `after` as well (u did nothing that
   * mattered), or `op` then u does (the search tries that order from the parent; between two unknown-outcome
   * operations only the one called first may go first, so that one of the two orders stays).
   */
  const redundantAfterUnknown = (op: number, after: S): boolean => {
    const top = stack[stack.length - 1];
    if (top === undefined) return false;
    const u = opOf[top.node]!;
    if (known[u]) return false;
    const operation = ops[op]!;
    const alone = model.step(top.state, operation.input, operation.output);
    if (!alone.ok) return false;
    if (model.equal(alone.state, after)) return true;
    if (!known[op] && callNodeOf[op]! > top.node) return false;
    return model.equal(model.step(alone.state, ops[u]!.input, undefined).state, after);
  };
  let state = model.init();
  let linearizedKnown = 0;
  let steps = 0;
  const exhausted = (limit: 'steps' | 'memory' | 'deadline'): SearchOutcome =>
    furthest > 0
      ? { kind: 'exhausted', steps, limit, blocker: opOf[furthest]! }
      : { kind: 'exhausted', steps, limit };
  remember(state);
  let candidate = nextCandidate(HEAD, true);

  for (;;) {
    steps++;
    if (steps > limits.budgetSteps) return exhausted('steps');
    if (
      limits.deadline !== undefined &&
      limits.now !== undefined &&
      steps % DEADLINE_CHECK_INTERVAL_STEPS === 0 &&
      limits.now() >= limits.deadline
    ) {
      return exhausted('deadline');
    }

    if (candidate !== END) {
      const op = opOf[candidate]!;
      const operation = ops[op]!;
      const result = model.step(state, operation.input, operation.output);
      if (result.ok) {
        if (known[op] && linearizedKnown + 1 === knownTotal) return { kind: 'linearizable', steps };
        if (redundantAfterUnknown(op, result.state)) {
          candidate = nextCandidate(candidate, known[op]!);
          continue;
        }
        mark(op, true);
        lift(candidate);
        const forced = readOnly[op] === 1;
        const memo = remember(result.state);
        if (memo === 'full') return exhausted('memory');
        if (memo === 'new') {
          stack.push({ node: candidate, state, forced });
          state = result.state;
          if (known[op]) linearizedKnown++;
          candidate = nextCandidate(HEAD, true);
          continue;
        }
        unlift(candidate);
        mark(op, false);
        if (forced) {
          candidate = END;
          continue;
        }
      }
      candidate = nextCandidate(candidate, known[op]!);
    } else {
      const top = stack.pop();
      if (top === undefined) {
        const prefix: number[] = [];
        for (let i = 0; i < n; i++) if (callNodeOf[i]! < furthest) prefix.push(i);
        return { kind: 'violation', steps, prefix, blocker: opOf[furthest]! };
      }
      const op = opOf[top.node]!;
      state = top.state;
      mark(op, false);
      unlift(top.node);
      if (known[op]) linearizedKnown--;
      candidate = top.forced ? END : nextCandidate(top.node, known[op]!);
    }
  }
}
