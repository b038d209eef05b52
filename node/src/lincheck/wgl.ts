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
// known ones at each point (an order heuristic; the search stays exhaustive).
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
  /** `prefix`: indices of the operations called before the furthest point the search reached (see shrink.ts). */
  | { readonly kind: 'violation'; readonly steps: number; readonly prefix: number[] }
  | { readonly kind: 'exhausted'; readonly steps: number; readonly limit: 'steps' | 'memory' | 'deadline' };

interface CacheEntry<S> {
  readonly bits: Uint32Array;
  readonly state: S;
}

const END = -1;
const HEAD = 0;
/** Rough per-entry cost of the cache besides the bitset words: object, array slot, state reference. */
const CACHE_ENTRY_OVERHEAD_BYTES = 64;
/** How often (in steps) the deadline clock is read; reading it every step would dominate small searches. */
const DEADLINE_CHECK_INTERVAL_STEPS = 1024;

export function searchLinearization<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  limits: SearchLimits,
): SearchOutcome {
  const n = ops.length;
  const known = ops.map((op) => op.output !== undefined);
  const knownTotal = known.filter(Boolean).length;
  if (knownTotal === 0) return { kind: 'linearizable', steps: 0 };

  // Node 0 is the head sentinel; node k >= 1 is the (k-1)th event in time order, so node numbers are positions.
  const events: { time: number; isCall: boolean; op: number }[] = [];
  for (let i = 0; i < n; i++) {
    const op = ops[i]!;
    events.push({ time: op.call, isCall: true, op: i }, { time: effectiveReturn(op), isCall: false, op: i });
  }
  // Equal times: calls first, so touching operations count as concurrent (never a false violation).
  events.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.op - b.op || 0);
  const nodes = 2 * n + 1;
  const next = new Int32Array(nodes);
  const prev = new Int32Array(nodes);
  const isCall = new Uint8Array(nodes);
  const opOf = new Int32Array(nodes);
  const match = new Int32Array(nodes);
  const callNodeOf = new Int32Array(n);
  for (let node = 0; node < nodes; node++) {
    next[node] = node + 1 < nodes ? node + 1 : END;
    prev[node] = node - 1;
  }
  for (let k = 0; k < events.length; k++) {
    const event = events[k]!;
    const node = k + 1;
    isCall[node] = event.isCall ? 1 : 0;
    opOf[node] = event.op;
    if (event.isCall) callNodeOf[event.op] = node;
    else {
      match[node] = callNodeOf[event.op]!;
      match[callNodeOf[event.op]!] = node;
    }
  }

  const unlink = (node: number): void => {
    next[prev[node]!] = next[node]!;
    if (next[node] !== END) prev[next[node]!] = prev[node]!;
  };
  const relink = (node: number): void => {
    next[prev[node]!] = node;
    if (next[node] !== END) prev[next[node]!] = node;
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

  let furthest = 0;
  /** The next call node after `from` whose outcome is known (or unknown), or END at the first return. */
  const scan = (from: number, wantKnown: boolean): number => {
    let node = next[from]!;
    while (node !== END && isCall[node] === 1) {
      if (known[opOf[node]!] === wantKnown) return node;
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
  const entryBytes = Math.ceil(n / 32) * 4 + CACHE_ENTRY_OVERHEAD_BYTES;
  let cacheBytes = 0;
  const bits = new Bitset(n);
  const stack: { node: number; state: S }[] = [];
  let state = model.init();
  let linearizedKnown = 0;
  let steps = 0;
  let candidate = nextCandidate(HEAD, true);

  for (;;) {
    steps++;
    if (steps > limits.budgetSteps) return { kind: 'exhausted', steps, limit: 'steps' };
    if (
      limits.deadline !== undefined &&
      limits.now !== undefined &&
      steps % DEADLINE_CHECK_INTERVAL_STEPS === 0 &&
      limits.now() >= limits.deadline
    ) {
      return { kind: 'exhausted', steps, limit: 'deadline' };
    }

    if (candidate !== END) {
      const op = opOf[candidate]!;
      const operation = ops[op]!;
      const result = model.step(state, operation.input, operation.output);
      if (result.ok) {
        bits.set(op);
        const key = (bits.hash ^ stateHash(result.state)) >>> 0;
        let bucket = cache.get(key);
        const seen = bucket?.some((e) => bits.equals(e.bits) && model.equal(e.state, result.state)) ?? false;
        if (!seen) {
          cacheBytes += entryBytes;
          if (cacheBytes > limits.maxCacheBytes) return { kind: 'exhausted', steps, limit: 'memory' };
          if (bucket === undefined) {
            bucket = [];
            cache.set(key, bucket);
          }
          bucket.push({ bits: bits.snapshot(), state: result.state });
          stack.push({ node: candidate, state });
          state = result.state;
          lift(candidate);
          if (known[op]) linearizedKnown++;
          if (linearizedKnown === knownTotal) return { kind: 'linearizable', steps };
          candidate = nextCandidate(HEAD, true);
          continue;
        }
        bits.clear(op);
      }
      candidate = nextCandidate(candidate, known[op]!);
    } else {
      const top = stack.pop();
      if (top === undefined) {
        const prefix: number[] = [];
        for (let i = 0; i < n; i++) if (callNodeOf[i]! < furthest) prefix.push(i);
        return { kind: 'violation', steps, prefix };
      }
      const op = opOf[top.node]!;
      state = top.state;
      bits.clear(op);
      unlift(top.node);
      if (known[op]) linearizedKnown--;
      candidate = nextCandidate(top.node, known[op]!);
    }
  }
}
