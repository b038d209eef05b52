// A member asked to forward a request to a shard it cannot reach at all (no address resolves or accepts a
// connection, e.g. the shard was retired by a reshard and its Service is gone) answers UNAVAILABLE with this
// trailer naming the shard. The request was never sent there, so nothing was applied: a router looks the slot's
// owner up again from the groups themselves and re-sends, and a fan-out counts that shard as serving nothing (its
// coverage check then tells a shard that is merely down from one that owns no slot any more).
import type { ServiceError } from '@grpc/grpc-js';

export const SHARD_UNREACHABLE_HEADER = 'x-raftstore-shard-unreachable';

/** The shard a member could not reach, when `err` is that answer. */
export function unreachableShardOf(err: unknown): number | undefined {
  const raw = (err as Partial<ServiceError> | undefined)?.metadata?.get(SHARD_UNREACHABLE_HEADER)[0];
  if (raw === undefined) return undefined;
  const shard = Number(String(raw));
  return Number.isSafeInteger(shard) && shard >= 0 ? shard : undefined;
}
