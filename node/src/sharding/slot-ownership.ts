// Which hash slots one Raft group serves, as replicated state. It changes only when the group applies a slot-move
// step from its log, so an ownership change is ordered with the writes it fences: a write applied after the group
// froze a slot is refused, whenever it was proposed. Pure and deterministic, like the rest of the state machine.
//
// A slot moves from group S to group D in steps a coordinator (the operator) drives, each one a Raft command in one
// group, each idempotent so a coordinator that crashed can resume from its recorded step:
//
//   1. D: import   (absent → importing)   D accepts the slot's data but serves nothing of it.
//   2. S: freeze   (owned → leaving)      S stops serving the slot, reads and writes: its data is now fixed.
//   3. D: ingest   copies of S's keys (and S's client sessions) into D, in batches; the last batch seals the slot
//                  (importing → imported). S exports a slot only while it is leaving, so a sealed slot proves 2.
//   4. D: activate (imported → owned)     D serves the slot: only after 2, so at most one group ever serves it.
//   5. S: release  (leaving → absent)     S drops the slot's keys and answers "moved" with D as the owner.
//   `abort` undoes a move before 4: first in D (refused once D serves), then in S, so S serves again only after
//   D has given up the slot.
//   `repoint` corrects where a group believes a slot it gave away now lives, once the slot has moved on from the
//   group it went to (D gave it to E at a later epoch). Only a routing hint changes, never what is served, but a
//   hint naming a group about to be retired would send its keys to members that no longer exist, so the operator
//   repoints every such record before it retires the group (operator/src/planner/reshard.ts).
//
// Every step names the map epoch of its move. A group remembers the highest epoch it has seen, starts a move
// (import, freeze) only at a newer one, and finishes or aborts a move only at the epoch it was started with, so a
// coordinator that lost its lease cannot start a second, conflicting move, and an aborted move cannot be restarted
// under its old epoch (a retry is a new move). This is Redis Cluster's MIGRATING /
// IMPORTING with TiKV's region epoch as the fence, decided inside the replicated state machine rather than by the
// coordinator, so correctness never depends on a router's map being fresh.

import type { SlotState } from '../../shared/sharding/move-phase.js';
import { SLOT_COUNT } from '../../shared/sharding/slot.js';
import { ShardMap, type ShardId } from '../../shared/sharding/shard-map.js';

export type { SlotState };

/** The steps of a move, in order; `abort` undoes one that has not reached `activate`. */
export type SlotMoveStep = 'import' | 'freeze' | 'seal' | 'activate' | 'release' | 'abort' | 'repoint';

export interface SlotMoveRequest {
  readonly step: SlotMoveStep;
  /** Distinct slots in [0, SLOT_COUNT). */
  readonly slots: readonly number[];
  /**
   * The other group of the move: the source for import, the destination for freeze, the slots' owner now for
   * repoint (unused by the rest).
   */
  readonly peer: ShardId;
  /**
   * The map epoch the move produces: ≥ 1, the same for every step of one move. For repoint, the epoch at which the
   * owner got the slots (the highest of the batch): a record of a later move than that is newer news and is kept.
   */
  readonly epoch: number;
}

export type SlotMoveOutcome =
  /**
   * Applied; `changed` slots changed state (0 for a repeated step; for repoint, slots whose owner changed),
   * `dropped` are slots whose keys must go.
   */
  | { readonly ok: true; readonly changed: number; readonly dropped: readonly number[] }
  /** Nothing changed: the step does not fit the state (a coordinator bug or a stale coordinator). */
  | { readonly ok: false; readonly reason: string };

/** What a group answers for a key of a slot it does not serve: a routing hint, never a guarantee. */
export interface SlotRedirect {
  readonly slot: number;
  /** The highest map epoch this group has seen. */
  readonly epoch: number;
  /** The group this one believes serves (or is about to serve) the slot; undefined when it has no idea. */
  readonly owner: ShardId | undefined;
  /** True while a move of the slot runs: retry the same group or the owner after a short pause. */
  readonly moving: boolean;
}

