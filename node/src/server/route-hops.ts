// How many members have forwarded a request to another shard already: carried as request metadata (and in each
// item of a Forward stream), bounded by the receiver's routing so stale hints cannot bounce a request forever.
import type { Metadata } from '@grpc/grpc-js';

/** Request metadata: how many members forwarded this request to another shard already. */
export const ROUTE_HOPS_HEADER = 'x-raftstore-route-hops';

/** The hop count a request arrived with (0 from a client; garbage counts as the bound, so it is not forwarded). */
export function hopsOf(metadata: Metadata, maxHops: number): number {
  const raw = metadata.get(ROUTE_HOPS_HEADER)[0];
  if (raw === undefined) return 0;
  const n = Number(String(raw));
  return Number.isSafeInteger(n) && n >= 0 ? n : maxHops;
}
