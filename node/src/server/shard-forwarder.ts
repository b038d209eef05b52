// Sends a client request on to a member of another shard: the I/O half of routing (route.ts decides). One channel
// per endpoint; a request goes to the shard's endpoints in turn, moving on only when a call certainly never left
// this process (no connection), so a write is never sent twice by this member. Every forwarded request carries its
// hop count, which the receiver's routing bounds.

import { Metadata, status, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import type { KVClient } from '../../shared/api/generated/raftstore/v1/kv.js';
import { endpointsOf, type ShardEndpoints } from '../../shared/config/shard-endpoints.js';
import { ShardUnreachableError, StatusError } from './grpc-errors.js';
import { neverSent } from './leader-forwarder.js';

/** Request metadata: how many members forwarded this request to another shard already. */
export const ROUTE_HOPS_HEADER = 'x-raftstore-route-hops';

/** The hop count a request arrived with (0 from a client; garbage counts as the bound, so it is not forwarded). */
export function hopsOf(metadata: Metadata, maxHops: number): number {
  const raw = metadata.get(ROUTE_HOPS_HEADER)[0];
  if (raw === undefined) return 0;
  const n = Number(String(raw));
  return Number.isSafeInteger(n) && n >= 0 ? n : maxHops;
}

/** One KV call on a given client, in grpc-js's callback style. */
export type KvInvoke<Res> = (
  client: KVClient,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/** Where the forwarder gets a channel to an address: the member's one cache of KV channels (LeaderForwarder). */
export interface KvChannels {
  kvClient(address: string): KVClient;
}

export class ShardForwarder {
  /** Per shard, the endpoint to try first: the last one that answered. */
  private readonly preferred = new Map<number, number>();

  constructor(
    private readonly endpoints: ShardEndpoints,
    private readonly timeoutMs: number,
    private readonly channels: KvChannels,
  ) {}

  canReach(shard: number): boolean {
    return endpointsOf(this.endpoints, shard).length > 0;
  }

  async call<Res>(shard: number, hops: number, invoke: KvInvoke<Res>): Promise<Res> {
    const addresses = endpointsOf(this.endpoints, shard);
    if (addresses.length === 0) {
      throw new StatusError(status.FAILED_PRECONDITION, `no address is configured for shard ${shard}`, true);
    }
    const first = this.preferred.get(shard) ?? 0;
    let lastError: ServiceError | undefined;
    for (let i = 0; i < addresses.length; i++) {
      const index = (first + i) % addresses.length;
      const address = addresses[index]!;
      try {
        const response = await this.once(address, hops, invoke);
        this.preferred.set(shard, index);
        return response;
      } catch (err) {
        const e = err as ServiceError;
        if (!neverSent(e)) throw err;
        lastError = e;
      }
    }
    throw new ShardUnreachableError(
      shard,
      `no member of shard ${shard} could be reached (${addresses.join(', ')}): ${lastError?.details ?? 'no answer'}; ` +
        'the request was not sent',
    );
  }

  private once<Res>(address: string, hops: number, invoke: KvInvoke<Res>): Promise<Res> {
    const metadata = new Metadata();
    metadata.set(ROUTE_HOPS_HEADER, String(hops + 1));
    return new Promise<Res>((resolve, reject) => {
      invoke(
        this.channels.kvClient(address),
        metadata,
        { deadline: Date.now() + this.timeoutMs },
        (error, response) => (error ? reject(error) : resolve(response)),
      );
    });
  }
}
