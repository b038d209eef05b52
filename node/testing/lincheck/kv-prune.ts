// Operations of a key-value history that the search may leave out without changing the verdict (Model.prune):
//
//  1. a read whose outcome is unknown: it changes nothing and observed nothing;
//  2. a cas expecting a value that no operation could ever write: it never succeeds. With an unknown outcome it
//     never had an effect; known to have failed, it is accepted in every state and changes nothing, so it fits
//     anywhere in its window (real-time order is an interval order: there is always such a place);
//  3. an unknown-outcome write whose result no other operation could ever notice.
//
// Rule 3 in full. What each known outcome accepts as the key's value just before it: a read of v accepts v (of
// nothing: absence); a cas that succeeded, its expectation; a delete that deleted, or a cas expecting absence that
// failed, any value present; a delete that found nothing, absence; a cas expecting v that failed, anything but v; a
// put, anything. A value is NEEDED when a known outcome other than a put accepts it, or (closing over chains) when
// an unknown-outcome cas whose write is needed expects it. An unknown-outcome put, delete or cas whose written
// value (absence for a delete) is not needed can be left out. Proof: drop it from a linearization. Until the next
// write that ignores the value (a put or a delete, of any outcome), the key held a value nobody needs, so no known
// operation ran in between (a known put would be such a write), an unknown-outcome cas in between either failed
// (drop it too: it did nothing) or expected that value and wrote one nobody needs (so it is dropped as well); after
// that write both orders agree again. Dropping operations keeps real-time order, and only unknown ones are dropped.
import { indicesByKey, type KvOperation } from './kv-types.js';

/** One flag per operation of `ops` (any number of keys): true = the search may leave it out. Pure; O(n) per pass. */
export function prunableKv(ops: readonly KvOperation[]): boolean[] {
  const prune = ops.map(() => false);
  for (const indices of indicesByKey(ops).values()) pruneKey(ops, indices, prune);
  return prune;
}

function pruneKey(ops: readonly KvOperation[], indices: readonly number[], prune: boolean[]): void {
  // Rule 1.
  for (const i of indices) if (ops[i]!.output === undefined && ops[i]!.input.op === 'get') prune[i] = true;

  // Rule 2. Values that could ever be written (absence always: it is the initial state), to a fixpoint, since a
  // cas whose expectation can never hold writes nothing. Counting too many writers only prunes less.
  const writable = new Set<string | null>([null]);
  let pending: number[] = [];
  for (const i of indices) {
    const { input, output } = ops[i]!;
    if (input.op === 'put') writable.add(input.value);
    else if (input.op === 'cas' && output?.op === 'cas' && output.succeeded) writable.add(input.value);
    else if (input.op === 'cas' && output === undefined) pending.push(i);
  }
  for (let changed = true; changed;) {
    changed = false;
    const still: number[] = [];
    for (const i of pending) {
      const input = ops[i]!.input;
      if (input.op !== 'cas') continue;
      if (writable.has(input.expected)) {
        writable.add(input.value);
        changed = true;
      } else {
        still.push(i);
      }
    }
    pending = still;
  }
  for (const i of pending) prune[i] = true;
  for (const i of indices) {
    const { input, output } = ops[i]!;
    if (input.op === 'cas' && output?.op === 'cas' && !output.succeeded && !writable.has(input.expected))
      prune[i] = true;
  }

  // Rule 3.
  const needed = new Set<string | null>();
  let anyPresentNeeded = false;
  const unknownWrites: number[] = [];
  for (const i of indices) {
    if (prune[i]) continue;
    const { input, output } = ops[i]!;
    if (output === undefined) {
      unknownWrites.push(i);
      continue;
    }
    if (output.op === 'get') needed.add(output.value);
    else if (output.op === 'delete') {
      if (output.deleted) anyPresentNeeded = true;
      else needed.add(null);
    } else if (output.op === 'cas' && input.op === 'cas') {
      if (output.succeeded) needed.add(input.expected);
      else {
        anyPresentNeeded = true;
        if (input.expected !== null) needed.add(null);
      }
    }
  }
  const isNeeded = (value: string | null): boolean =>
    needed.has(value) || (value !== null && anyPresentNeeded);
  let useless = unknownWrites;
  for (let changed = true; changed;) {
    changed = false;
    const still: number[] = [];
    for (const i of useless) {
      const input = ops[i]!.input;
      const written = input.op === 'delete' ? null : input.op === 'get' ? undefined : input.value;
      if (written !== undefined && isNeeded(written)) {
        // Useful: and if it is a cas, what it expects becomes needed too.
        if (input.op === 'cas' && !needed.has(input.expected)) {
          needed.add(input.expected);
          changed = true;
        }
      } else {
        still.push(i);
      }
    }
    useless = still;
  }
  for (const i of useless) prune[i] = true;
}
