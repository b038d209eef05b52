// The fence between a client operation and the slots its group serves. An operation on keys of a slot this group
// does not serve (owned elsewhere, or moving in or out) is refused with a redirect before it changes anything. A
// scan that is not confined to one slot (an untagged prefix, an interval) is not refused: it sees only the keys of
// the slots the group serves, and whoever fans it out counts the slots every answer covered (see the state
// machine's `ownership.ownedCount`) to tell a complete answer from one that raced a move.

import type { SlotOwnership, SlotRedirect } from '../sharding/slot-ownership.js';
import { rangeSlot } from './operation-slots.js';
import type { ClientOperation, KeyRange, TxnOp } from './types.js';

/** The redirect for a range confined to a slot this group does not serve; undefined when it may run. */
export function fenceRange(range: KeyRange, ownership: SlotOwnership): SlotRedirect | undefined {
  if (ownership.servesEverySlot) return undefined;
  const slot = rangeSlot(range);
  return slot === undefined || ownership.serves(slot) ? undefined : ownership.redirect(slot);
}

function fenceTxnOp(op: TxnOp, ownership: SlotOwnership): SlotRedirect | undefined {
  return op.kind === 'put'
    ? fenceRange({ kind: 'key', key: op.key }, ownership)
    : fenceRange(op.range, ownership);
}

/**
 * The redirect for the first key of `op` in a slot this group does not serve; undefined when it may run. A
 * transaction is checked on both branches and its compares, since which branch runs is only known once it does.
 */
export function fenceOperation(op: ClientOperation, ownership: SlotOwnership): SlotRedirect | undefined {
  if (ownership.servesEverySlot) return undefined;
  switch (op.kind) {
    case 'put':
      return fenceRange({ kind: 'key', key: op.key }, ownership);
    case 'delete':
      return fenceRange(op.range, ownership);
    case 'txn':
      for (const compare of op.compare) {
        const redirect = fenceRange({ kind: 'key', key: compare.key }, ownership);
        if (redirect !== undefined) return redirect;
      }
      for (const txnOp of [...op.success, ...op.failure]) {
        const redirect = fenceTxnOp(txnOp, ownership);
        if (redirect !== undefined) return redirect;
      }
      return undefined;
  }
}
