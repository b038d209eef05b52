// Which hash slots a client operation touches: what a member routes it by. A put, a single-key read or delete, a
// prefix with a complete hash tag ("{user:42}/") are confined to one slot; an untagged prefix or an interval may
// reach every slot. A transaction is atomic only inside one group, so in a sharded cluster all of its keys must share
// one slot (hash tags make related keys do so); `slots` lists what it touches so the refusal can name them.

import { keySlot } from '../../shared/sharding/slot.js';
import { prefixSlot } from '../sharding/range-routing.js';
import type { ClientOperation, KeyRange, TxnOp } from './types.js';

export type OperationSlots =
  /** Every key it touches is in this slot. */
  | { readonly kind: 'one'; readonly slot: number }
  /** Keys in several slots: one example key per slot, in the order first met. */
  | { readonly kind: 'several'; readonly keys: ReadonlyMap<number, Uint8Array> }
  /** A prefix without a tag or an interval: any slot. */
  | { readonly kind: 'unconfined' };

/** The one slot every key of `range` hashes to, or undefined when its keys may land in any slot. */
export function rangeSlot(range: KeyRange): number | undefined {
  switch (range.kind) {
    case 'key':
      return keySlot(range.key);
    case 'prefix':
      return prefixSlot(range.prefix);
    case 'interval':
      return undefined;
  }
}

function exampleKey(range: KeyRange): Uint8Array {
  switch (range.kind) {
    case 'key':
      return range.key;
    case 'prefix':
      return range.prefix;
    case 'interval':
      return range.start;
  }
}

export function rangeSlots(range: KeyRange): OperationSlots {
  const slot = rangeSlot(range);
  return slot === undefined ? { kind: 'unconfined' } : { kind: 'one', slot };
}

function txnOpRange(op: TxnOp): KeyRange {
  return op.kind === 'put' ? { kind: 'key', key: op.key } : op.range;
}

export function operationSlots(op: ClientOperation): OperationSlots {
  switch (op.kind) {
    case 'put':
      return { kind: 'one', slot: keySlot(op.key) };
    case 'delete':
      return rangeSlots(op.range);
    case 'txn': {
      const ranges: KeyRange[] = [
        ...op.compare.map((c): KeyRange => ({ kind: 'key', key: c.key })),
        ...[...op.success, ...op.failure].map(txnOpRange),
      ];
      const keys = new Map<number, Uint8Array>();
      for (const range of ranges) {
        const slot = rangeSlot(range);
        if (slot === undefined) return { kind: 'unconfined' };
        if (!keys.has(slot)) keys.set(slot, exampleKey(range));
      }
      const slots = [...keys.keys()];
      // An empty transaction touches no key: any group may run it (it only reads the revision).
      if (slots.length <= 1) return { kind: 'one', slot: slots[0] ?? 0 };
      return { kind: 'several', keys };
    }
  }
}
