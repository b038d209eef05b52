// Reads and deletes over a prefix or an interval reach every shard: hashing scatters neighbouring keys over slots.
// The client asks a member for the slot map, sends one request per shard (shard_id set), and merges the answers in
// key order. Each answer says how many slots its group served (slots_served); only when they add up to every slot
// does the merged answer cover the keyspace. Less means a slot moved between groups while the legs ran, or the member
// asked does not know of a group that holds slots now (its view of other groups is only a hint, e.g. a group added by
// a reshard that took nothing from it): the fan-out goes again, bounded, over every shard that any group's own view
// names (each group knows its own slots and where the slots it gave away went), so no key is missed or counted twice.
//
// Not atomic across shards: each leg is its own linearizable read (or delete) in its group. A prefix with a
// complete hash tag ("{user:42}/") lives in one slot and is sent as one routed request instead.

import { Metadata } from '@grpc/grpc-js';
import type { RequestHeader } from '../api/generated/raftstore/v1/common.js';
import type {
  DeleteRequest,
  DeleteResponse,
  KeyValue,
  RangeRequest,
  RangeResponse,
  SlotMapResponse,
} from '../api/generated/raftstore/v1/kv.js';
import { SLOT_COUNT } from '../sharding/slot.js';
import { unary, type FailoverClient } from './failover-client.js';
import { unreachableShardOf } from './shard-unreachable.js';

/** How often a fan-out that raced a slot move is repeated before it gives up. */
export const FAN_OUT_ATTEMPTS = 5;

export class IncompleteFanOutError extends Error {
  override readonly name = 'IncompleteFanOutError';
}

/** Distinct shards the map assigns slots to, ascending. */
export function shardsOf(map: Pick<SlotMapResponse, 'ranges'>): number[] {
  return [...new Set(map.ranges.map((r) => r.shard))].sort((a, b) => a - b);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * The answers of every shard as one: key order, at most `limit` key-values (0 = all that came back), `more` when
 * any shard had more or the limit cut the merge, `count` the sum. Revisions are per shard: the header's is the
 * highest of them.
 */
export function mergeRanges(parts: readonly RangeResponse[], limit: number): RangeResponse {
  const all: KeyValue[] = parts.flatMap((p) => p.kvs).sort((a, b) => compareBytes(a.key, b.key));
  const kvs = limit > 0 ? all.slice(0, limit) : all;
  const revision = Math.max(0, ...parts.map((p) => p.header?.revision ?? 0));
  const first = parts.find((p) => p.header !== undefined)?.header;
  return {
    header: first !== undefined ? { ...first, revision } : undefined,
    kvs,
    more: parts.some((p) => p.more) || kvs.length < all.length,
    count: parts.reduce((sum, p) => sum + p.count, 0),
    slotsServed: parts.reduce((sum, p) => sum + p.slotsServed, 0),
  };
}

async function slotMap(client: FailoverClient, shardId?: number): Promise<SlotMapResponse> {
  return client.kv((c, deadline) =>
    unary<SlotMapResponse>((cb) =>
      c.slotMap(shardId === undefined ? {} : { shardId }, new Metadata(), { deadline }, cb),
    ),
  );
}

/** `call`'s answer, or undefined when the member could not reach `shard` at all (nothing was sent there). */
async function unlessUnreachable<T>(shard: number, call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (unreachableShardOf(err) === shard) return undefined;
    throw err;
  }
}

export interface GroupViews {
  /** Every shard any view names (a retired one too, until no view names it), ascending. */
  readonly shards: number[];
  /** The answering member's view first, then each group's own; groups no member could reach are missing. */
  readonly views: SlotMapResponse[];
}

/**
 * The answering member's view of the map; with `discover`, also the own view of every group any view names, until
 * no new one appears (bounded by MAX_SHARDS). A view may name a shard that no longer exists (a group remembers where
 * it gave slots, not what the receiver did with them later): one that no member can reach is left out.
 */
