// Cheap checks that prove a key-value history non-linearizable before any search, in one pass per key, with a
// reason a human can verify by eye. Two findings, each about one operation that observed something:
//
//  - never written: it observed a value that no operation ever wrote to its key (a read returning "v7", a cas that
//    succeeded expecting "v7"), or observed that the key held some value (a delete that deleted, a cas expecting
//    absence that failed) when no operation ever wrote to the key at all;
//  - written too late: every operation that could have written what it observed was called after it returned, and
//    a write cannot take effect before it is called.
//
// "Could have written" counts every put and every cas writing the value, whatever its outcome (acknowledged,
// unknown, even a cas reported as failed), so a finding never rests on an outcome: the observing operation cannot
// be explained even if every other operation's outcome were unknown (took effect at any time after its call, or
// never). It alone is the counterexample. Equal timestamps overlap, as everywhere in the checker.
//
// The search (wgl.ts) reaches the same verdict, but on a hard key (many clients, many unknown outcomes, a long
// history) it may run out of budget first; these checks cost O(n) per key whatever the history.
import { effectiveReturn } from './history.js';
import type { PrecheckFinding } from './model.js';
import { indicesByKey, type KvOperation } from './kv-types.js';

/** What a known outcome says the key held just before the operation: a value, some value, or nothing to check. */
type Observation = { kind: 'value'; value: string } | { kind: 'present' } | undefined;

function observation(op: KvOperation): Observation {
  const { input, output } = op;
  if (output === undefined) return undefined;
  if (input.op === 'get' && output.op === 'get' && output.value !== null)
    return { kind: 'value', value: output.value };
  if (input.op === 'cas' && output.op === 'cas') {
    if (output.succeeded && input.expected !== null) return { kind: 'value', value: input.expected };
    if (!output.succeeded && input.expected === null) return { kind: 'present' };
  }
  if (input.op === 'delete' && output.op === 'delete' && output.deleted) return { kind: 'present' };
  return undefined;
}

/** The value `op` writes if it takes effect, for puts and cas (whatever their outcome); undefined otherwise. */
function writtenValue(op: KvOperation): string | undefined {
  return op.input.op === 'put' || op.input.op === 'cas' ? op.input.value : undefined;
}

/**
 * The finding whose observer returned first (on a tie, the first one met), over all keys of `ops`; undefined when
 * neither check proves anything. Pure; O(n log n).
 */
export function precheckKv(ops: readonly KvOperation[]): PrecheckFinding | undefined {
  let first: { finding: PrecheckFinding; returned: number } | undefined;
  for (const indices of indicesByKey(ops).values()) {
    // Who could have written each value, and who could have written anything at all.
    const writersOf = new Map<string, number[]>();
    const anyWriters: number[] = [];
    for (const i of indices) {
      const value = writtenValue(ops[i]!);
      if (value === undefined) continue;
      anyWriters.push(i);
      const list = writersOf.get(value);
      if (list === undefined) writersOf.set(value, [i]);
      else list.push(i);
    }
    const byCall = (a: number, b: number): number => ops[a]!.call - ops[b]!.call || a - b;
    for (const list of writersOf.values()) list.sort(byCall);
    anyWriters.sort(byCall);
    for (const i of indices) {
      const op = ops[i]!;
      const seen = observation(op);
      if (seen === undefined) continue;
      const returned = effectiveReturn(op);
      if (first !== undefined && returned >= first.returned) continue;
      const found =
        seen.kind === 'value'
          ? judge(ops, i, returned, writersOf.get(seen.value) ?? [], {
              observed: `observed ${JSON.stringify(seen.value)}`,
              wrote: `wrote ${JSON.stringify(seen.value)} to this key`,
            })
          : judge(ops, i, returned, anyWriters, {
              observed: 'observed that the key held a value',
              wrote: 'wrote to this key',
            });
      if (found !== undefined) first = { finding: { index: i, ...found }, returned };
    }
  }
  return first?.finding;
}

/** The finding about observer `self`, returned at `returned`, given every write that could explain it, by call. */
function judge(
  ops: readonly KvOperation[],
  self: number,
  returned: number,
  byCall: readonly number[],
  words: { readonly observed: string; readonly wrote: string },
): Omit<PrecheckFinding, 'index'> | undefined {
  // A cas expecting absence cannot be what wrote the value it found.
  const earliest = byCall[0] === self ? byCall[1] : byCall[0];
  if (earliest === undefined)
    return { reason: `${words.observed}, but no operation ever ${words.wrote}`, related: [] };
  // Strictly after: a writer called at the instant the observer returned overlaps it, so it could explain it.
  if (ops[earliest]!.call <= returned) return undefined;
  const writers = byCall.filter((w) => w !== self);
  const who = writers.length === 1 ? 'the only operation that' : `all ${writers.length} operations that`;
  return {
    reason: `${words.observed}, but ${who} ${words.wrote} started after this one returned`,
    related: writers,
  };
}