/** One run of consecutive slots in the same state: the serialisable form (snapshots). */
export interface SlotRun {
  readonly start: number;
  /** Inclusive. */
  readonly end: number;
  readonly state: SlotState;
  /** The other group of the slot's last move; NO_PEER when there was none. */
  readonly peer: number;
  /** The epoch of the slot's last move; 0 when there was none. */
  readonly epoch: number;
}

export interface SlotOwnershipSpec {
  readonly epoch: number;
  readonly runs: readonly SlotRun[];
}

/** What readers of a group's ownership may look at; only the state machine applies steps. */
export type SlotOwnershipView = Omit<SlotOwnership, 'apply'>;

export class SlotOwnershipError extends Error {
  override readonly name = 'SlotOwnershipError';
}

/** "No other group": a slot that was never moved. Outside the shard ids a map assigns (uint32 minus this one). */
export const NO_PEER = 0xffff_ffff;

const STATES: readonly SlotState[] = ['absent', 'owned', 'leaving', 'importing', 'imported'];
const ABSENT = 0;
const OWNED = 1;
const LEAVING = 2;
const IMPORTING = 3;
const IMPORTED = 4;

export class SlotOwnership {
  readonly #state: Uint8Array;
  readonly #peer: Uint32Array;
  readonly #slotEpoch: Float64Array;
  #epoch: number;
  #owned: number;
  #moving: number;

  private constructor(state: Uint8Array, peer: Uint32Array, slotEpoch: Float64Array, epoch: number) {
    this.#state = state;
    this.#peer = peer;
    this.#slotEpoch = slotEpoch;
    this.#epoch = epoch;
    this.#owned = 0;
    this.#moving = 0;
    for (const code of state) {
      if (code === OWNED) this.#owned++;
      else if (code !== ABSENT) this.#moving++;
    }
  }

