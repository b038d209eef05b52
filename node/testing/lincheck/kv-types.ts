// The key-value store's operations as the checker sees them. Kept apart from the model (kv-model.ts) so that the
// analyses the model delegates to (precheck.ts, kv-prune.ts) share these types without importing the model back.
import type { Operation } from './history.js';

export type KvInput =
  | { op: 'put'; key: string; value: string }
  | { op: 'get'; key: string }
  | { op: 'delete'; key: string }
  /** expected null = the key must be absent. */
  | { op: 'cas'; key: string; expected: string | null; value: string };

export type KvOutput =
  | { op: 'put' }
  | { op: 'get'; value: string | null }
  | { op: 'delete'; deleted: boolean }
  | { op: 'cas'; succeeded: boolean };

export type KvOperation = Operation<KvInput, KvOutput>;

/** The operations of each key, as indices into `ops`, in the order given. */
export function indicesByKey(ops: readonly KvOperation[]): Map<string, number[]> {
  const byKey = new Map<string, number[]>();
  for (let i = 0; i < ops.length; i++) {
    const key = ops[i]!.input.key;
    const indices = byKey.get(key);
    if (indices === undefined) byKey.set(key, [i]);
    else indices.push(i);
  }
  return byKey;
}
