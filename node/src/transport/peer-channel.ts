// The long-lived gRPC channel to one peer. It is re-resolved before every (re)connect, and replaced only when the
// peer's address changed (a rescheduled pod), so a healthy peer keeps one channel for the process lifetime.
// Channels to the same address with the same options share one HTTP/2 connection through grpc-js's global
// subchannel pool, so several shards' transports to the same node do not multiply connections.

import { type ChannelCredentials, type ChannelOptions, credentials as grpcCredentials } from '@grpc/grpc-js';
import { RaftClient } from '../api/generated/raftstore/v1/raft.js';
import type { NodeId } from '../raft/types.js';
import type { ResolvedTransportOptions, TransportLogger } from './options.js';

const RESPONSE_BYTES_MAX = 64 * 1024; // StreamSummary and SendSnapshotResponse are a few bytes

export function peerChannelOptions(options: ResolvedTransportOptions): ChannelOptions {
  return {
    'grpc.keepalive_time_ms': options.keepalive.timeMs,
    'grpc.keepalive_timeout_ms': options.keepalive.timeoutMs,
    // Raft streams sit idle between heartbeats only briefly, but a follower's channel may carry no call at all.
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_send_message_length': options.limits.maxMessageBytes,
    'grpc.max_receive_message_length': RESPONSE_BYTES_MAX,
    // The channel's own reconnect pacing follows ours, so a peer that comes back is reached within one backoff.
    'grpc.initial_reconnect_backoff_ms': options.backoff.initialMs,
    'grpc.max_reconnect_backoff_ms': options.backoff.maxMs,
  };
}

export class PeerChannel {
  private client: RaftClient | undefined;
  private address: string | undefined;

  constructor(
    private readonly peer: NodeId,
    private readonly resolve: (id: NodeId) => string | undefined,
    private readonly channelOptions: ChannelOptions,
    private readonly credentials: ChannelCredentials = grpcCredentials.createInsecure(),
    private readonly logger: TransportLogger,
  ) {}

  get currentAddress(): string | undefined {
    return this.address;
  }

  /** Re-resolves the peer and returns a client for its current address, or undefined when it has none. */
  connect(): RaftClient | undefined {
    let address: string | undefined;
    try {
      address = this.resolve(this.peer);
    } catch (error) {
      this.logger.warn(
        { peer: this.peer, err: String(error) },
        'resolving peer address threw; treating it as unknown',
      );
      address = undefined;
    }
    if (address === undefined || address === '') return undefined;
    if (this.client !== undefined && address === this.address) return this.client;
    if (this.client !== undefined) {
      this.logger.info(
        { peer: this.peer, from: this.address, to: address },
        'peer address changed; new channel',
      );
      this.client.close(); // calls already running on the old channel finish or fail on their own
    }
    this.address = address;
    this.client = new RaftClient(address, this.credentials, this.channelOptions);
    return this.client;
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }
}
