// Sends a client request on to a member of another shard: the I/O half of routing (route.ts decides). Requests
// travel over one long-lived stream per endpoint (forward-stream.ts); a request goes to the shard's endpoints in
// turn, moving on only when it certainly was not applied (no connection, or refused by a member that is stopping),
// so a write is never applied twice through this member. Every forwarded request carries its hop count, which the receiver's routing bounds.

import { status, type ServiceError } from '@grpc/grpc-js';
import { endpointsOf, type ShardEndpoints } from '../../shared/config/shard-endpoints.js';
import {
  isMemberStopping,
  type ForwardCase,
  type ForwardTransport,
  type ReplyOf,
  type RequestOf,
} from './forward-stream.js';
import { ShardUnreachableError, StatusError } from './grpc-errors.js';
import { neverSent } from './leader-forwarder.js';

export class ShardForwarder {
  /** Per shard, the endpoint to try first: the last one that answered. */
  private readonly preferred = new Map<number, number>();

  constructor(
    private readonly endpoints: ShardEndpoints,
    private readonly timeoutMs: number,
    private readonly transport: ForwardTransport,
  ) {}

  canReach(shard: number): boolean {
    return endpointsOf(this.endpoints, shard).length > 0;
  }

  /** `hops`: forwards along the request's path before this one. */
  async call<C extends ForwardCase>(shard: number, hops: number, request: RequestOf<C>): Promise<ReplyOf<C>> {
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
        const reply = await this.transport.send(address, hops + 1, request, this.timeoutMs);
        this.preferred.set(shard, index);
        if (reply.$case !== request.$case) {
          throw new StatusError(
            status.INTERNAL,
            `${address} answered a ${request.$case} with a ${reply.$case}`,
          );
        }
        return reply as ReplyOf<C>;
      } catch (err) {
        const e = err as ServiceError;
        // Never sent, or refused unapplied by a member that is stopping: the next member may take it.
        if (!neverSent(e) && !isMemberStopping(e)) throw err;
        lastError = e;
      }
    }
    throw new ShardUnreachableError(
      shard,
      `no member of shard ${shard} could be reached (${addresses.join(', ')}): ${lastError?.details ?? 'no answer'}; ` +
        'the request was not sent',
    );
  }
}
