// Slot -> shard ownership. Immutable: every change returns a new map with a higher epoch, so a router holding an
// older map can tell it is stale (a member answers "wrong shard, epoch N") and refetch. `rebalance` is the plan of a
// reshard: the members use the map for routing hints, the operator to choose which slots move where.

import { keySlot, SLOT_COUNT } from './slot.js';

/** A shard's id, the `shard_id` (uint32) of every API request. */
export type ShardId = number;

export const DEFAULT_SHARD: ShardId = 0;

/** Slots [start, end] (inclusive both ends, like Redis' CLUSTER SLOTS) owned by one shard. */
export interface SlotRange {
  readonly start: number;
  readonly end: number;
  readonly shard: ShardId;
}

/** The serialisable form of a map (e.g. in a ConfigMap or a CRD status). */
export interface ShardMapSpec {
  readonly epoch: number;
  readonly ranges: readonly SlotRange[];
}

export interface SlotMove {
  readonly slot: number;
  readonly from: ShardId;
  readonly to: ShardId;
}

export class ShardMapError extends Error {
  override readonly name = 'ShardMapError';
}

const MAX_SHARD_ID = 0xffff_ffff;

function checkShardId(shard: ShardId): void {
  if (!Number.isInteger(shard) || shard < 0 || shard > MAX_SHARD_ID) {
    throw new ShardMapError(`shard id ${shard} is not a uint32`);
  }
}

function checkSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT) {
    throw new ShardMapError(`slot ${slot} is outside [0, ${SLOT_COUNT})`);
  }
}

function checkEpoch(epoch: number): void {
  if (!Number.isSafeInteger(epoch) || epoch < 1)
    throw new ShardMapError(`epoch ${epoch} is not a positive integer`);
}

function distinctSorted(shards: readonly ShardId[]): ShardId[] {
  for (const shard of shards) checkShardId(shard);
  const sorted = [...new Set(shards)].sort((a, b) => a - b);
  if (sorted.length !== shards.length)
    throw new ShardMapError(`duplicate shard ids in [${shards.join(', ')}]`);
  if (sorted.length === 0) throw new ShardMapError('at least one shard is required');
  if (sorted.length > SLOT_COUNT)
    throw new ShardMapError(`more shards (${sorted.length}) than slots (${SLOT_COUNT})`);
  return sorted;
}

/** How many slots each shard should own for an even spread: the lowest ids take the remainder, one each. */
function targetCounts(shards: readonly ShardId[]): Map<ShardId, number> {
  const base = Math.floor(SLOT_COUNT / shards.length);
  const extra = SLOT_COUNT % shards.length;
  return new Map(shards.map((shard, i) => [shard, base + (i < extra ? 1 : 0)]));
}

export class ShardMap {
  readonly #owners: Uint32Array;
  readonly epoch: number;

  private constructor(owners: Uint32Array, epoch: number) {
    this.#owners = owners;
    this.epoch = epoch;
  }

  /** Every slot owned by one shard: the default for a new cluster. */
  static single(shard: ShardId = DEFAULT_SHARD): ShardMap {
    checkShardId(shard);
    return new ShardMap(new Uint32Array(SLOT_COUNT).fill(shard), 1);
  }

  /** Contiguous, even ranges over the given shards in ascending id order. */
  static even(shards: readonly ShardId[]): ShardMap {
    const sorted = distinctSorted(shards);
    const owners = new Uint32Array(SLOT_COUNT);
    let slot = 0;
    for (const [shard, count] of targetCounts(sorted)) {
      owners.fill(shard, slot, slot + count);
      slot += count;
    }
    return new ShardMap(owners, 1);
  }

