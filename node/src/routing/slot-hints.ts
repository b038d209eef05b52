// A member's belief of which shard owns each slot it does not serve itself: where to forward a key. Only a hint —
// the owning group's fence decides, at apply time, whether a key is served — so a stale hint costs a hop, never a
// wrong answer. It starts as the even split of the shards the cluster was created with (what every group owns
// before any move) and learns from redirects: a group that gave a slot away names where it went.

import { SLOT_COUNT } from '../../shared/sharding/slot.js';
import { ShardMap, type ShardId, type ShardMapSpec } from '../../shared/sharding/shard-map.js';
import type { SlotOwnershipView, SlotRedirect } from '../sharding/slot-ownership.js';

export class SlotHints {
  readonly #owners: Uint32Array;
  /** Per slot, the map epoch of the redirect its hint came from (0: the creation layout). */
  readonly #epochs: Float64Array;
  #epoch = 0;

  constructor(bootstrapShards: number) {
    const map = ShardMap.even(Array.from({ length: bootstrapShards }, (_, i) => i));
    this.#owners = new Uint32Array(SLOT_COUNT);
    for (let slot = 0; slot < SLOT_COUNT; slot++) this.#owners[slot] = map.shardOfSlot(slot);
    this.#epochs = new Float64Array(SLOT_COUNT);
  }

  ownerOf(slot: number): ShardId {
    return this.#owners[slot] ?? 0;
  }

  /** The highest map epoch learned from any redirect. */
  get epoch(): number {
    return this.#epoch;
  }

  /**
   * Takes the owner a redirect names, unless a redirect of a later epoch already said otherwise (answers of an
   * old move arriving late must not undo a newer one). True when the hint changed.
   */
  learn(redirect: SlotRedirect): boolean {
    const { slot, owner, epoch } = redirect;
    if (owner === undefined || !Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT) return false;
    this.#epoch = Math.max(this.#epoch, epoch);
    if (epoch < (this.#epochs[slot] ?? 0) || this.#owners[slot] === owner) return false;
    this.#owners[slot] = owner;
    this.#epochs[slot] = epoch;
    return true;
  }

  /** The hints as slot ranges. */
  toSpec(): ShardMapSpec {
    return runs((slot) => this.ownerOf(slot), Math.max(1, this.#epoch));
  }

  /**
   * What a member tells a client (KV.SlotMap): the slots its own group serves exactly, where the group knows a slot
   * it gave away went, and the hints for the rest. Epoch 0: no move this member knows of.
   */
  view(ownShard: ShardId, ownership: SlotOwnershipView): ShardMapSpec {
    return runs(
      (slot) => (ownership.serves(slot) ? ownShard : (ownership.redirect(slot).owner ?? this.ownerOf(slot))),
      Math.max(this.#epoch, ownership.epoch),
    );
  }
}

/** Maximal runs of consecutive slots with the same owner, in slot order. */
function runs(ownerOf: (slot: number) => ShardId, epoch: number): ShardMapSpec {
  const ranges: { start: number; end: number; shard: ShardId }[] = [];
  let start = 0;
  let owner = ownerOf(0);
  for (let slot = 1; slot <= SLOT_COUNT; slot++) {
    const next = slot === SLOT_COUNT ? -1 : ownerOf(slot);
    if (next !== owner) {
      ranges.push({ start, end: slot - 1, shard: owner });
      start = slot;
      owner = next;
    }
  }
  return { epoch, ranges };
}
