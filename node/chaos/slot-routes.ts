// Where a chaos client sends a key in a sharded cluster, and what it does when a group refuses it. Pure: the
// client's belief of which shard serves each slot, and the decision after a refusal; routed-kv.ts does the I/O.
//
// The client names the shard of every request (its session lives in that group's table), so it must know the
// owner itself: it starts from the creation layout, takes the owner a wrong-shard redirect names, and otherwise
// asks the members (each answers its own group's slots exactly). A slot refusal ("moving", "wrong shard") means
// the group applied nothing, so the request may go again; anything else ends the operation with an unknown
// outcome, exactly as in a cluster of one shard: the harness never sends a write twice once it may have applied.
import type { ShardMap, ShardId } from '../shared/sharding/shard-map.js';
import { SLOT_COUNT } from '../shared/sharding/slot.js';
import type { SlotRefusal } from './kv-session.js';

/** One member's SlotMap answer: its group, and ranges (its own group's exact, the rest hints). */
export interface SlotMapAnswer {
  readonly shardId: number;
  readonly ranges: readonly { readonly start: number; readonly end: number; readonly shard: number }[];
}

export class SlotRoutes {
  readonly #owners = new Uint32Array(SLOT_COUNT);

  /** Starts from the layout the cluster was created with (what every group owns before any move). */
  constructor(creation: ShardMap) {
    for (let slot = 0; slot < SLOT_COUNT; slot++) this.#owners[slot] = creation.shardOfSlot(slot);
  }

  ownerOf(slot: number): ShardId {
    return this.#owners[slot] ?? 0;
  }

  /** A redirect named the owner. */
  learn(slot: number, owner: ShardId): void {
    if (Number.isInteger(slot) && slot >= 0 && slot < SLOT_COUNT) this.#owners[slot] = owner;
  }

  /**
   * Takes, from each answer, the slots the answering member's own group serves: exact as far as that member has
   * applied. Hints about other groups are ignored (a member's hint can name a shard that has since been removed);
   * a slot nobody claims (in motion) keeps its current belief. Returns how many slots changed owner.
   */
  adoptClaims(answers: readonly SlotMapAnswer[]): number {
    let changed = 0;
    for (const answer of answers) {
      for (const range of answer.ranges) {
        if (range.shard !== answer.shardId) continue;
        for (let slot = Math.max(0, range.start); slot <= Math.min(SLOT_COUNT - 1, range.end); slot++) {
          if (this.#owners[slot] !== range.shard) changed++;
          this.#owners[slot] = range.shard;
        }
      }
    }
    return changed;
  }
}

/** Bounds on one routed operation: like the client library's router (key-router.ts). */
export interface RouteBudget {
  /** Wrong-shard answers followed before giving up. */
  readonly maxReroutes: number;
  /** How long a slot in motion is waited out, in all. */
  readonly movingBudgetMs: number;
  readonly pauseMaxMs: number;
}

export const ROUTE_BUDGET: RouteBudget = { maxReroutes: 4, movingBudgetMs: 10_000, pauseMaxMs: 500 };

export type NextAttempt =
  /** Wait `pauseMs` and ask the same shard again (the move ends in a bounded time). */
  | { readonly kind: 'wait'; readonly pauseMs: number }
  /** Ask `owner` (the redirect named it), or, without an owner, refresh the routes first. */
  | { readonly kind: 'reroute'; readonly owner: ShardId | undefined }
  /** Stop: the outcome is unknown (or, for a refusal we stopped following, known not applied: recorded unknown). */
  | { readonly kind: 'giveUp'; readonly why: string };

/**
 * What to do after a failed attempt sent to `shard`. `refusal` is undefined for any failure that is not a slot
 * refusal (deadline, member down, session refused): the write may have applied, so it is never sent again.
 */
export function nextAttempt(
  refusal: SlotRefusal | undefined,
  state: {
    readonly shard: ShardId;
    readonly reroutes: number;
    readonly pauseMs: number;
    readonly leftMs: number;
  },
  budget: RouteBudget = ROUTE_BUDGET,
): NextAttempt {
  if (refusal === undefined) return { kind: 'giveUp', why: 'not a slot refusal: the outcome is unknown' };
  if (refusal.kind === 'moving') {
    if (state.pauseMs > state.leftMs) return { kind: 'giveUp', why: 'the slot stayed in motion too long' };
    return { kind: 'wait', pauseMs: state.pauseMs };
  }
  if (state.reroutes >= budget.maxReroutes) {
    return { kind: 'giveUp', why: `${budget.maxReroutes} wrong-shard answers in a row` };
  }
  // The shard the routes named could not be reached at all: look the owner up from the groups themselves.
  if (refusal.kind === 'unreachable') return { kind: 'reroute', owner: undefined };
  // A redirect back to the shard just asked (a lagging member's answer) teaches nothing: look the owner up.
  const owner = refusal.owner !== undefined && refusal.owner !== state.shard ? refusal.owner : undefined;
  return { kind: 'reroute', owner };
}