export async function groupViews(client: FailoverClient, discover: boolean): Promise<GroupViews> {
  const first = await slotMap(client);
  const known = new Set(shardsOf(first));
  const views = [first];
  if (discover) {
    const asked = new Set<number>([first.shardId]);
    while (known.size <= MAX_SHARDS) {
      // Shard ids are dense (a cluster of N shards has 0..N-1, a reshard adds or retires the highest), so every id
      // up to the highest named is a group to ask: one known only to a retired group's view is found that way.
      for (let s = 0; s < Math.max(...known); s++) known.add(s);
      const next = [...known].filter((s) => !asked.has(s));
      if (next.length === 0) break;
      const answers = await Promise.all(next.map((s) => unlessUnreachable(s, slotMap(client, s))));
      for (const s of next) asked.add(s);
      for (const v of answers) {
        if (v === undefined) continue;
        views.push(v);
        for (const s of shardsOf(v)) known.add(s);
      }
    }
  }
  return { shards: [...known].sort((a, b) => a - b), views };
}

/**
 * The shards to ask: on a first attempt those the answering member's view names; after an incomplete one, also
 * every shard named by the view of any group reached that way.
 */
export async function shardsToAsk(client: FailoverClient, discover: boolean): Promise<number[]> {
  return (await groupViews(client, discover)).shards;
}

/** A bound on discovery: far above any real cluster (the operator allows 64 shards). */
const MAX_SHARDS = 1024;

/** A range over every shard, merged (see mergeRanges); throws IncompleteFanOutError if moves kept racing it. */
export async function rangeEveryShard(
  client: FailoverClient,
  request: Omit<RangeRequest, 'shardId'>,
): Promise<RangeResponse> {
  let served = 0;
  for (let attempt = 1; attempt <= FAN_OUT_ATTEMPTS; attempt++) {
    const shards = await shardsToAsk(client, attempt > 1);
    const parts = await Promise.all(
      shards.map(async (shardId) => {
        const part = await unlessUnreachable(
          shardId,
          client.kv((c, deadline) =>
            unary<RangeResponse>((cb) => c.range({ ...request, shardId }, new Metadata(), { deadline }, cb)),
          ),
        );
        // A shard no member can reach serves nothing here: the coverage check below tells whether it held slots.
        return part ?? { header: undefined, kvs: [], more: false, count: 0, slotsServed: 0 };
      }),
    );
    const merged = mergeRanges(parts, request.limit);
    served = merged.slotsServed;
    if (served === SLOT_COUNT) return merged;
  }
  throw new IncompleteFanOutError(
    `the shards' answers covered ${served} of ${SLOT_COUNT} slots ${FAN_OUT_ATTEMPTS} times in a row (slots kept moving); retry`,
  );
}

/**
 * A delete over every shard. Each leg is a write with its own session header; a fan-out that raced a move deletes
 * again on every shard (deleting is idempotent), and `deleted` sums every pass.
 */
export async function deleteEveryShard(
  client: FailoverClient,
  request: Omit<DeleteRequest, 'shardId' | 'header'>,
  nextHeader: (shard: number) => RequestHeader,
): Promise<DeleteResponse> {
  let deleted = 0;
  const prevKvs: KeyValue[] = [];
  let served = 0;
  for (let attempt = 1; attempt <= FAN_OUT_ATTEMPTS; attempt++) {
    const shards = await shardsToAsk(client, attempt > 1);
    const parts = await Promise.all(
      shards.map(async (shardId) => {
        const header = nextHeader(shardId);
        const part = await unlessUnreachable(
          shardId,
          client.kv((c, deadline) =>
            unary<DeleteResponse>((cb) =>
              c.delete({ ...request, shardId, header }, new Metadata(), { deadline }, cb),
            ),
          ),
        );
        return part ?? { header: undefined, deleted: 0, prevKvs: [], slotsServed: 0 };
      }),
    );
    for (const p of parts) {
      deleted += p.deleted;
      prevKvs.push(...p.prevKvs);
    }
    served = parts.reduce((sum, p) => sum + p.slotsServed, 0);
    if (served === SLOT_COUNT) {
      prevKvs.sort((a, b) => compareBytes(a.key, b.key));
      return {
        header: parts.find((p) => p.header !== undefined)?.header,
        deleted,
        prevKvs,
        slotsServed: served,
      };
    }
  }
  throw new IncompleteFanOutError(
    `the shards' deletes covered ${served} of ${SLOT_COUNT} slots ${FAN_OUT_ATTEMPTS} times in a row (slots kept moving); retry`,
  );
}
