// Where one batch of a slot move stands, read off the two groups' own record of the batch's slots, and so what the
// coordinator does next. Level-triggered like any reconcile: the coordinator records only which batch it is on and
// that batch's epoch, never the step, so a coordinator that crashed (or a second one that took over) resumes by
// looking. Every slot of a batch changes state in one command, so the first slot speaks for the batch.
//
// The protocol and the states are the datastore's (node/src/sharding/slot-ownership.ts); this is the coordinator's
// half of it, shared so the operator can drive moves without reaching into the node.

export type SlotState = 'absent' | 'owned' | 'leaving' | 'importing' | 'imported';

/** One group's record of a slot: its state and the epoch of its last move step (0: never moved, or aborted). */
export interface SlotSide {
  readonly state: SlotState;
  readonly epoch: number;
}

export type MovePhase =
  /** Ask the target to import (absent → importing). */
  | 'import'
  /** Ask the source to freeze (owned → leaving): from here on the slot serves nothing until the target activates. */
  | 'freeze'
  /** Copy the source's export into the target, page by page; the last page seals the slot. */
  | 'copy'
  /** Ask the target to serve (imported → owned). */
  | 'activate'
  /** Ask the source to drop the slot (leaving → absent). */
  | 'release'
  | 'done';

export type AbortPhase =
  /** Ask the target to give up its import; only then may the source serve again. */
  | 'abortTarget'
  /** Ask the source to serve again (leaving → owned). */
  | 'abortSource'
  | 'aborted'
  /** The target already serves the slot: the move can only be finished (release), never undone. */
  | 'tooLate';

const at = (side: SlotSide, state: SlotState, epoch: number): boolean =>
  side.state === state && side.epoch === epoch;

/**
 * The next step of the move at `epoch` from `source` to `target`, once no stray move holds the slot (strayMove).
 * A slot the target serves and the source does not is done, whichever move put it there.
 */
export function movePhase(source: SlotSide, target: SlotSide, epoch: number): MovePhase {
  if (target.state === 'owned' && source.state === 'absent') return 'done';
  if (at(target, 'owned', epoch)) return 'release';
  if (at(target, 'imported', epoch)) return 'activate';
  if (at(target, 'importing', epoch)) return at(source, 'leaving', epoch) ? 'copy' : 'freeze';
  return 'import';
}

/** A move of the slot left half-done at another epoch, found on one of the two groups. */
export interface StrayMove {
  readonly on: 'source' | 'target';
  readonly epoch: number;
}

/**
 * A move of the batch's slots left half-done at another epoch — by a coordinator that lost its lease and sent one
 * last step, or an attempt this one abandoned — which blocks this move until it is resolved: a stray import in the
 * target is aborted there (the target does not serve it, so that is always safe); a stray freeze in the source is
 * resolved with its own peer (abortPhase over the source and the group its record names): undone if that peer does
 * not serve the slot, released if it does.
 */
export function strayMove(source: SlotSide, target: SlotSide, epoch: number): StrayMove | undefined {
  if ((target.state === 'importing' || target.state === 'imported') && target.epoch !== epoch) {
    return { on: 'target', epoch: target.epoch };
  }
  if (source.state === 'leaving' && source.epoch !== epoch) return { on: 'source', epoch: source.epoch };
  return undefined;
}

/** The next step of undoing the move at `epoch`: target first, so that at no point do both groups serve. */
export function abortPhase(source: SlotSide, target: SlotSide, epoch: number): AbortPhase {
  if (at(target, 'owned', epoch)) return 'tooLate';
  if (at(target, 'importing', epoch) || at(target, 'imported', epoch)) return 'abortTarget';
  if (at(source, 'leaving', epoch)) return 'abortSource';
  return 'aborted';
}
