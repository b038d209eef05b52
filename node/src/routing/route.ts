// Where a member sends a client request: its own group, another shard, or nowhere (a clear refusal). Pure: the
// request's slots, what this group serves, the hints and the hop count in, the decision out.
//
// - A request that names its shard (shard_id set: debugging, or one leg of a fan-out) goes there, one hop at most.
// - Otherwise the key decides: a slot this group serves runs here; another slot goes to the shard the group's own
//   ownership names (it knows where a slot it gave away went), else to the hinted owner.
// - Requests reaching several slots run here only when this group serves every slot (a single-shard cluster): a
//   transaction is atomic only inside one group, and a scan over every shard is the client's fan-out.
// - Hops are bounded: a member forwards only while the request has been forwarded fewer than `maxHops` times, so
//   stale hints on both sides cannot bounce a request forever.

import type { OperationSlots } from '../kv/operation-slots.js';

export type Route =
  | { readonly kind: 'local' }
  | { readonly kind: 'forward'; readonly shard: number }
  | { readonly kind: 'refuse'; readonly reason: RouteRefusal; readonly message: string };

export type RouteRefusal = 'crossSlot' | 'spansShards' | 'tooManyHops' | 'misrouted';

export interface RouteInput {
  readonly ownShard: number;
  /** The request's shard_id, when set. */
  readonly explicitShard: number | undefined;
  readonly slots: OperationSlots;
  /** This group serves every slot: a cluster of one shard. */
  readonly servesEverySlot: boolean;
  /** Whether this group serves `slot` (as far as this member has applied). */
  readonly serves: (slot: number) => boolean;
  /** Where this member believes `slot` is served. */
  readonly ownerOf: (slot: number) => number;
  /** Whether this member has an address for `shard` (routing is configured). */
  readonly canReach: (shard: number) => boolean;
  /** How many members forwarded this request already. */
  readonly hops: number;
  readonly maxHops: number;
}

const decoder = new TextDecoder();

function show(key: Uint8Array): string {
  const text = decoder.decode(key.subarray(0, 64));
  return JSON.stringify(key.length > 64 ? `${text}…` : text);
}

export function decideRoute(input: RouteInput): Route {
  const { ownShard, explicitShard, slots } = input;
  // Before anything else, also for a named shard: what runs in a sharded cluster must not depend on two slots
  // happening to share a group today.
  if (slots.kind === 'several' && !input.servesEverySlot) {
    const keys = [...slots.keys].map(([slot, key]) => `${show(key)} (slot ${slot})`);
    return {
      kind: 'refuse',
      reason: 'crossSlot',
      message:
        `a transaction must keep all its keys in one hash slot, and these are in ${slots.keys.size}: ` +
        `${keys.slice(0, 4).join(', ')}${keys.length > 4 ? ', …' : ''}; give related keys one hash tag ({user:42}/a, {user:42}/b)`,
    };
  }
  if (explicitShard !== undefined) {
    if (explicitShard === ownShard) return { kind: 'local' };
    if (input.hops > 0) {
      return {
        kind: 'refuse',
        reason: 'misrouted',
        message: `a request for shard ${explicitShard} was forwarded to a member of shard ${ownShard}: the shard endpoints are misconfigured`,
      };
    }
    if (!input.canReach(explicitShard)) {
      return {
        kind: 'refuse',
        reason: 'misrouted',
        message: `this member serves shard ${ownShard} and has no address for shard ${explicitShard}`,
      };
    }
    return { kind: 'forward', shard: explicitShard };
  }
  switch (slots.kind) {
    case 'unconfined':
      return input.servesEverySlot
        ? { kind: 'local' }
        : {
            kind: 'refuse',
            reason: 'spansShards',
            message:
              'the range may hold keys of every shard: ask each shard (shard_id set) and merge, as raftctl and the ' +
              'TypeScript client do, or confine it to one slot with a hash tag ({tag})',
          };
    case 'several':
      return { kind: 'local' }; // one group serves every slot (checked above)
    case 'one': {
      if (input.serves(slots.slot)) return { kind: 'local' };
      const owner = input.ownerOf(slots.slot);
      // Not reachable, or the hint says this group: let the group's fence answer with its redirect.
      if (owner === ownShard || !input.canReach(owner)) return { kind: 'local' };
      if (input.hops >= input.maxHops) {
        return {
          kind: 'refuse',
          reason: 'tooManyHops',
          message: `slot ${slots.slot} was forwarded ${input.hops} times without reaching its owner; retry shortly`,
        };
      }
      return { kind: 'forward', shard: owner };
    }
  }
}
