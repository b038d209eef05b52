// The durability check: after every member was killed and restarted, each key must hold the value of a write
// that may legitimately be the last one. A value is legitimate when some write of it (acknowledged or of unknown
// outcome) is not followed in real time by an acknowledged write of the same key; anything else (an absent key,
// a stale acknowledged value, a value nobody wrote) means an acknowledged write was lost.
import { effectiveReturn, type Operation } from '../testing/lincheck/history.js';
import type { KvInput, KvOutput } from '../testing/lincheck/kv-model.js';

export type KvOperation = Operation<KvInput, KvOutput>;

export interface LostWrite {
  readonly key: string;
  /** What the final read saw (null = absent). */
  readonly found: string | null;
  /** The values that could legitimately be there. */
  readonly allowed: readonly string[];
  /** The acknowledged write that is no longer visible (the latest one to return). */
  readonly acknowledged: string;
}

/** The value this operation may have written, if it writes at all. */
function writtenValue(op: KvOperation): string | undefined {
  const input = op.input;
  if (input.op === 'put') return input.value;
  if (input.op === 'cas') {
    if (op.output === undefined) return input.value;
    return op.output.op === 'cas' && op.output.succeeded ? input.value : undefined;
  }
  return undefined;
}

function acknowledged(op: KvOperation): boolean {
  return op.output !== undefined && writtenValue(op) !== undefined;
}

/**
 * Compares final reads with the history. `finalValues` maps every key the workload touched to what a
 * linearizable read returned after the last operation of `history` had returned or been abandoned.
 * The workload never deletes, so an absent key after an acknowledged write is always a loss.
 */
export function findLostWrites(
  history: readonly KvOperation[],
  finalValues: ReadonlyMap<string, string | null>,
): LostWrite[] {
  const lost: LostWrite[] = [];
  for (const [key, found] of finalValues) {
    const writes = history.filter((op) => op.input.key === key && writtenValue(op) !== undefined);
    const acks = writes.filter(acknowledged);
    if (acks.length === 0) continue;
    // A write is superseded when an acknowledged write of the key was invoked after it returned.
    const latestAckCall = Math.max(...acks.map((op) => op.call));
    const allowed = writes
      .filter((op) => effectiveReturn(op) >= latestAckCall)
      .map((op) => writtenValue(op)!);
    if (found !== null && allowed.includes(found)) continue;
    const lastAck = acks.reduce((a, b) => (effectiveReturn(b) > effectiveReturn(a) ? b : a));
    lost.push({ key, found, allowed, acknowledged: writtenValue(lastAck)! });
  }
  return lost;
}