  static #of(owned: (slot: number) => boolean): SlotOwnership {
    const state = new Uint8Array(SLOT_COUNT);
    for (let slot = 0; slot < SLOT_COUNT; slot++) state[slot] = owned(slot) ? OWNED : ABSENT;
    return new SlotOwnership(
      state,
      new Uint32Array(SLOT_COUNT).fill(NO_PEER),
      new Float64Array(SLOT_COUNT),
      0,
    );
  }

  /** A group that serves every slot: a cluster of one shard. */
  static all(): SlotOwnership {
    return SlotOwnership.#of(() => true);
  }

  /**
   * What group `shard` owns before its first log entry, in a cluster created with `bootstrapShards` shards: its
   * share of the even split. A function of values fixed at creation, so a member that replays the log from index 1
   * starts from the same state as the members that wrote it. A group created later (shard ≥ bootstrapShards) starts
   * with nothing and receives slots by import.
   */
  static initial(shard: ShardId, bootstrapShards: number): SlotOwnership {
    if (!Number.isInteger(bootstrapShards) || bootstrapShards < 1 || bootstrapShards > SLOT_COUNT) {
      throw new SlotOwnershipError(`bootstrap shard count ${bootstrapShards} is outside [1, ${SLOT_COUNT}]`);
    }
    if (shard >= bootstrapShards) return SlotOwnership.#of(() => false);
    const map = ShardMap.even(Array.from({ length: bootstrapShards }, (_, i) => i));
    return SlotOwnership.#of((slot) => map.shardOfSlot(slot) === shard);
  }

  /** Rebuilds the state `toSpec` captured; throws SlotOwnershipError if it is not a valid one. */
  static fromSpec(spec: SlotOwnershipSpec): SlotOwnership {
    if (!Number.isSafeInteger(spec.epoch) || spec.epoch < 0) {
      throw new SlotOwnershipError(`ownership epoch ${spec.epoch} is not a non-negative integer`);
    }
    const state = new Uint8Array(SLOT_COUNT);
    const peer = new Uint32Array(SLOT_COUNT);
    const slotEpoch = new Float64Array(SLOT_COUNT);
    let next = 0;
    for (const run of spec.runs) {
      if (run.start !== next || run.end < run.start || run.end >= SLOT_COUNT) {
        throw new SlotOwnershipError(`slot run [${run.start}, ${run.end}] does not continue at slot ${next}`);
      }
      const code = STATES.indexOf(run.state);
      if (code === -1) throw new SlotOwnershipError(`unknown slot state '${String(run.state)}'`);
      if (!Number.isSafeInteger(run.epoch) || run.epoch < 0 || run.epoch > spec.epoch) {
        throw new SlotOwnershipError(
          `slot run [${run.start}, ${run.end}]: epoch ${run.epoch} beyond ${spec.epoch}`,
        );
      }
      if (!Number.isInteger(run.peer) || run.peer < 0 || run.peer > NO_PEER) {
        throw new SlotOwnershipError(`slot run [${run.start}, ${run.end}]: peer ${run.peer} is not a uint32`);
      }
      if (code >= LEAVING && (run.peer === NO_PEER || run.epoch === 0)) {
        throw new SlotOwnershipError(`slot run [${run.start}, ${run.end}] is ${run.state} without a move`);
      }
      state.fill(code, run.start, run.end + 1);
      peer.fill(run.peer, run.start, run.end + 1);
      slotEpoch.fill(run.epoch, run.start, run.end + 1);
      next = run.end + 1;
    }
    if (next !== SLOT_COUNT) throw new SlotOwnershipError(`slot runs end at ${next}, not at ${SLOT_COUNT}`);
    return new SlotOwnership(state, peer, slotEpoch, spec.epoch);
  }

  /** Maximal runs of slots with equal state, peer and epoch, in slot order. */
  toSpec(): SlotOwnershipSpec {
    const runs: SlotRun[] = [];
    let start = 0;
    for (let slot = 1; slot <= SLOT_COUNT; slot++) {
      const same =
        slot < SLOT_COUNT &&
        this.#state[slot] === this.#state[start] &&
        this.#peer[slot] === this.#peer[start] &&
        this.#slotEpoch[slot] === this.#slotEpoch[start];
      if (same) continue;
      runs.push({
        start,
        end: slot - 1,
        state: this.stateOf(start),
        peer: this.#peer[start] ?? NO_PEER,
        epoch: this.#slotEpoch[start] ?? 0,
      });
      start = slot;
    }
    return { epoch: this.#epoch, runs };
  }

  /** The highest map epoch this group has seen in a move step. */
  get epoch(): number {
    return this.#epoch;
  }

  get ownedCount(): number {
    return this.#owned;
  }

  /** Slots leaving, importing or imported. */
  get movingCount(): number {
    return this.#moving;
  }

  /** True when the group serves every slot and none moves: the common case, where no key needs checking. */
  get servesEverySlot(): boolean {
    return this.#owned === SLOT_COUNT;
  }

  stateOf(slot: number): SlotState {
    return STATES[this.#state[checkSlot(slot)] ?? ABSENT] ?? 'absent';
  }

  /** The epoch of the slot's last move step (0 if never moved, or the move was aborted). */
  moveEpochOf(slot: number): number {
    return this.#slotEpoch[checkSlot(slot)] ?? 0;
  }

  /** The other group of the slot's last move step; undefined if none (never moved, or aborted). */
  peerOf(slot: number): number | undefined {
    const peer = this.#peer[checkSlot(slot)] ?? NO_PEER;
    return peer === NO_PEER ? undefined : peer;
  }

  /** Whether some slot is importing at `epoch`: the import a copy cursor of that epoch belongs to is under way. */
  importsAt(epoch: number): boolean {
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      if (this.#state[slot] === IMPORTING && this.#slotEpoch[slot] === epoch) return true;
    }
    return false;
  }

  serves(slot: number): boolean {
    return this.#state[checkSlot(slot)] === OWNED;
  }

  /** The hint for a key of `slot` when this group does not serve it. */
  redirect(slot: number): SlotRedirect {
    const code = this.#state[checkSlot(slot)];
    const peer = this.#peer[slot] ?? NO_PEER;
    const known = peer === NO_PEER ? undefined : peer;
    switch (code) {
      case LEAVING:
        return { slot, epoch: this.#epoch, owner: known, moving: true };
      case IMPORTING:
      case IMPORTED:
        // Still served by the source until this group activates it.
        return { slot, epoch: this.#epoch, owner: known, moving: true };
      default:
        // Absent: after a release the peer is where it went; an owned slot is never redirected by a caller.
        return { slot, epoch: this.#epoch, owner: known, moving: false };
    }
  }

  /**
   * Applies one step to every listed slot, or to none: a step that does not fit any one slot changes nothing and
   * says why. A repeated step is a no-op, so a coordinator may resend the step it was on when it crashed.
   */
  apply(request: SlotMoveRequest): SlotMoveOutcome {
    const problem = checkRequest(request);
    if (problem !== undefined) return { ok: false, reason: problem };
    const { step, slots, peer, epoch } = request;
    if (step === 'repoint') return this.#repoint(slots, peer, epoch);
    const starts = step === 'import' || step === 'freeze';
    if (starts && epoch < this.#epoch) {
      return {
        ok: false,
        reason: `${step} at epoch ${epoch}: this group has already seen epoch ${this.#epoch}`,
      };
    }
    const plan: [slot: number, to: number][] = [];
    for (const slot of slots) {
      const from = this.#state[slot] ?? ABSENT;
      const to = this.#transition(step, slot, from, peer, epoch);
      if (typeof to === 'string') return { ok: false, reason: `slot ${slot}: ${to}` };
      if (to !== from) plan.push([slot, to]);
    }
    const dropped: number[] = [];
    for (const [slot, to] of plan) {
      const from = this.#state[slot] ?? ABSENT;
      this.#count(from, -1);
      this.#count(to, +1);
      this.#state[slot] = to;
      // After an abort the slot is as if the move never ran (no peer, epoch 0), so a repeated abort finds nothing
      // to undo and is not mistaken for a finished move, which keeps its epoch (activate, release).
      if (starts || step === 'abort') this.#peer[slot] = step === 'abort' ? NO_PEER : peer;
      this.#slotEpoch[slot] = step === 'abort' ? 0 : epoch;
      if (to === ABSENT) dropped.push(slot);
    }
    this.#epoch = Math.max(this.#epoch, epoch);
    return { ok: true, changed: plan.length, dropped };
  }

  /**
   * Points slots this group gave away at their owner now. Every slot must be absent: a group that serves or moves a
   * slot knows better than any coordinator where it is. A slot whose record comes from a move later than `epoch` is
   * left alone, so a stale coordinator's repoint cannot undo newer news; the slot's record and the group's epoch
   * rise to `epoch` (a move at that epoch has happened, so no move may start here at or below it anyway).
   */
  #repoint(slots: readonly number[], peer: number, epoch: number): SlotMoveOutcome {
    for (const slot of slots) {
      const from = this.#state[slot] ?? ABSENT;
      if (from !== ABSENT) {
        return {
          ok: false,
          reason: `slot ${slot}: cannot repoint a slot that is ${STATES[from] ?? 'absent'}: only a slot this group gave away points elsewhere`,
        };
      }
    }
    let changed = 0;
    for (const slot of slots) {
      if ((this.#slotEpoch[slot] ?? 0) > epoch) continue;
      if (this.#peer[slot] !== peer) changed++;
      this.#peer[slot] = peer;
      this.#slotEpoch[slot] = epoch;
    }
    this.#epoch = Math.max(this.#epoch, epoch);
    return { ok: true, changed, dropped: [] };
  }

  /** The state `step` takes a slot to from `from`, or why it cannot. */
  #transition(
    step: Exclude<SlotMoveStep, 'repoint'>,
    slot: number,
    from: number,
    peer: number,
    epoch: number,
  ): number | string {
    const moveEpoch = this.#slotEpoch[slot] ?? 0;
    const sameMove = moveEpoch === epoch;
    const name = STATES[from] ?? 'absent';
    switch (step) {
      case 'import':
        if (from === ABSENT) return epoch > this.#epoch ? IMPORTING : this.#spent(epoch);
        if ((from === IMPORTING || from === IMPORTED) && sameMove && this.#peer[slot] === peer) return from;
        return `cannot import a slot that is ${name}${from >= LEAVING ? ` (epoch ${moveEpoch})` : ''}`;
      case 'freeze':
        if (from === OWNED) return epoch > this.#epoch ? LEAVING : this.#spent(epoch);
        if (from === LEAVING && sameMove && this.#peer[slot] === peer) return LEAVING;
        return `cannot freeze a slot that is ${name}${from === LEAVING ? ` (epoch ${moveEpoch})` : ''}`;
      case 'seal':
        if ((from === IMPORTING || from === IMPORTED) && sameMove) return IMPORTED;
        return `cannot seal at epoch ${epoch} a slot that is ${name} (epoch ${moveEpoch})`;
      case 'activate':
        if (from === IMPORTED && sameMove) return OWNED;
        if (from === IMPORTING && sameMove)
          return `the import at epoch ${epoch} is not sealed: its data is not all in`;
        if (from === OWNED && sameMove) return OWNED;
        return `cannot activate at epoch ${epoch} a slot that is ${name} (epoch ${moveEpoch})`;
      case 'release':
        if (from === LEAVING && sameMove) return ABSENT;
        if (from === ABSENT && sameMove) return ABSENT;
        return `cannot release at epoch ${epoch} a slot that is ${name} (epoch ${moveEpoch})`;
      case 'abort':
        if (from === LEAVING && sameMove) return OWNED;
        if ((from === IMPORTING || from === IMPORTED) && sameMove) return ABSENT;
        if (from === OWNED && sameMove) return `already activated at epoch ${epoch}: too late to abort`;
        if (from === ABSENT && sameMove) return `already released at epoch ${epoch}: too late to abort`;
        return from; // nothing of this move here (never started, or already aborted)
    }
  }

  /**
   * Why a move cannot start here at `epoch` although this group has not yet seen a newer one: it has seen this
   * one. A move's epoch is new to its groups when it starts, so a start at a seen epoch is a move that already ran
   * here — typically aborted, and then restarting it would restart its copy behind a coordinator's back (one that
   * resumes copying after the pages it sent before the abort would seal an incomplete slot). A retry takes a new
   * epoch.
   */
  #spent(epoch: number): string {
    return `epoch ${epoch} is not newer than this group's epoch ${this.#epoch}: a move at that epoch already ran here`;
  }

  #count(code: number, delta: number): void {
    if (code === OWNED) this.#owned += delta;
    else if (code !== ABSENT) this.#moving += delta;
  }
}

function checkSlot(slot: number): number {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT) {
    throw new SlotOwnershipError(`slot ${slot} is outside [0, ${SLOT_COUNT})`);
  }
  return slot;
}

/** Why a request is malformed, or undefined. */
function checkRequest(request: SlotMoveRequest): string | undefined {
  if (!Number.isSafeInteger(request.epoch) || request.epoch < 1) {
    return `epoch ${request.epoch} is not a positive integer`;
  }
  if (!Number.isInteger(request.peer) || request.peer < 0 || request.peer >= NO_PEER) {
    return `peer ${request.peer} is not a shard id`;
  }
  if (request.slots.length === 0) return 'no slots';
  const seen = new Set<number>();
  for (const slot of request.slots) {
    if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT)
      return `slot ${slot} is outside [0, ${SLOT_COUNT})`;
    if (seen.has(slot)) return `slot ${slot} is listed twice`;
    seen.add(slot);
  }
  return undefined;
}
