// Forwards a write (or an admin request) received by a follower to the leader's peer endpoint (which serves KV and
// Cluster too: founding members know each other only by peer address), so any member behind a Kubernetes
// Service can serve any request. One long-lived channel per leader address; a forwarded request is marked so the
// receiver never forwards it again (no loops during leader changes).
import {
  Metadata,
  status,
  type CallOptions,
  type ChannelCredentials,
  type ServiceError,
} from '@grpc/grpc-js';
import { ClusterClient } from '../../shared/api/generated/raftstore/v1/cluster.js';
import { KVClient } from '../../shared/api/generated/raftstore/v1/kv.js';
import { StatusError } from './grpc-errors.js';

export const FORWARDED_HEADER = 'x-raftstore-forwarded';

/** gRPC channel options for member-to-member client calls: bounded sizes and keepalive. */
export function memberChannelOptions(maxMessageBytes: number): Record<string, number> {
  return {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': 5_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 2_000,
  };
}

type Invoke<Res> = (
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

export class LeaderForwarder {
  private readonly kv = new Map<string, KVClient>();
  private readonly cluster = new Map<string, ClusterClient>();

  constructor(
    private readonly timeoutMs: number,
    private readonly maxMessageBytes: number,
    /** How channels to other members are secured (shared/security/transport-security.ts). */
    private readonly credentials: ChannelCredentials,
  ) {}

  kvClient(address: string): KVClient {
    let client = this.kv.get(address);
    if (!client) {
      client = new KVClient(address, this.credentials, memberChannelOptions(this.maxMessageBytes));
      this.kv.set(address, client);
    }
    return client;
  }

  clusterClient(address: string): ClusterClient {
    let client = this.cluster.get(address);
    if (!client) {
      client = new ClusterClient(address, this.credentials, memberChannelOptions(this.maxMessageBytes));
      this.cluster.set(address, client);
    }
    return client;
  }

  /**
   * Makes one call (through `invoke`) with a deadline (the forwarder's, unless given) and the forwarded mark. A call that never left this process
   * because no connection to the leader could be made (it is down) fails as not applied, so the caller may wait for
   * the next leader and try there.
   */
  call<Res>(invoke: Invoke<Res>, timeoutMs = this.timeoutMs): Promise<Res> {
    const metadata = new Metadata();
    metadata.set(FORWARDED_HEADER, '1');
    return new Promise<Res>((resolve, reject) => {
      invoke(metadata, { deadline: Date.now() + timeoutMs }, (error, response) => {
        if (error)
          reject(
            neverSent(error)
              ? new StatusError(status.UNAVAILABLE, `the leader is unreachable: ${error.details}`, true)
              : error,
          );
        else resolve(response);
      });
    });
  }

  close(): void {
    for (const c of this.kv.values()) c.close();
    for (const c of this.cluster.values()) c.close();
    this.kv.clear();
    this.cluster.clear();
  }
}

/**
 * grpc-js fails a call in its picker, before anything is written to a connection, with UNAVAILABLE and one of these
 * texts when the channel has no connection (refused, reset before the call) or its name resolves to no address
 * (say, a Service that was deleted): the request certainly did not arrive.
 */
const NEVER_SENT_PREFIXES = ['No connection established', 'Name resolution failed'];

export function neverSent(error: Partial<ServiceError>): boolean {
  const details = error.details;
  return (
    error.code === status.UNAVAILABLE &&
    typeof details === 'string' &&
    NEVER_SENT_PREFIXES.some((p) => details.startsWith(p))
  );
}

export function isForwarded(metadata: Metadata): boolean {
  return metadata.get(FORWARDED_HEADER).length > 0;
}
