// The long-lived gRPC channel to one peer. It is re-resolved before every (re)connect, and replaced when the peer's
// address changed (a rescheduled pod) or when the workers found the channel stale (invalidate()), so a healthy peer
// keeps one channel for the process lifetime.
//
// Why invalidate(): grpc-js resolves a DNS name when the channel starts and again only when a connection fails. When
// every pod restarts at once the IPs shuffle: a stale answer can point a peer's name at another live member, the
// connection to it succeeds, and that member refuses every stream (FAILED_PRECONDITION, wrong member id). The
// channel would keep that connection forever though DNS has long since been corrected. A new channel has a new
// resolver, which looks the name up afresh. Recreation is paced (timeouts.channelRecreateMinIntervalMs per peer).
// Channels to the same address with the same options share one HTTP/2 connection through grpc-js's global
// subchannel pool, so several shards' transports to the same node do not multiply connections.

import { type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { channelCredentials, PLAINTEXT } from '../../shared/security/transport-security.js';
import { RaftClient } from '../../shared/api/generated/raftstore/v1/raft.js';
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
  /** Why the current channel should be replaced at the next connect() the pacing allows; undefined when healthy. */
  private staleReason: string | undefined;
  private recreatedAtMs: number | undefined;

  constructor(
    private readonly peer: NodeId,
    private readonly resolve: (id: NodeId) => string | undefined,
    private readonly channelOptions: ChannelOptions,
    private readonly credentials: ChannelCredentials = channelCredentials(PLAINTEXT, { watch: false }),
    private readonly logger: TransportLogger,
    private readonly now: () => number = Date.now,
    private readonly recreateMinIntervalMs: number = 1_000,
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
    if (this.client !== undefined && address === this.address) {
      if (this.staleReason === undefined || !this.mayRecreate()) return this.client;
      this.logger.info(
        { peer: this.peer, address, reason: this.staleReason },
        'peer channel stale; new channel to resolve the address afresh',
      );
      this.recreatedAtMs = this.now();
    } else if (this.client !== undefined) {
      this.logger.info(
        { peer: this.peer, from: this.address, to: address },
        'peer address changed; new channel',
      );
    }
    this.client?.close(); // calls already running on the old channel finish or fail on their own
    this.staleReason = undefined;
    this.address = address;
    this.client = new RaftClient(address, this.credentials, this.channelOptions);
    return this.client;
  }

  /**
   * The peer behind this channel is not the member addressed, or calls keep failing: replace the channel at the next
   * connect(), as soon as the pacing allows (earlier calls stay on the current one).
   */
  invalidate(reason: string): void {
    if (this.client === undefined) return;
    this.staleReason ??= reason;
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
    this.staleReason = undefined;
  }

  private mayRecreate(): boolean {
    return this.recreatedAtMs === undefined || this.now() - this.recreatedAtMs >= this.recreateMinIntervalMs;
  }
}