  /** Parses the serialisable form; every slot must be covered exactly once. */
  static fromSpec(spec: ShardMapSpec): ShardMap {
    checkEpoch(spec.epoch);
    const owners = new Uint32Array(SLOT_COUNT);
    const covered = new Uint8Array(SLOT_COUNT);
    for (const range of spec.ranges) {
      checkSlot(range.start);
      checkSlot(range.end);
      checkShardId(range.shard);
      if (range.end < range.start)
        throw new ShardMapError(`slot range [${range.start}, ${range.end}] is reversed`);
      for (let slot = range.start; slot <= range.end; slot++) {
        if (covered[slot] === 1) throw new ShardMapError(`slot ${slot} is assigned more than once`);
        covered[slot] = 1;
        owners[slot] = range.shard;
      }
    }
    const missing = covered.indexOf(0);
    if (missing !== -1) throw new ShardMapError(`slot ${missing} is not assigned to any shard`);
    return new ShardMap(owners, spec.epoch);
  }

  /** The serialisable form: maximal runs of consecutive slots with the same owner, in slot order. */
  toSpec(): ShardMapSpec {
    const ranges: SlotRange[] = [];
    let start = 0;
    for (let slot = 1; slot <= SLOT_COUNT; slot++) {
      if (slot === SLOT_COUNT || this.#owners[slot] !== this.#owners[start]) {
        ranges.push({ start, end: slot - 1, shard: this.shardOfSlot(start) });
        start = slot;
      }
    }
    return { epoch: this.epoch, ranges };
  }

  shardOfSlot(slot: number): ShardId {
    checkSlot(slot);
    return this.#owners[slot] ?? DEFAULT_SHARD; // in range by checkSlot
  }

  shardOfKey(key: Uint8Array | string): ShardId {
    return this.shardOfSlot(keySlot(key));
  }

  /** Distinct shards that own at least one slot, ascending. */
  shards(): ShardId[] {
    return [...new Set(this.#owners)].sort((a, b) => a - b);
  }

  slotsOf(shard: ShardId): number[] {
    const slots: number[] = [];
    this.#owners.forEach((owner, slot) => {
      if (owner === shard) slots.push(slot);
    });
    return slots;
  }

  /** A new map, one epoch later, with the given slots owned by `to`. */
  withSlotsMoved(slots: readonly number[], to: ShardId): ShardMap {
    checkShardId(to);
    const owners = this.#owners.slice();
    for (const slot of slots) {
      checkSlot(slot);
      owners[slot] = to;
    }
    return new ShardMap(owners, this.epoch + 1);
  }

  /** Applies a plan from `rebalance`, checking that every move starts where the map says the slot is. */
  withMoves(moves: readonly SlotMove[]): ShardMap {
    const owners = this.#owners.slice();
    for (const move of moves) {
      checkSlot(move.slot);
      checkShardId(move.to);
      if (owners[move.slot] !== move.from) {
        throw new ShardMapError(`slot ${move.slot} is owned by ${owners[move.slot]}, not ${move.from}`);
      }
      owners[move.slot] = move.to;
    }
    return new ShardMap(owners, this.epoch + 1);
  }
}

/**
 * The fewest slot moves that spread slots evenly over `shards` (which may add new shards and drop old ones).
 * Only slots above a shard's target count move; a dropped shard gives up all of its slots. Deterministic: donors
 * give their highest slots first, receivers are filled in ascending id order, so every member computes the same plan.
 */
export function rebalance(map: ShardMap, shards: readonly ShardId[]): SlotMove[] {
  const targets = targetCounts(distinctSorted(shards));
  const surplus: { slot: number; from: ShardId }[] = [];
  for (const shard of map.shards()) {
    const owned = map.slotsOf(shard);
    const keep = targets.get(shard) ?? 0;
    // Highest slots go first, so a shard's remaining slots stay a low contiguous block when they started as one.
    for (const slot of owned.slice(keep).reverse()) surplus.push({ slot, from: shard });
  }
  surplus.sort((a, b) => a.slot - b.slot);
  const moves: SlotMove[] = [];
  let next = 0;
  for (const [shard, target] of targets) {
    const deficit = target - map.slotsOf(shard).length;
    for (let i = 0; i < deficit; i++) {
      const give = surplus[next++];
      if (give === undefined) throw new ShardMapError('rebalance: surplus and deficit disagree (bug)');
      moves.push({ slot: give.slot, from: give.from, to: shard });
    }
  }
  return moves;
}
